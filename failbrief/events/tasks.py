"""Celery tasks for events: thin; the work is in events/process.py and events/intake.py."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from celery import Task
from django.conf import settings
from django.utils import timezone

from failbrief.celery import app
from failbrief.events.intake import enqueue_event, events_to_requeue
from failbrief.events.models import FailureEvent
from failbrief.events.process import finish_event, summarize_event
from failbrief.events.reconcile import reconcile
from failbrief.events.state import clock
from failbrief.lib.durable_task import durable_task
from failbrief.lib.http import ApiUnavailable
from failbrief.lib.task_retry import retry_or_give_up
from failbrief.runs.configured import prefect_client
from failbrief.runs.diagnose import prefect_trouble
from failbrief.runs.errors import PrefectError, PrefectUnavailable
from failbrief.summarize.models import LlmSession
from failbrief.summarize.store import fail_summary

log = logging.getLogger(__name__)


@durable_task(max_retries=None)
def process_event(self: Task[Any, Any], event_id: int) -> None:
    try:
        with prefect_client() as client:
            summarize_event(event_id, self.request.id or "", client)
    except PrefectUnavailable as exc:
        event = FailureEvent.objects.get(pk=event_id)
        trouble = prefect_trouble(settings.PREFECT_API_URL, exc)
        deadline = event.received_at + timedelta(seconds=settings.RETRY_DEADLINE_SECONDS)

        def give_up(error: ApiUnavailable) -> None:
            reason = (
                f"Prefect unavailable until the retry deadline: {trouble}; gave up at {clock(timezone.now())}"
            )
            finish_event(event, FailureEvent.Status.FAILED, reason)
            fail_rows_of_task(self.request.id or "", reason)

        def note_retry(delay: float) -> None:
            # What the read API and `failbrief events` say while the event waits (events/state.py).
            next_try = timezone.now() + timedelta(seconds=delay)
            FailureEvent.objects.filter(pk=event_id).update(retry_reason=trouble, next_try_at=next_try)

        what = f"event={event_id} Prefect unavailable"
        retry_or_give_up(self, exc, give_up, what=what, deadline=deadline, on_retry=note_retry)


def fail_rows_of_task(worker_task_id: str, reason: str) -> None:
    for row in LlmSession.objects.filter(
        worker_task_id=worker_task_id, session_status=LlmSession.Status.RUNNING
    ):
        fail_summary(row, reason)


@app.task(ignore_result=True)
def requeue_pending_events() -> int:
    """Beat: re-publish events the broker never delivered (it was down when they arrived)."""
    ids = events_to_requeue()
    sent = sum(enqueue_event(event_id) for event_id in ids)
    if ids:
        log.info("requeued %s of %s pending events", sent, len(ids))
    return sent


@app.task(ignore_result=True)
def reconcile_missed_webhooks() -> int:
    """Beat: store an event for every failed flow run whose webhook never reached us (Prefect
    delivers at most once). Prefect being down is logged; the next pass reads the window again."""
    try:
        with prefect_client() as client:
            return reconcile(client).stored
    except PrefectError as exc:
        log.warning("reconciler: Prefect did not answer; the next pass reads the window again: %s", exc)
        return 0
