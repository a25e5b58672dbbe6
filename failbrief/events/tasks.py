"""Celery tasks for events: thin; the work is in events/process.py and events/intake.py."""

from __future__ import annotations

import logging
import random
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
from failbrief.lib.duplicate_task_guard import first_copy
from failbrief.runs.errors import PrefectError, PrefectUnavailable
from failbrief.summarize.models import LlmSession
from failbrief.summarize.pipeline import prefect_client
from failbrief.summarize.store import fail_summary

log = logging.getLogger(__name__)


def backoff_seconds(retries: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, never sooner than the server's Retry-After."""
    ceiling = min(60.0, 2.0 * 2**retries)
    return max(retry_after or 0.0, random.uniform(ceiling / 2, ceiling))


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=None)
def process_event(self: Task[Any, Any], event_id: int) -> None:
    with first_copy(self.request.id or "") as first:
        if not first:
            log.info(
                "event=%s duplicate delivery of task %s dropped: it is running", event_id, self.request.id
            )
            return
        _process_event(self, event_id)


def _process_event(self: Task[Any, Any], event_id: int) -> None:
    try:
        with prefect_client() as client:
            summarize_event(event_id, self.request.id or "", client)
    except PrefectUnavailable as exc:
        event = FailureEvent.objects.get(pk=event_id)
        deadline = event.received_at + timedelta(seconds=settings.RETRY_DEADLINE_SECONDS)
        delay = backoff_seconds(self.request.retries, exc.retry_after)
        if timezone.now() + timedelta(seconds=delay) > deadline:
            reason = f"Prefect unavailable until the retry deadline: {exc}"
            finish_event(event, FailureEvent.Status.FAILED, reason)
            fail_rows_of_task(self.request.id or "", reason)
            return
        log.warning(
            "event=%s Prefect unavailable, retry %s in %.1f s: %s",
            event_id,
            self.request.retries + 1,
            delay,
            exc,
        )
        raise self.retry(exc=exc, countdown=delay) from exc


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
