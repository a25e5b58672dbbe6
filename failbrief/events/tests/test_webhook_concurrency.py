"""Fifty deliveries of one failure at once: fifty acknowledgements, one summary."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from failbrief.events.models import FailureEvent
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import dalgo_body, flow_run_id, robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]


# Dalgo's sentence carries no state time: its copies are told apart from a new failure by how soon
# they come (events/intake.py), and fifty at once must still be one event.
@pytest.mark.parametrize("shape", ["robust", "dalgo"])
def test_it_stores_one_summary_for_fifty_identical_webhooks(live_server, default_org, shape):
    body = robust_body("c_subflow") if shape == "robust" else dalgo_body(flow_run_id("c_subflow"), "x")
    with ThreadPoolExecutor(max_workers=25) as pool:
        answers = list(pool.map(lambda _: post_webhook(live_server.url, body), range(50)))

    assert [a.status_code for a in answers] == [202] * 50
    assert sum(not a.json()["duplicate"] for a in answers) == 1
    assert len({a.json()["event_id"] for a in answers}) == 1
    wait_for(lambda: LlmSession.objects.filter(session_status="completed").exists(), timeout=10)
    assert FailureEvent.objects.count() == 1
    assert LlmSession.objects.count() == 1
