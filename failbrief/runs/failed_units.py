"""Finds what failed in a Prefect flow run: the failed leaf units, root causes first. Pure: no Django.

A unit is a task run, or a flow run when no task in it failed (the flow body raised, or the
process crashed with its task stuck RUNNING). A failed wrapper task run of a subflow is replaced
by the subflow's own units. Tasks that failed only because an upstream one did (Prefect's
NotReady / UnfinishedRun) are kept, marked `cascade`, after the root failures.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

from failbrief.runs.errors import RunNotFound
from failbrief.runs.prefect import FlowRun, PrefectClient, TaskRun
from failbrief.runs.states import is_failure

# Prefect's message for a task whose upstream did not complete (state NotReady, type PENDING).
UPSTREAM_NOT_COMPLETED = re.compile(
    r"Upstream task run '(?P<id>[0-9a-fA-F-]{36})' did not reach a 'COMPLETED' state"
)
# Raised when a task consumes the result of an upstream run that never finished.
UNFINISHED_RUN = "UnfinishedRun"
NEVER = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True)
class FailedUnit:
    """One failed unit. `lineage` runs from the flow run asked about down to `flow_run_id`.

    For a task run, `flow_run_id` is the flow run that contains it; for a flow run, itself.
    `cascade` units failed only because another unit did; `cascade_reason` says which.
    `parameters` are the flow run's parameters for a flow-run unit, else empty.
    `flow_parameters` are the parameters of the flow runs holding a task-run unit, nearest first
    (a task run's own parameter values are not in Prefect's API): Dalgo's Airbyte sync fails in a
    task whose connection is named only by the subflows around it.
    """

    kind: Literal["task_run", "flow_run"]
    id: str
    name: str
    flow_run_id: str
    lineage: tuple[str, ...]
    state_type: str | None
    state_name: str | None
    state_message: str
    start_time: datetime | None
    end_time: datetime | None
    cascade: bool = False
    cascade_reason: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    flow_parameters: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True)
class _Found:
    when: datetime
    unit: FailedUnit


def failed_units(client: PrefectClient, flow_run_id: str, *, max_depth: int = 5) -> list[FailedUnit]:
    """The failed leaf units of the flow run: root failures first, then cascades, each by time.

    Descends into failed subflows up to `max_depth` levels. When nothing inside failed on its
    own, the flow run itself is the root unit, if it failed (runs/states.py); a run that did not
    fail and holds no failed task gives []. Raises the client's errors (RunNotFound: run gone).
    """
    run = client.flow_run(flow_run_id)
    found = _units_of(client, run, (run.id,), max_depth)
    roots = sorted((f for f in found if not f.unit.cascade), key=_time_order)
    cascades = sorted((f for f in found if f.unit.cascade), key=_time_order)
    return [f.unit for f in roots + cascades]


def flow_run_lineage(client: PrefectClient, flow_run: FlowRun, max_depth: int = 5) -> tuple[str, ...]:
    """The ids from the top-level flow run down to `flow_run`, inclusive: (flow_run.id,) for a
    top-level run, (parent, subflow) for a subflow. Stops early, at the highest run it could
    read, when a parent is gone (RunNotFound) or `max_depth` levels were climbed."""
    chain = [flow_run.id]
    current = flow_run
    while current.parent_task_run_id and len(chain) <= max_depth:
        parent = _parent_of(client, current.parent_task_run_id)
        if parent is None or parent.id in chain:
            break
        chain.insert(0, parent.id)
        current = parent
    return tuple(chain)


def _parent_of(client: PrefectClient, wrapper_task_run_id: str) -> FlowRun | None:
    try:
        wrapper = client.task_run(wrapper_task_run_id)
        return client.flow_run(wrapper.flow_run_id) if wrapper.flow_run_id else None
    except RunNotFound:
        return None


def _units_of(
    client: PrefectClient,
    run: FlowRun,
    lineage: tuple[str, ...],
    depth_left: int,
    outer: tuple[dict[str, Any], ...] = (),
) -> list[_Found]:
    tasks = {task.id: task for task in client.task_runs(run.id)}
    subflows = _failed_subflows(client, run, lineage) if depth_left > 0 else {}
    enclosing = (dict(run.parameters), *outer)
    found: list[_Found] = []
    for task in tasks.values():
        if task.id in subflows:
            child = subflows[task.id]
            found += _units_of(client, child, (*lineage, child.id), depth_left - 1, enclosing)
        elif _failed(task) or _upstream_id(task):
            found.append(_Found(_when(task), task_unit(task, lineage, tasks, enclosing)))
    if _failed(run) and all(f.unit.cascade for f in found):
        # Nothing inside failed on its own: the flow body raised, or the process died.
        found.insert(0, _Found(_when(run), flow_unit(run, lineage)))
    return found


def _failed_subflows(client: PrefectClient, run: FlowRun, lineage: tuple[str, ...]) -> dict[str, FlowRun]:
    """Failed subflow runs by their wrapper task run id; wrappers of healthy subflows stay tasks."""
    children = client.child_flow_runs(run.id)
    return {
        child.parent_task_run_id: child
        for child in children
        if child.parent_task_run_id and _failed(child) and child.id not in lineage
    }


def _failed(run: TaskRun | FlowRun) -> bool:
    return is_failure(run.state_type, run.state_name)


def _upstream_id(task: TaskRun) -> str | None:
    match = UPSTREAM_NOT_COMPLETED.search(task.state_message)
    return match.group("id").lower() if match else None


def _cascade_reason(task: TaskRun, tasks: dict[str, TaskRun]) -> str | None:
    """Why the task failed only because another did, or None when its failure is its own."""
    upstream = _upstream_id(task)
    if upstream is None and UNFINISHED_RUN in task.state_message:
        upstream = _unfinished_upstream(task, tasks)
        if upstream is None:
            return "it used the result of an upstream run that did not finish"
    if upstream is None:
        return None
    name = tasks[upstream].name if upstream in tasks else upstream
    return f"upstream task {name} did not complete"


def _unfinished_upstream(task: TaskRun, tasks: dict[str, TaskRun]) -> str | None:
    upstream = task.upstream_task_run_ids()
    unfinished = [i for i in upstream if i in tasks and tasks[i].state_type != "COMPLETED"]
    return next(iter(unfinished or upstream), None)


def task_unit(
    task: TaskRun,
    lineage: tuple[str, ...],
    tasks: dict[str, TaskRun] | None = None,
    flow_parameters: tuple[dict[str, Any], ...] = (),
) -> FailedUnit:
    """The task run as a unit; `tasks` (its run's task runs by id) lets a cascade name its upstream;
    `flow_parameters` are those of the flow runs holding it, nearest first."""
    reason = _cascade_reason(task, tasks or {})
    unit = _unit("task_run", task, lineage[-1], lineage)
    return replace(unit, cascade=reason is not None, cascade_reason=reason, flow_parameters=flow_parameters)


def flow_unit(run: FlowRun, lineage: tuple[str, ...]) -> FailedUnit:
    """The flow run itself as the unit (no task of it failed: the body raised, or it crashed)."""
    return replace(_unit("flow_run", run, run.id, lineage), parameters=dict(run.parameters))


def _unit(
    kind: Literal["task_run", "flow_run"], run: TaskRun | FlowRun, flow_run_id: str, lineage: tuple[str, ...]
) -> FailedUnit:
    """What a task run and a flow run give their unit alike: who it is and how it ended."""
    return FailedUnit(
        kind=kind,
        id=run.id,
        name=run.name,
        flow_run_id=flow_run_id,
        lineage=lineage,
        state_type=run.state_type,
        state_name=run.state_name,
        state_message=run.state_message,
        start_time=run.start_time,
        end_time=run.end_time,
    )


def _when(run: TaskRun | FlowRun) -> datetime:
    # A NotReady task never started: fall back to when it was expected to.
    return run.start_time or run.expected_start_time or run.end_time or NEVER


def _time_order(found: _Found) -> tuple[datetime, str]:
    return (found.when, found.unit.name)
