"""Which failed runs of a past window a backfill summarizes, and why the others are skipped.

Reads Prefect (the runs, and for a subflow its top-level run, whose parameters, deployment and tags
name the org) and the database (summaries and events); writes nothing. failbrief/events/backfill.py
does the work.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from failbrief.events.models import FailureEvent
from failbrief.events.reconcile import Fetch, failed_runs_between, runs_between
from failbrief.orgs.resolve import OrgMatch, owner_of_run
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.summarize.models import LlmSession, SummaryRun

WORKER_PREFIX = "backfill:"
CHUNK = 500  # run ids per IN (...) query
EventStatus = FailureEvent.Status
RowStatus = LlmSession.Status


class Status(StrEnum):
    TO_SUMMARIZE = "to summarize"
    SUMMARIZED = "already summarized"
    IN_PROGRESS = "in progress"
    OTHER_ORG = "other org"
    NO_ORG = "no org"


@dataclass(frozen=True)
class PlannedRun:
    """One failed run of the window and what the backfill does with it; `note` says why."""

    run: FlowRun
    status: Status
    org: str | None = None  # the org's slug; None when unknown or not needed
    note: str = ""


@dataclass(frozen=True)
class Plan:
    since: datetime
    until: datetime
    runs: list[PlannedRun]  # oldest end time first
    # False when Prefect held more runs sharing one end time than a page: some were not read.
    complete: bool

    @property
    def todo(self) -> list[PlannedRun]:
        """The runs to summarize, top-level runs first: a parent's summary covers its failed
        subflows, which are then skipped instead of summarized apart from their parent."""
        todo = [p for p in self.runs if p.status is Status.TO_SUMMARIZE]
        return sorted(todo, key=lambda p: p.run.parent_task_run_id is not None)

    def counts(self) -> Counter[Status]:
        return Counter(p.status for p in self.runs)


def worker_id(flow_run_id: str) -> str:
    """The worker id a backfill processes the run's event under; the same on every rerun."""
    return f"{WORKER_PREFIX}{flow_run_id}"


def plan(client: PrefectClient, since: datetime, until: datetime, org_slug: str | None = None) -> Plan:
    """Every failed run that ended in (since, until], marked with what the backfill does with it.

    Reads Prefect and the database, writes nothing. With `org_slug`, runs of other orgs are marked
    OTHER_ORG. Raises the client's errors (PrefectUnavailable, PrefectAuthError, ...)."""
    runs, complete = failed_runs(client, since, until)
    work = work_states(run.id for run in runs)
    orgs = _OrgFinder(client, {run.id: run for run in runs})
    planned = [_with_org(work[run.id], orgs, org_slug) for run in runs]
    return Plan(since, until, _with_parents(planned, orgs.tops), complete)


def failed_runs(client: PrefectClient, since: datetime, until: datetime) -> tuple[list[FlowRun], bool]:
    """The runs that failed (runs/states.py: Failed, Crashed, TimedOut, DBT_TEST_FAILED) in the
    window, oldest first, and whether all were read."""
    runs, complete = failed_runs_between(client, since, until, read=_all_between)
    return sorted(runs, key=lambda run: (run.end_time or since, run.id)), complete


def _all_between(fetch: Fetch, since: datetime, until: datetime) -> tuple[list[FlowRun], bool]:
    # runs_between stops after MAX_PAGES pages (the reconciler's budget per minute); a backfill
    # window may hold more, so keep moving `until` back to the oldest end time read.
    found: dict[str, FlowRun] = {}
    while True:
        runs, complete = runs_between(fetch, since, until)
        found.update((run.id, run) for run in runs)
        oldest = min((run.end_time for run in runs if run.end_time), default=None)
        if complete:
            return list(found.values()), True
        if oldest is None or oldest >= until:
            return list(found.values()), False  # more runs share one end time than a page holds
        until = oldest


@dataclass
class _Rows:
    """A run's version-1 summary rows, as far as the backfill cares."""

    completed: int = 0
    unfinished: int = 0  # running or failed
    busy: str = ""  # a running row another live worker is writing: which one
    org: str = ""


def work_states(run_ids: Iterable[str]) -> dict[str, Work]:
    """What each run needs, from the database alone (its org is decided later), by run id."""
    ids = list(dict.fromkeys(run_ids))
    rows = _rows_of(ids)
    events = _events_of(ids)
    return {run_id: _work(run_id, rows.get(run_id, _Rows()), events.get(run_id, [])) for run_id in ids}


def _rows_of(run_ids: list[str]) -> dict[str, _Rows]:
    stale = timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    found: dict[str, _Rows] = defaultdict(_Rows)
    for chunk in _chunks(run_ids):
        # A row is the run's when it is linked to it (SummaryRun) or keyed by it.
        linked = SummaryRun.objects.filter(flow_run_id__in=chunk, summary__version=1)
        pairs = {
            (link.flow_run_id, link.summary)
            for link in linked.select_related("summary__org", "summary__event")
        }
        keyed = LlmSession.objects.filter(flow_run_id__in=chunk, version=1).select_related("org", "event")
        pairs |= {(row.flow_run_id, row) for row in keyed}
        for run_id, row in pairs:
            if _covers(row, run_id):
                _count(found[run_id], row, stale)
    return found


