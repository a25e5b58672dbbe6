"""Which Airbyte connection a failed unit was syncing, if any. Pure: no Django.

Dalgo (prefect-proxy) runs each connection as a subflow `run_airbyte_connection_flow_v1(payload)`
with payload {"type": "Airbyte Connection", "slug": "airbyte-sync", "connection_id": ...,
"airbyte_server_block": ..., "timeout": ...}; inside it prefect-airbyte's `run_connection_sync`
subflow (parameter `airbyte_connection`, the block, holding `connection_id`) fails in its task
`wait_for_completion`, which logs and raises `AirbyteSyncJobFailed("Job <n> failed.")`. The
top-level run's parameters.config.tasks[] lists every step of the pipeline.

So the connection is found in the unit's own parameters, else in those of the flow runs around it
(nearest first), else in its state message ("connection <uuid>"), else in the run's task list,
used only for the entry whose slug is the unit's name, never as "the first connection". A unit
whose message is prefect-airbyte's own failure and names no connection is still an Airbyte sync:
the job it names says which connection (airbyte_jobs.py asks Airbyte), and so does prefect-airbyte's
own log line starting the sync, when its flow run logged one (with_logged_connection).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from failbrief.runs.failed_units import FailedUnit

AIRBYTE_SESSION = "airbyte_sync"  # LlmSession.session_type of an Airbyte sync's summary
CONNECTION_KEYS = ("connection_id", "connectionId")
_UUID = r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}"
UUID_TEXT = re.compile(rf"^{_UUID}$")
CONNECTION_IN_MESSAGE = re.compile(
    rf"\bconnection(?:[ _]?id)?\s*[:=]?\s*['\"]?(?P<id>{_UUID})", re.IGNORECASE
)
JOB_IN_MESSAGE = re.compile(r"\bjob(?:[ _]?id)?\s*[:=#]?\s*(?P<id>\d{1,18})\b", re.IGNORECASE)
_RUN_SUFFIX = re.compile(r"-\d+$")  # Prefect names task runs "<task>-<n>"
# prefect-airbyte's failure: `raise AirbyteSyncJobFailed(f"Job {job_id} {job_status}.")`.
AIRBYTE_JOB_FAILED = re.compile(r"\bAirbyteSyncJobFailed\b.*?\bJob (?P<id>\d{1,18}) (?:failed|cancelled)\.")
# prefect-airbyte's words as it starts a sync: AirbyteConnection.trigger (the task `trigger` of
# run_connection_sync) logs f"Triggering Airbyte Connection {id}, in workspace at {url!r}" (an older
# block: "… at `airbyte_base_url` {url}"), the task trigger_sync f"Getting Airbyte Connection {id},
# poll interval …". Only a record that begins so is its own: a shell step echoing them is not.
SYNC_STARTED = re.compile(
    rf"(?:Triggering Airbyte Connection (?P<triggering>{_UUID}), in workspace at "
    rf"|Getting Airbyte Connection (?P<getting>{_UUID}), poll interval )"
)
LOGGED = "prefect-airbyte's log line starting the sync"


@dataclass(frozen=True)
class AirbyteUnit:
    """The unit's connection, how we know it, and the job id its failure message names, if any.
    `connection_id` is "" when only the job is known (prefect-airbyte's "Job <n> failed.")."""

    connection_id: str
    how: str
    job_id_hint: int | None = None


def airbyte_unit(unit: FailedUnit, run_parameters: Mapping[str, Any] | None = None) -> AirbyteUnit | None:
    """The Airbyte connection the unit synced, from (in order) its own parameters, those of the
    flow runs holding it, its state message, or the entry of the run's `config.tasks` whose slug is
    the unit's name; else, when its message is prefect-airbyte's failure, only the job it names.
    None when the unit is not an Airbyte sync, is a cascade, or the evidence names several
    connections."""
    if unit.cascade:
        return None
    found = (
        ("its parameters", _from_parameters(unit.parameters)),
        ("the parameters of its flow run", _from_flow_runs(unit.flow_parameters)),
        ("its state message", _from_message(unit.state_message)),
        ("the run's config.tasks", _from_tasks(unit.name, run_parameters or {})),
    )
    for how, connection_id in found:
        if connection_id:
            return AirbyteUnit(connection_id.lower(), how, job_id_hint(unit.state_message))
    job = AIRBYTE_JOB_FAILED.search(unit.state_message or "")
    if job is not None:
        return AirbyteUnit("", "the Airbyte job its state message names", int(job.group("id")))
    return None


def with_logged_connection(sync: AirbyteUnit, messages: Iterable[str]) -> AirbyteUnit:
    """`sync` with the connection prefect-airbyte's line starting the sync names, among the log
    messages of the unit's flow run, when its runs did not name one; unchanged when they did or
    when the lines name none or several (a flow that synced two connections does not say which
    one failed)."""
    if sync.connection_id:
        return sync
    named: set[str] = set()
    for message in messages:
        started = SYNC_STARTED.match(message)
        if started is not None:
            named.add((started.group("triggering") or started.group("getting")).lower())
    return replace(sync, connection_id=named.pop(), how=LOGGED) if len(named) == 1 else sync


def job_id_hint(message: str) -> int | None:
    """The Airbyte job id a failure message names ("Job 4567 failed"), when it names exactly one."""
    ids = {int(m.group("id")) for m in JOB_IN_MESSAGE.finditer(message or "")}
    return ids.pop() if len(ids) == 1 else None


def _from_parameters(parameters: Mapping[str, Any]) -> str | None:
    """A connection id at the top of the parameters or in a dict one level down (Dalgo's `config`);
    lists (a pipeline's task list) are not searched."""
    candidates = {_connection_of(parameters)}
    candidates |= {_connection_of(value) for value in parameters.values() if isinstance(value, Mapping)}
    candidates.discard(None)
    return candidates.pop() if len(candidates) == 1 else None


def _from_flow_runs(flow_parameters: tuple[Mapping[str, Any], ...]) -> str | None:
    """The connection of the nearest enclosing flow run whose parameters name one."""
    return next(filter(None, map(_from_parameters, flow_parameters)), None)


def _connection_of(config: Mapping[str, Any]) -> str | None:
    kind = str(config.get("type") or "airbyte").lower()
    if "airbyte" not in kind:
        return None
    for key in CONNECTION_KEYS:
        value = config.get(key)
        if isinstance(value, str) and UUID_TEXT.match(value):
            return value.lower()
    return None


def _from_message(message: str) -> str | None:
    ids = {m.group("id").lower() for m in CONNECTION_IN_MESSAGE.finditer(message or "")}
    return ids.pop() if len(ids) == 1 else None


def _from_tasks(unit_name: str, parameters: Mapping[str, Any]) -> str | None:
    config = parameters.get("config")
    tasks = config.get("tasks") if isinstance(config, Mapping) else None
    if not isinstance(tasks, list):
        return None
    names = {unit_name, _RUN_SUFFIX.sub("", unit_name)}
    mine = {_connection_of(task) for task in tasks if isinstance(task, Mapping) and task.get("slug") in names}
    mine.discard(None)
    return mine.pop() if len(mine) == 1 else None
