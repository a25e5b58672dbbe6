"""Summary rows are claimed once and never left running: the rules that make "exactly once" hold."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from failbrief.condense.redact import REDACTED
from failbrief.condense.tests.test_secret_corpus import KINDS, leaked
from failbrief.events.intake import events_to_requeue
from failbrief.events.models import FailureEvent
from failbrief.orgs.manage import add_org
from failbrief.summarize.models import LlmSession
from failbrief.summarize.store import claim_summary, complete_summary, fail_stuck_summaries, fail_summary

pytestmark = pytest.mark.django_db
RUN = "0b59dfe2-2741-41e2-8685-dbc036b23e5d"


@pytest.fixture
def org():
    return add_org("acme")


def test_the_first_claim_owns_the_row_and_a_second_worker_does_not(org):
    row, mine = claim_summary(org, RUN, "task", "worker-1")
    again, theirs = claim_summary(org, RUN, "task", "worker-2")
    assert (mine, theirs) == (True, False)
    assert again.pk == row.pk
    assert LlmSession.objects.count() == 1


def test_a_redelivered_task_takes_its_own_running_row_back(org):
    claim_summary(org, RUN, "task", "worker-1")
    _, mine = claim_summary(org, RUN, "task", "worker-1")
    assert mine


def test_a_failed_row_may_be_retried_and_a_completed_one_is_reused(org):
    row, _ = claim_summary(org, RUN, "failing", "w1")
    fail_summary(row, "Prefect said no")
    retried, mine = claim_summary(org, RUN, "failing", "w2")
    assert mine
    assert (retried.session_status, retried.error_reason) == ("running", "")
    done, _ = claim_summary(org, RUN, "done", "w1")
    complete_summary(done, root_cause="x")
    _, mine_again = claim_summary(org, RUN, "done", "w3")
    assert not mine_again


def test_two_copies_of_one_task_complete_a_row_once_and_neither_fails(org):
    """Redis redelivers a task whose visibility timeout passed while it still runs elsewhere: both
    copies hold the row under one task id. The first completion stands; the second is a no-op."""
    first, _ = claim_summary(org, RUN, "task", "celery-task-1")
    second, mine = claim_summary(org, RUN, "task", "celery-task-1")
    assert mine
    complete_summary(first, root_cause="from the first copy")
    complete_summary(second, root_cause="from the second copy")
    first.refresh_from_db()
    assert (first.session_status, first.root_cause) == ("completed", "from the first copy")


def test_completing_a_row_another_task_took_over_is_an_error(org, settings):
    settings.STUCK_AFTER_SECONDS = 60
    mine, _ = claim_summary(org, RUN, "task", "w1")
    LlmSession.objects.filter(pk=mine.pk).update(updated_at=timezone.now() - timedelta(seconds=120))
    theirs, took_over = claim_summary(org, RUN, "task", "w2")
    assert took_over
    complete_summary(theirs, root_cause="w2's")
    with pytest.raises(RuntimeError, match="no longer running"):
        complete_summary(mine, root_cause="w1's, too late")


def test_rows_stuck_running_past_the_deadline_are_failed_with_the_reason(org, settings):
    settings.STUCK_AFTER_SECONDS = 60
    stuck, _ = claim_summary(org, RUN, "stuck", "w1")
    fresh, _ = claim_summary(org, RUN, "fresh", "w1")
    LlmSession.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(seconds=120))
    assert fail_stuck_summaries() == 1
    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.session_status == "failed"
    assert "within 60 s" in stuck.error_reason
    assert fresh.session_status == "running"


def test_beat_requeues_pending_events_nobody_published_and_abandoned_ones(settings):
    settings.REQUEUE_AFTER_SECONDS = 30
    settings.STUCK_AFTER_SECONDS = 600
    old = timezone.now() - timedelta(seconds=90)
    ancient = timezone.now() - timedelta(seconds=900)

    def event(key: str, **fields: object) -> FailureEvent:
        made = FailureEvent.objects.create(
            raw_body="{}", shape="dalgo", flow_run_id=RUN, state_name="Failed", dedup_key=key
        )
        FailureEvent.objects.filter(pk=made.pk).update(**fields)
        return made

    never_sent = event("a", received_at=old)
    event("b")  # just arrived: its own on-commit publish is still due
    event("c", received_at=old, enqueued_at=timezone.now())  # published moments ago
    abandoned = event("d", received_at=ancient, status="processing", started_at=ancient)
    event("e", received_at=old, status="done")
    assert events_to_requeue() == [abandoned.pk, never_sent.pk]


def test_a_context_is_stored_redacted_whoever_completes_the_row(org):
    [stripe] = [kind for kind in KINDS if kind["kind"] == "stripe-secret-key"]
    row, _ = claim_summary(org, RUN, "task", "w1")
    complete_summary(
        row, root_cause="the Stripe key was refused", context=f"Failed unit: charge\n{stripe['line']}"
    )
    row.refresh_from_db()
    assert "Invalid API Key provided" in row.context
    assert REDACTED in row.context
    assert not any(leaked(secret, row.context) for secret in stripe["secrets"])