def _covers(row: LlmSession, run_id: str) -> bool:
    """Whether `row` tells anything of `run_id`'s own failure. A row is keyed by the top-level run
    and linked to every run down to its unit, so a subflow's event writes rows linked to its parent
    too; they say nothing of the parent's own failed tasks. A row counts for the run when it was
    written for the run itself or for the top-level run (whose event summarizes everything below
    it), or on request (no event). A middle subflow's rows do not count for the runs below it:
    those are summarized again, which the unique summaries turn into no new row."""
    event = row.event
    return event is None or event.flow_run_id in {run_id, row.flow_run_id}


def _count(rows: _Rows, row: LlmSession, stale: datetime) -> None:
    rows.org = rows.org or row.org.slug
    if row.session_status == RowStatus.COMPLETED:
        rows.completed += 1
        return
    rows.unfinished += 1
    live = row.session_status == RowStatus.RUNNING and row.updated_at >= stale
    if live and not row.worker_task_id.startswith(WORKER_PREFIX):
        rows.busy = row.worker_task_id or "a worker"


def _events_of(run_ids: list[str]) -> dict[str, list[FailureEvent]]:
    found: dict[str, list[FailureEvent]] = defaultdict(list)
    for chunk in _chunks(run_ids):
        for event in FailureEvent.objects.filter(flow_run_id__in=chunk).order_by("pk"):
            found[event.flow_run_id].append(event)
    return found


def _chunks(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


@dataclass(frozen=True)
class Work:
    """What one run needs, as far as the database knows."""

    run_id: str
    status: Status
    note: str = ""
    org: str = ""  # the org of its completed summaries


def _work(run_id: str, rows: _Rows, events: list[FailureEvent]) -> Work:
    ours = [e for e in events if e.status == EventStatus.PROCESSING and e.worker_task_id == worker_id(run_id)]
    busy = [e for e in events if _busy(e, run_id)]
    if ours:
        return Work(run_id, Status.TO_SUMMARIZE, f"resume event {ours[-1].pk}")
    if busy:
        return Work(run_id, Status.IN_PROGRESS, _busy_note(busy[-1]))
    if rows.busy:
        return Work(run_id, Status.IN_PROGRESS, f"a summary is being written by {rows.busy}")
    if rows.completed and not rows.unfinished:
        return Work(run_id, Status.SUMMARIZED, _count_of(rows.completed, "summary"), rows.org)
    return Work(run_id, Status.TO_SUMMARIZE, _retry_note(events, rows))


def _count_of(n: int, noun: str) -> str:
    return f"{n} {noun if n == 1 else noun.removesuffix('y') + 'ies'}"


def _busy(event: FailureEvent, run_id: str) -> bool:
    """A worker has the event: pending (the broker delivers it) or processing and not stuck."""
    if event.status == EventStatus.PENDING:
        return True
    stale = timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    started = event.started_at
    return (
        event.status == EventStatus.PROCESSING
        and event.worker_task_id != worker_id(run_id)
        and (started is None or started >= stale)
    )


def _busy_note(event: FailureEvent) -> str:
    if event.status == EventStatus.PENDING:
        return f"event {event.pk} is pending: a worker will summarize it"
    return f"event {event.pk} is being processed by {event.worker_task_id or 'a worker'}"


def _retry_note(events: list[FailureEvent], rows: _Rows) -> str:
    failed = [e for e in events if e.status in {EventStatus.FAILED, EventStatus.UNMATCHED}]
    if failed:
        return f"retry: event {failed[-1].pk} {failed[-1].status}: {failed[-1].status_reason[:120]}"
    if rows.unfinished:
        return f"retry: {_count_of(rows.unfinished, 'unfinished summary')}"
    return ""


class _OrgFinder:
    """The org of a run, found as event processing finds it: the top-level run's parameters,
    deployment and tags."""

    def __init__(self, client: PrefectClient, known: dict[str, FlowRun]) -> None:
        self.client = client
        self.known = known
        self.tops: dict[str, str] = {}  # subflow run id -> its top-level run's id

    def __call__(self, run: FlowRun) -> OrgMatch:
        owner = owner_of_run(self.client, run, self.known)
        if len(owner.lineage) > 1:
            self.tops[run.id] = owner.lineage[0]
        return owner.match


def _with_org(work: Work, orgs: _OrgFinder, org_slug: str | None) -> PlannedRun:
    run = orgs.known[work.run_id]
    if work.status is Status.SUMMARIZED or (work.status is Status.IN_PROGRESS and not org_slug):
        planned = PlannedRun(run, work.status, work.org or None, work.note)
    else:
        match = orgs(run)
        if match.org is None:
            return PlannedRun(run, Status.NO_ORG, None, match.how)
        planned = PlannedRun(run, work.status, match.org.slug, work.note)
    if org_slug and planned.org != org_slug:
        return PlannedRun(run, Status.OTHER_ORG, planned.org, f"{planned.status}, not {org_slug}'s")
    return planned


def _with_parents(planned: list[PlannedRun], tops: dict[str, str]) -> list[PlannedRun]:
    """Notes the subflows whose top-level run is summarized in this backfill too: its summary
    covers them, so they will be skipped."""
    todo = {p.run.id for p in planned if p.status is Status.TO_SUMMARIZE}
    return [
        replace(p, note=f"with its parent {tops[p.run.id]}")
        if p.status is Status.TO_SUMMARIZE and tops.get(p.run.id) in todo and not p.note
        else p
        for p in planned
    ]
