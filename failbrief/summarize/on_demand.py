"""Summaries a person asks for (Dalgo's trigger, regenerate), as opposed to webhook-driven ones."""

from __future__ import annotations

from django.db.models import Q, QuerySet

from failbrief.orgs.models import Org
from failbrief.orgs.resolve import owner_of_run
from failbrief.runs.errors import PrefectUnavailable, RunNotFound
from failbrief.runs.failed_units import FailedUnit, failed_units, flow_run_lineage, flow_unit, task_unit
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.runs.states import is_failure
from failbrief.summarize.models import LlmSession, SummaryRun
from failbrief.summarize.pipeline import summarize_unit
from failbrief.summarize.store import (
    AGAIN,
    claim_requested,
    claim_summary,
    ended_later,
    fail_summary,
    flow_unit_key,
    link_runs,
    name_unit,
    new_version,
    unit_id_of,
)

Status = LlmSession.Status


class NotThisOrgsRun(LookupError):
    """The run is unknown, or belongs to another org: both look the same to the caller (404)."""


def summaries_of_run(org: Org, flow_run_id: str) -> QuerySet[LlmSession]:
    """Every version of every summary under this run (the run itself or a subflow of it)."""
    # The ids first, each from its own index, then the rows by id: neither a join (it needs
    # DISTINCT, which compares every column, JSON included) nor `flow_run_id = … OR pk IN (…)`,
    # which PostgreSQL answers by reading every row of the org (seconds at a million summaries).
    own = LlmSession.objects.filter(org=org, flow_run_id=flow_run_id).values_list("pk", flat=True)
    linked = SummaryRun.objects.filter(flow_run_id=flow_run_id).values_list("summary_id", flat=True)
    return LlmSession.objects.filter(org=org, pk__in={*own, *linked})


def latest_failure(rows: QuerySet[LlmSession], unit_id: str) -> QuerySet[LlmSession]:
    """The versions among `rows` of the unit's latest failure: a flow run that was itself the unit
    and failed again after a retry has a row per failure (`<id>`, `<id>#2`, …; store.flow_unit_key),
    and asking by its id means the one it is in now. A key with its `#N` names that failure only."""
    if AGAIN in unit_id:
        return rows.filter(task_id=unit_id)
    failures = rows.filter(Q(task_id=unit_id) | Q(task_id__startswith=f"{unit_id}{AGAIN}"), version=1)
    latest = failures.order_by("-pk").values_list("task_id", flat=True).first()
    return rows.filter(task_id=latest or unit_id)


def shown_order(row: LlmSession) -> tuple[int, float]:
    """Where a unit's row is shown among the run's: by position (the root failure first, cascades
    after it), and of two failures at one position (a run retried that failed again) the latest
    first, so a reader of the run sees the failure it is in now, not the one before the retry."""
    return row.position, -row.failed_at.timestamp()


def newest(rows: QuerySet[LlmSession]) -> LlmSession | None:
    """The newest completed version, else the newest of any status."""
    completed = rows.filter(session_status=Status.COMPLETED).order_by("-version", "-pk").first()
    return completed or rows.order_by("-version", "-pk").first()


def request_summary(
    org: Org,
    flow_run_id: str,
    task_id: str,
    *,
    regenerate: bool,
    client: PrefectClient,
    orguser: str | None = None,
) -> tuple[LlmSession, bool]:
    """The summary row a caller polls, and whether a worker must now fill it. A stored summary is
    reused unless `regenerate`; a failed one is tried again. `task_id` may also be a subflow of
    the run: Dalgo's webapp asks by the nodes of Prefect's flow-run graph, where a subflow is one
    node, so the answer is the summary of the root failure inside it, the same row the webhook
    writes. Raises NotThisOrgsRun."""
    rows = summaries_of_run(org, flow_run_id)
    current = newest(latest_failure(rows, task_id)) or _stored_inside(rows, task_id)
    if current is not None and AGAIN not in task_id and _failed_again(client, current):
        current = None  # no webhook told of it yet: summarized on demand, where the webhook finds it
    if current is not None and not regenerate and current.session_status != Status.FAILED:
        return current, False
    if current is not None:
        return new_version(current, orguser=orguser), True
    lineage = _check_owner(org, flow_run_id, client)
    try:
        unit = find_unit(client, flow_run_id, task_id)
    except RunNotFound:
        raise NotThisOrgsRun(task_id) from None
    # Keyed by the unit, not by the id asked for, so that the webhook's claim of the same failure
    # (store.claim_summary) finds this row instead of writing a second summary; a flow run's later
    # failure by its `#N` key, and with its end time, so that the webhook tells it from the next.
    key = unit.id
    if unit.kind == "flow_run":
        key = flow_unit_key(org, lineage[0], unit.id, unit.end_time, LlmSession.LOG_SUMMARIZATION)
    row, mine = claim_summary(
        org,
        lineage[0],
        key,
        "",
        orguser=orguser,
        task_name=unit.name,
        unit_kind=unit.kind,
        unit_ended_at=unit.end_time,
    )
    link_runs(row, (*lineage, *unit.lineage[1:]))
    return row, mine


