"""The missed-webhook reconciler: Prefect delivers an automation's webhook at most once.

With failbrief down or unreachable, `call-webhook` makes one attempt, records
`prefect.automation.action.failed` and never retries (docs/prefect-behaviour.md §4). So beat asks
Prefect every RECONCILE_EVERY_SECONDS for the flow runs that failed (runs/states.py: Failed,
Crashed, TimedOut, Dalgo's Completed-but-tests-failed `DBT_TEST_FAILED`) since the watermark, less
RECONCILE_OVERLAP_SECONDS, and stores an event for each run we have none for, through the same
intake as a webhook. A lost webhook then costs at most one interval.

A webhook and the reconciler racing on one run are safe: a run's robust, raw-event or Prefect
notification-text webhook and the reconciler's notice share the dedup key (run, state, state
timestamp), and summaries are UNIQUE per unit, so even two events for one run (a Dalgo body carries
no timestamp) end in one summary.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from failbrief.events.intake import store_notice
from failbrief.events.models import FailureEvent, ReconcilerWatermark
from failbrief.events.parse import FailureNotice
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.runs.states import FAILURE_NAMES_OF_OTHER_TYPES

log = logging.getLogger(__name__)

WATERMARK = "prefect-failed-flow-runs"
PAGE = 200  # the most Prefect answers at once
MAX_PAGES = 25  # per query and pass: 5,000 failed runs a minute is beyond any install we serve
# A Dalgo-shaped webhook carries no state timestamp; one received this close to the state (our clock
# against Prefect's) is taken to be about it.
SAME_STATE_SLACK = timedelta(seconds=60)

Fetch = Callable[[datetime, datetime, int], list[FlowRun]]
Read = Callable[[Fetch, datetime, datetime], tuple[list[FlowRun], bool]]


@dataclass(frozen=True)
class Reconciled:
    """One pass: the window read, how many runs it held, how many had no event (now stored)."""

    since: datetime
    until: datetime
    runs: int
    stored: int
    complete: bool  # False when MAX_PAGES cut a query short: the oldest runs were not read


def reconcile(client: PrefectClient, now: datetime | None = None) -> Reconciled:
    """Read the window, store the missing events (each enqueued on commit), move the watermark.

    Prefect errors propagate and leave the watermark where it was, so the window is read again."""
    until = now or timezone.now()
    since = window_start(until)
    runs, complete = failed_runs_between(client, since, until)
    stored = sum(store_if_missing(run) for run in runs)
    advance_watermark(until)
    done = Reconciled(since, until, len(runs), stored, complete)
    _log(done)
    return done


def window_start(until: datetime) -> datetime:
    """The watermark less the overlap; the first pass looks back one overlap from `until`."""
    mark = ReconcilerWatermark.objects.filter(name=WATERMARK).first()
    base = mark.seen_until if mark else until
    return min(base, until) - timedelta(seconds=settings.RECONCILE_OVERLAP_SECONDS)


def runs_between(fetch: Fetch, since: datetime, until: datetime) -> tuple[list[FlowRun], bool]:
    """Every run `fetch` finds that ended within (since, until], and whether all were read.

    Prefect sorts by end time newest first only: a full page means older runs may remain, so ask
    again with `until` moved to the oldest end time seen (runs on that boundary come back twice)."""
    found: dict[str, FlowRun] = {}
    for _ in range(MAX_PAGES):
        page = fetch(since, until, PAGE)
        found.update((run.id, run) for run in page)
        if len(page) < PAGE:
            return list(found.values()), True
        oldest = page[0].end_time
        if oldest is None or oldest >= until:
            break  # a page of runs sharing one end time: no way to move past them
        until = oldest
    return list(found.values()), False


def failed_runs_between(
    client: PrefectClient, since: datetime, until: datetime, read: Read | None = None
) -> tuple[list[FlowRun], bool]:
    """Every failed flow run (runs/states.py) that ended within (since, until], once each, and
    whether all were read. One query by failure type, and one by name for each failure state of
    another type (Dalgo's DBT_TEST_FAILED); `read` pages each (runs_between: MAX_PAGES at most)."""
    fetches = (client.failed_flow_runs, *(_named(client, name) for name in FAILURE_NAMES_OF_OTHER_TYPES))
    found: dict[str, FlowRun] = {}
    complete = True
    for fetch in fetches:
        runs, read_all = (read or runs_between)(fetch, since, until)
        found.update((run.id, run) for run in runs)
        complete &= read_all
    return list(found.values()), complete


def _named(client: PrefectClient, state_name: str) -> Fetch:
    return lambda since, until, limit: client.flow_runs_in_state_named(state_name, since, until, limit)


def store_if_missing(run: FlowRun) -> bool:
    """Store an event for the run's current state unless we hold one; True when one was stored."""
    if has_event(run):
        return False
    _, duplicate = store_notice(_raw_body(run), notice_for(run), None)
    return not duplicate


def has_event(run: FlowRun) -> bool:
    """Whether some event already covers the run's current state (or a later one)."""
    events = FailureEvent.objects.filter(flow_run_id=run.id)
    stamp = run.state.timestamp if run.state else None
    if stamp is None:
        return events.exists()
    same_or_later = Q(state_timestamp__gte=stamp - timedelta(milliseconds=1))
    undated_after = Q(state_timestamp__isnull=True, received_at__gte=stamp - SAME_STATE_SLACK)
    return events.filter(same_or_later | undated_after).exists()


def notice_for(run: FlowRun) -> FailureNotice:
    """The notice a webhook would have carried for the run's current state."""
    state = run.state
    return FailureNotice(
        shape="reconciler",
        flow_run_id=run.id,
        state_name=run.state_name or (state.name if state else None) or "Failed",
        state_type=run.state_type or (state.type if state else None),
        state_timestamp=state.timestamp if state else None,
        flow_run_name=run.name,
        state_message=run.state_message,
        deployment_id=run.deployment_id,
        parent_task_run_id=run.parent_task_run_id,
        tags=list(run.tags),
    )


def _raw_body(run: FlowRun) -> bytes:
    # Stored as the event's raw body, so an operator sees where the event came from.
    fields = {"id", "name", "state_type", "state_name", "end_time", "deployment_id", "parent_task_run_id"}
    return json.dumps(
        {"source": "reconciler", "flow_run": run.model_dump(mode="json", include=fields)}
    ).encode()


def advance_watermark(until: datetime) -> None:
    """Move the watermark forward to `until`; never back (two passes may overlap)."""
    mark, created = ReconcilerWatermark.objects.get_or_create(name=WATERMARK, defaults={"seen_until": until})
    if not created:
        ReconcilerWatermark.objects.filter(pk=mark.pk, seen_until__lt=until).update(
            seen_until=until, updated_at=timezone.now()
        )


def _log(done: Reconciled) -> None:
    if not done.complete:
        log.error(
            "reconciler: more than %s failed runs in %s..%s; the oldest were not read",
            PAGE * MAX_PAGES,
            done.since.isoformat(),
            done.until.isoformat(),
        )
    log.info(
        "reconciler: window %s..%s runs=%s stored=%s",
        done.since.isoformat(),
        done.until.isoformat(),
        done.runs,
        done.stored,
    )
