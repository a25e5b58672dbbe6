"""Summaries a person asks for (Dalgo's trigger, regenerate), as opposed to webhook-driven ones."""

from __future__ import annotations

from django.db.models import QuerySet

from failbrief.orgs.models import Org
from failbrief.orgs.resolve import owner_of_run
from failbrief.runs.errors import PrefectUnavailable, RunNotFound
from failbrief.runs.failed_units import FailedUnit, failed_units, flow_run_lineage, flow_unit, task_unit
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.summarize.models import LlmSession, SummaryRun
from failbrief.summarize.pipeline import summarize_unit
from failbrief.summarize.store import (
    claim_requested,
    claim_summary,
    fail_summary,
    link_runs,
    name_unit,
    new_version,
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
    current = newest(rows.filter(task_id=task_id)) or _stored_inside(rows, task_id)
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
    # (store.claim_summary) finds this row instead of writing a second summary.
    row, mine = claim_summary(org, lineage[0], unit.id, "", orguser=orguser)
    link_runs(row, (*lineage, *unit.lineage[1:]))
    return row, mine


def _stored_inside(rows: QuerySet[LlmSession], subflow_id: str) -> LlmSession | None:
    """The newest version of the root failure's summary among `rows` that lie inside the subflow
    (SummaryRun links each summary to every flow run down to its failure); None for a task id."""
    inside = rows.filter(runs__flow_run_id=subflow_id)
    root = inside.order_by("is_cascade", "position", "pk").first()
    return None if root is None else newest(rows.filter(task_id=root.task_id))


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
        unit = find_unit(client, row.flow_run_id, row.task_id)
        run = client.flow_run(unit.flow_run_id)
    except PrefectUnavailable:
        raise
    except Exception as exc:
        fail_summary(row, f"{type(exc).__name__}: {exc}")
        return
    name_unit(row, unit.name, unit.kind, unit.end_time)
    summarize_unit(client, row, unit, run, root_cause_of=_root_failure(row) if unit.cascade else None)


def _root_failure(row: LlmSession) -> LlmSession | None:
    """The run's root failure (its first unit that is not a cascade), newest completed version:
    a cascade summarized again points at it and takes its category, as the webhook's did."""
    rows = summaries_of_run(row.org, row.flow_run_id)
    rows = rows.filter(is_cascade=False, session_status=Status.COMPLETED)
    return rows.order_by("position", "-version", "-pk").first()


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