def _failed_again(client: PrefectClient, current: LlmSession) -> bool:
    """Whether the flow run that is `current`'s unit has failed again after the failure `current`
    summarizes (retried from Prefect's UI), with no summary of that yet: its webhook may not have
    been processed, or may never come. Prefect not answering leaves the stored summary the answer."""
    if current.unit_kind != "flow_run" or current.unit_ended_at is None:
        return False
    try:
        run = client.flow_run(unit_id_of(current.task_id))
    except (PrefectUnavailable, RunNotFound):
        return False
    return is_failure(run.state_type, run.state_name) and ended_later(run.end_time, current.unit_ended_at)


def _stored_inside(rows: QuerySet[LlmSession], subflow_id: str) -> LlmSession | None:
    """The newest version of the root failure's summary among `rows` that lie inside the subflow
    (SummaryRun links each summary to every flow run down to its failure); None for a task id."""
    inside = rows.filter(runs__flow_run_id=subflow_id)
    root = inside.order_by("is_cascade", "position", "pk").first()
    return None if root is None else newest(latest_failure(rows, root.task_id))


def _check_owner(org: Org, flow_run_id: str, client: PrefectClient) -> tuple[str, ...]:
    try:
        owner = owner_of_run(client, client.flow_run(flow_run_id))
    except RunNotFound:
        raise NotThisOrgsRun(flow_run_id) from None
    if owner.match.org != org:
        raise NotThisOrgsRun(flow_run_id)
    return owner.lineage


def fill_requested(row_id: int, worker_task_id: str, client: PrefectClient) -> None:
    """Fill a requested row. PrefectUnavailable propagates for a retry; other errors fail the row."""
    row = claim_requested(row_id, worker_task_id)
    if row is None:
        return
    try:
        unit = find_unit(client, row.flow_run_id, unit_id_of(row.task_id))
        run = client.flow_run(unit.flow_run_id)
    except PrefectUnavailable:
        raise
    except Exception as exc:
        fail_summary(row, f"{type(exc).__name__}: {exc}")
        return
    if row.unit_kind == "flow_run" and (
        unit.id != unit_id_of(row.task_id) or ended_later(unit.end_time, row.unit_ended_at)
    ):
        # Prefect keeps only a flow run's latest attempt: what it shows now is a later failure's.
        fail_summary(row, superseded(row))
        return
    name_unit(row, unit.name, unit.kind, unit.end_time)
    summarize_unit(client, row, unit, run, root_cause_of=_root_failure(row) if unit.cascade else None)


def _root_failure(row: LlmSession) -> LlmSession | None:
    """The run's root failure (its first unit that is not a cascade), newest completed version:
    a cascade summarized again points at it and takes its category, as the webhook's did."""
    rows = summaries_of_run(row.org, row.flow_run_id)
    rows = rows.filter(is_cascade=False, session_status=Status.COMPLETED)
    return rows.order_by("position", "-version", "-pk").first()


def superseded(row: LlmSession) -> str:
    return (
        f"flow run {unit_id_of(row.task_id)} was retried and failed again after this failure; Prefect "
        "now shows only the later one, so this one cannot be summarized again (its earlier versions "
        "stay). Ask for the run's summary to get the later failure's."
    )


def find_unit(client: PrefectClient, flow_run_id: str, task_id: str) -> FailedUnit:
    """The unit `task_id` names under the run: a failed unit found as the webhook path finds it;
    for a subflow (or the run) holding failed units, the first of them, its root failure, as
    the webhook path names it; or any task run or flow run by that id (a person may ask about any
    of them) that is the run or lies under it, in one of its subflows. Raises RunNotFound
    otherwise: an id from another run, perhaps another org's, must not be read through this one."""
    units = failed_units(client, flow_run_id)
    for unit in units:
        if unit.id == task_id:
            return unit
    for unit in units:  # roots first: the first inside the subflow is its root failure
        if task_id in unit.lineage:
            return unit
    try:
        task = client.task_run(task_id)
    except RunNotFound:
        run = client.flow_run(task_id)
        _require_under(client, flow_run_id, run, task_id)
        return flow_unit(run, tuple(dict.fromkeys((flow_run_id, run.id))))
    if not task.flow_run_id:
        raise RunNotFound(f"task run {task_id} belongs to no flow run")
    _require_under(client, flow_run_id, client.flow_run(task.flow_run_id), task_id)
    return task_unit(task, (task.flow_run_id,))


def _require_under(client: PrefectClient, flow_run_id: str, run: FlowRun, unit_id: str) -> None:
    if flow_run_id not in flow_run_lineage(client, run):
        raise RunNotFound(f"{unit_id} is not a task or subflow of flow run {flow_run_id}")
