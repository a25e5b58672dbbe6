"""failbrief_webhook_to_summary_seconds counts each stored summary once, however many copies of its
task ran."""

from __future__ import annotations

import pytest

from failbrief.events.models import FailureEvent
from failbrief.metrics.tests.reading import Samples, samples, value
from failbrief.orgs.manage import add_org
from failbrief.summarize.models import LlmSession
from failbrief.summarize.pipeline import Timer, complete
from failbrief.summarize.store import claim_summary

pytestmark = pytest.mark.django_db
RUN = "0b59dfe2-2741-41e2-8685-dbc036b23e5d"
STORED = "failbrief_webhook_to_summary_seconds_count"


def scrape(client) -> Samples:
    return samples(client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode())


def test_two_copies_of_one_task_count_the_summary_they_stored_once(client):
    """Redis redelivers a task whose visibility timeout passed while it still ran: both copies
    summarize the unit under one task id, and only the first one's completion stores it."""
    org = add_org("acme")
    event = FailureEvent.objects.create(raw_body="{}", shape="dalgo", flow_run_id=RUN, state_name="Failed")
    first, _ = claim_summary(org, RUN, "task", "celery-task-1", event=event)
    second, mine = claim_summary(org, RUN, "task", "celery-task-1", event=event)
    assert mine
    before = value(scrape(client), STORED, summarizer="offline")
    brief = {"summarizer": "offline", "category": "unknown", "root_cause": "x"}

    complete(first, dict(brief), Timer())
    complete(second, dict(brief), Timer())

    assert LlmSession.objects.get(pk=first.pk).session_status == "completed"
    assert value(scrape(client), STORED, summarizer="offline") == before + 1
