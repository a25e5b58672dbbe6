"""A thin client for the Prefect 3 REST API. Pure: no Django; the service passes settings in.

Only the reads the failure summarizer needs: flow runs, task runs, subflows, logs, deployments.
Calls go through the one JSON-API core (`failbrief.lib.http.JsonApi`): a connect timeout and a
total deadline, transient failures retried a few times with jittered backoff, and only the domain
errors of `failbrief.runs.errors` escape.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

import httpx
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from failbrief.condense.redact import redact
from failbrief.lib.http import Backoff, Closing, JsonApi
from failbrief.runs.errors import (
    PREFECT_ERRORS,
    PrefectAuthError,
    PrefectBadResponse,
    PrefectError,
    PrefectUnavailable,
    RunNotFound,
)
from failbrief.runs.states import FAILURE_STATE_TYPES

__all__ = [
    "Deployment",
    "FlowRun",
    "PrefectAuthError",
    "PrefectBadResponse",
    "PrefectClient",
    "PrefectError",
    "PrefectLog",
    "PrefectUnavailable",
    "RunNotFound",
    "State",
    "TaskRun",
]

PAGE_LIMIT = 200  # the most `limit` Prefect accepts; 201 gets a 422
BACKOFF_BASE = 0.2
BACKOFF_CAP = 2.0


def _null_as(empty: Callable[[], Any]) -> BeforeValidator:
    # Prefect sends null for some collections depending on version; treat it as empty.
    return BeforeValidator(lambda value: empty() if value is None else value)


JsonDict = Annotated[dict[str, Any], _null_as(dict)]
Tags = Annotated[list[str], _null_as(list)]
# Prefect names runs from templates over their parameters (`flow_run_name="backfill-{source}"`), so
# a connection string passed as a parameter is part of the name, which failbrief stores, shows and
# notifies: names are redacted as they are read, once for every use.
Name = Annotated[str, AfterValidator(redact)]


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# Prefect keeps its times in UTC; one written without an offset is UTC too. Aware everywhere, so a
# time read from Prefect compares with our own (the backfill pages back to the oldest end time read).
Moment = Annotated[datetime, AfterValidator(_utc)]


class _PrefectModel(BaseModel):
    model_config = ConfigDict(extra="ignore")


class State(_PrefectModel):
    """A run's state; `type` is FAILED, CRASHED, COMPLETED, PENDING, RUNNING, ..."""

    type: str
    name: str | None = None
    message: str | None = None
    timestamp: Moment | None = None


class _Run(_PrefectModel):
    id: str
    name: Name = ""
    state_type: str | None = None
    state_name: str | None = None
    state: State | None = None
    start_time: Moment | None = None
    end_time: Moment | None = None
    expected_start_time: Moment | None = None
    run_count: int = 0
    tags: Tags = Field(default_factory=list)

    @property
    def state_message(self) -> str:
        """The state's message, or "" when there is none."""
        return (self.state.message if self.state else None) or ""


class FlowRun(_Run):
    """A flow run. `parent_task_run_id` is set on subflow runs: the parent's wrapper task run."""

    flow_id: str | None = None
    deployment_id: str | None = None
    parent_task_run_id: str | None = None
    parameters: JsonDict = Field(default_factory=dict)
    work_pool_name: str | None = None


class TaskRun(_Run):
    """A task run. `task_inputs` maps each argument to its upstream inputs (the run graph)."""

    flow_run_id: str | None = None
    task_key: str = ""
    task_inputs: JsonDict = Field(default_factory=dict)

    def upstream_task_run_ids(self) -> list[str]:
        """Ids of the task runs whose results this one consumed, in argument order."""
        inputs = [item for items in self.task_inputs.values() if isinstance(items, list) for item in items]
        return [
            str(item["id"])
            for item in inputs
            if isinstance(item, dict) and item.get("input_type") == "task_run"
        ]


class PrefectLog(_PrefectModel):
    """One log record. `task_run_id` is None for flow-level lines. `level` is Python's number."""

    id: str
    level: int
    message: str
    timestamp: Moment
    flow_run_id: str | None = None
    task_run_id: str | None = None
    name: str | None = None


