"""Backfill: summarize the failed flow runs of a past window that have no summary yet.

For an install that missed failures (failbrief was not running yet, a long outage, an org added
later). It reads the window from Prefect like the reconciler does, then summarizes each run that
needs it, one at a time and inline, so the caller's progress is true and the LLM limits hold.

A run is stored as an event of shape `backfill` through the same intake as a webhook, and processed
by `summarize_event` under the worker id `backfill:<run id>`. The id is the resume point: an
interrupted backfill leaves its event `processing` under that id, and the next backfill reclaims it
(and its half-written summary rows) instead of starting over. Summaries are UNIQUE per unit, so a
run is never summarized twice. Backfilled events do not notify: a week of old failures must not
land in Slack at once (notify/trigger.py QUIET_SHAPES).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from django.db import transaction
from django.utils import timezone

from failbrief.events.backfill_plan import Plan, PlannedRun, Status, plan, work_states, worker_id
from failbrief.events.intake import store_notice
from failbrief.events.models import FailureEvent
from failbrief.events.process import claim_event, summarize_event
from failbrief.events.reconcile import notice_for
from failbrief.lib.http import ApiUnavailable, Backoff, with_backoff
from failbrief.runs.errors import PrefectUnavailable
from failbrief.runs.prefect import FlowRun, PrefectClient

__all__ = [
    "BackfillStopped",
    "Outcome",
    "Plan",
    "PlannedRun",
    "Status",
    "plan",
    "summarize_each",
    "worker_id",
]

log = logging.getLogger(__name__)

SHAPE: Literal["backfill"] = "backfill"
# After the client's own quick retries: how often, and after how long (5-10 s, then 10-20 s, then
# 20-40 s, or Prefect's Retry-After), to try a run again while Prefect is away. Then the backfill
# stops; a rerun resumes where it stopped.
PREFECT_BACKOFF = Backoff(retries=3, base=10.0, cap=45.0)
EventStatus = FailureEvent.Status


@dataclass(frozen=True)
class Outcome:
    kind: Literal["summarized", "skipped", "failed"]
    reason: str
    event_id: int | None = None


class BackfillStopped(Exception):
    """Prefect stayed away through every retry of one run. What was done is kept; a rerun resumes."""


def summarize_each(
    client: PrefectClient,
    todo: Sequence[PlannedRun],
    *,
    max_per_minute: int | None = None,
    on_start: Callable[[PlannedRun], None] | None = None,
    backoff: Backoff = PREFECT_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[tuple[PlannedRun, Outcome]]:
    """Summarize the runs one at a time, yielding each outcome as it is known.

    Raises BackfillStopped when Prefect stays away through the retries of one run; KeyboardInterrupt
    passes through. Either way the run in hand stays claimed by its backfill worker id for a rerun."""
    pacer = Pacer(max_per_minute, sleep, clock)
    for planned in todo:
        pacer.wait()
        if on_start:
            on_start(planned)
        yield planned, run_with_retries(client, planned, backoff, sleep)


def run_with_retries(
    client: PrefectClient,
    planned: PlannedRun,
    backoff: Backoff = PREFECT_BACKOFF,
    sleep: Callable[[float], None] = time.sleep,
) -> Outcome:
    """run_one, tried again while Prefect is unavailable, as `backoff` says; then BackfillStopped."""

    def retrying(exc: ApiUnavailable, wait: float) -> None:
        log.warning("backfill: Prefect unavailable on run %s, again in %.0f s: %s", planned.run.id, wait, exc)

    try:
        return with_backoff(lambda: run_one(client, planned), backoff, sleep, on_retry=retrying)
    except PrefectUnavailable as exc:
        why = f"Prefect did not answer in {backoff.retries + 1} tries on run {planned.run.id}: {exc}"
        raise BackfillStopped(why) from exc


def run_one(client: PrefectClient, planned: PlannedRun) -> Outcome:
    """Summarize one run inline: store (or reopen) its event as a backfill, then process it.

    Skipped when the database now says there is nothing to do (a parent's summary covered it, a
    webhook arrived). PrefectUnavailable propagates with the event still ours, for a retry."""
    run = planned.run
    work = work_states([run.id])[run.id]
    if work.status is not Status.TO_SUMMARIZE:
        return Outcome("skipped", f"{work.status}: {work.note}".rstrip(": "))
    worker = worker_id(run.id)
    event = _event_for(run, worker)
    if event is None:
        return Outcome("skipped", "a worker has its event")
    summarize_event(event.pk, worker, client)
    return _outcome(event.pk, worker)


def _event_for(run: FlowRun, worker: str) -> FailureEvent | None:
    """The run's event, claimed under `worker`: a new one of shape backfill, ours from an
    interrupted backfill, or a finished one reopened for another try. None when a worker has it."""
    with transaction.atomic():
        # Not enqueued: this command processes it; claimed in the same transaction so a worker
        # never sees it unclaimed.
        notice = replace(notice_for(run), shape=SHAPE)
        event, duplicate = store_notice(_raw_body(run), notice, None, enqueue=False)
        if not duplicate:
            claim_event(event.pk, worker)
            return event
    if event.status == EventStatus.PROCESSING:
        return event  # ours, or stuck: summarize_event's claim decides
    return event if _reopen(event, worker) else None


def _reopen(event: FailureEvent, worker: str) -> bool:
    """Take back a finished event of a run that still needs a summary (it failed, found no org
    then, or its rows failed). It becomes a backfill event: its failure was never announced, and
    announcing it days later is what backfill must not do."""
    retryable = [EventStatus.FAILED, EventStatus.UNMATCHED, EventStatus.DONE]
    reopened = FailureEvent.objects.filter(pk=event.pk, status__in=retryable).update(
        status=EventStatus.PROCESSING,
        shape=SHAPE,
        worker_task_id=worker,
        started_at=timezone.now(),
        finished_at=None,
    )
    return reopened == 1


def _outcome(event_id: int, worker: str) -> Outcome:
    event = FailureEvent.objects.get(pk=event_id)
    if event.worker_task_id != worker:
        return Outcome("skipped", f"event {event_id} is being processed by {event.worker_task_id}", event_id)
    if event.status == EventStatus.DONE:
        return Outcome("summarized", event.status_reason, event_id)
    if event.status == EventStatus.IGNORED:
        return Outcome("skipped", event.status_reason, event_id)  # retried and completed meanwhile
    return Outcome("failed", f"{event.status}: {event.status_reason}", event_id)


def _raw_body(run: FlowRun) -> bytes:
    # Stored as the event's raw body, so an operator sees where the event came from.
    fields = {"id", "name", "state_type", "state_name", "end_time", "deployment_id", "parent_task_run_id"}
    return json.dumps({"source": SHAPE, "flow_run": run.model_dump(mode="json", include=fields)}).encode()


@dataclass
class Pacer:
    """Spaces starts at least 60/N seconds apart; None means no spacing."""

    per_minute: int | None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    _next: float | None = field(default=None, init=False)

    def wait(self) -> None:
        if not self.per_minute:
            return
        now = self.clock()
        if self._next is not None and now < self._next:
            self.sleep(self._next - now)
            now = self._next
        self._next = now + 60.0 / self.per_minute