class Deployment(_PrefectModel):
    """A deployment; `parameters` are its defaults, which a flow run's parameters override."""

    id: str
    name: Name = ""
    parameters: JsonDict = Field(default_factory=dict)
    tags: Tags = Field(default_factory=list)
    entrypoint: str | None = None
    flow_id: str | None = None
    work_pool_name: str | None = None


Model = TypeVar("Model", bound=BaseModel)


class PrefectClient(Closing):
    """Reads from one Prefect server. Use as a context manager, or call `close()`.

    `api_url` ends in `/api` (e.g. `http://127.0.0.1:4200/api`). `timeout` bounds every socket wait
    (connecting: at most 5 s) and each attempt as a whole: a body still arriving `timeout` seconds
    after the request went out is abandoned. `retries` is how many extra attempts transient
    failures get, after 0.1-2 s of jittered backoff (or the server's Retry-After, capped at 2 s).
    Every method raises `PrefectUnavailable`, `RunNotFound`, `PrefectAuthError` or
    `PrefectBadResponse`; nothing from httpx escapes.
    """

    def __init__(
        self,
        api_url: str,
        api_key: str | None = None,
        timeout: float = 10.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        *,
        max_log_records: int = 50_000,
    ) -> None:
        self._max_log_records = max_log_records
        backoff = Backoff(retries, BACKOFF_BASE, BACKOFF_CAP)
        self._api = JsonApi(
            api_url, _auth_headers(api_key), PREFECT_ERRORS, timeout, backoff, transport, sleep
        )

    def close(self) -> None:
        """Closes the pooled connections."""
        self._api.close()

    def health(self) -> bool:
        """True when the server answers `true` on /health; False when it is unreachable or unwell."""
        try:
            return self._api.attempt("GET", "health") is True
        except PrefectError:
            return False

    def flow_run(self, flow_run_id: str) -> FlowRun:
        """The flow run; RunNotFound when Prefect has none with that id."""
        return self._get(f"flow_runs/{_uuid(flow_run_id)}", FlowRun)

    def task_run(self, task_run_id: str) -> TaskRun:
        """The task run; RunNotFound when Prefect has none with that id."""
        return self._get(f"task_runs/{_uuid(task_run_id)}", TaskRun)

    def deployment(self, deployment_id: str) -> Deployment:
        """The deployment; RunNotFound when Prefect has none with that id."""
        return self._get(f"deployments/{_uuid(deployment_id)}", Deployment)

    def task_runs(self, flow_run_id: str) -> list[TaskRun]:
        """Every task run of the flow run (not of its subflows), by expected start time."""
        body = {"flow_runs": {"id": {"any_": [_uuid(flow_run_id)]}}, "sort": "EXPECTED_START_TIME_ASC"}
        return self._pages("task_runs/filter", body, TaskRun, max_records=10_000)

    def child_flow_runs(self, flow_run_id: str) -> list[FlowRun]:
        """The subflow runs started by the flow run's task runs (one level down)."""
        # Prefect resolves `parent_flow_run_id` through the wrapper task runs' flow_run_id.
        body = {"flow_runs": {"parent_flow_run_id": {"any_": [_uuid(flow_run_id)]}}}
        return self._pages("flow_runs/filter", {**body, "sort": "EXPECTED_START_TIME_ASC"}, FlowRun, 10_000)

    def logs(self, *, flow_run_id: str | None = None, task_run_id: str | None = None) -> list[PrefectLog]:
        """Log records of a flow run (including its task runs' lines, not its subflows') or of one
        task run, oldest first, at most `max_log_records`. At least one id is required."""
        log_filter = _log_filter(flow_run_id, task_run_id)
        body = {"logs": log_filter, "sort": "TIMESTAMP_ASC"}
        return _unique(self._pages("logs/filter", body, PrefectLog, self._max_log_records))

    def failed_flow_runs(
        self, since: datetime, until: datetime | None = None, limit: int = 200
    ) -> list[FlowRun]:
        """Flow runs that ended FAILED or CRASHED after `since` (and before `until`), oldest first.

        Prefect can only sort by end time newest first, so when `limit` runs come back there may be
        older ones: call again with `until` set to the oldest end_time returned.
        """
        return self._ended_runs({"type": {"any_": list(FAILURE_STATE_TYPES)}}, since, until, limit)

    def flow_runs_in_state_named(
        self, state_name: str, since: datetime, until: datetime | None = None, limit: int = 200
    ) -> list[FlowRun]:
        """Flow runs whose state is named `state_name` (e.g. Dalgo's DBT_TEST_FAILED, a COMPLETED
        state) that ended after `since` (and before `until`), oldest first; page as failed_flow_runs."""
        runs = self._ended_runs({"name": {"any_": [state_name]}}, since, until, limit)
        return [run for run in runs if run.state_name == state_name]

    def _ended_runs(
        self, state_filter: dict[str, Any], since: datetime, until: datetime | None, limit: int
    ) -> list[FlowRun]:
        window = {"after_": _iso(since)} | ({"before_": _iso(until)} if until else {})
        body = {"flow_runs": {"state": state_filter, "end_time": window}, "sort": "END_TIME_DESC"}
        runs = self._pages("flow_runs/filter", body, FlowRun, max_records=limit)
        return sorted(runs, key=lambda run: run.end_time or datetime.min.replace(tzinfo=UTC))

    def completed_runs_of_deployment(self, deployment_id: str, limit: int = 3) -> list[FlowRun]:
        """The deployment's most recent runs that ended COMPLETED, newest first (a Completed-type
        state may still be a failure by name, e.g. Dalgo's DBT_TEST_FAILED: callers check)."""
        runs_filter = {
            "deployment_id": {"any_": [_uuid(deployment_id)]},
            "state": {"type": {"any_": ["COMPLETED"]}},
        }
        body = {"flow_runs": runs_filter, "sort": "END_TIME_DESC"}
        return self._pages("flow_runs/filter", body, FlowRun, max_records=limit)

    def _get(self, path: str, model: type[Model]) -> Model:
        return self._api.parse(f"GET /{path}", model, self._api.call("GET", path))

    def _pages(self, path: str, body: Mapping[str, Any], model: type[Model], max_records: int) -> list[Model]:
        # Prefect has no cursor: page with offset until a page comes back shorter than the limit.
        records: list[Model] = []
        page_size = max(1, min(PAGE_LIMIT, max_records))
        while len(records) < max_records:
            page_body = {**body, "limit": page_size, "offset": len(records)}
            page = self._api.parse_list(f"POST /{path}", model, self._api.call("POST", path, page_body))
            records.extend(page)
            if len(page) < page_size:
                break
        return records[:max_records]


def _auth_headers(api_key: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {api_key}"} if api_key else {}


def _uuid(value: str) -> str:
    # Ids arrive from webhook bodies and go into URL paths: only UUID text may pass.
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        raise RunNotFound(f"{str(value)[:60]!r} is not a Prefect id (a UUID)") from None


def _log_filter(flow_run_id: str | None, task_run_id: str | None) -> dict[str, Any]:
    if flow_run_id is None and task_run_id is None:
        raise ValueError("logs() needs a flow_run_id or a task_run_id")
    log_filter: dict[str, Any] = {}
    if flow_run_id is not None:
        log_filter["flow_run_id"] = {"any_": [_uuid(flow_run_id)]}
    if task_run_id is not None:
        log_filter["task_run_id"] = {"any_": [_uuid(task_run_id)]}
    return log_filter


def _iso(moment: datetime) -> str:
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()


def _unique(logs: Iterable[PrefectLog]) -> list[PrefectLog]:
    # Logs still arriving while we page (the webhook races the log shipper) can carry earlier
    # timestamps than the page we read, shifting records to later offsets: the same record can
    # then come back twice. Insertions never make one disappear, so dropping repeats is enough.
    by_id: dict[str, PrefectLog] = {}
    for log in logs:
        by_id.setdefault(log.id, log)
    return list(by_id.values())
