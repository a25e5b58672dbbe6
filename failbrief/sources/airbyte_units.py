"""Which Airbyte connection a failed unit was syncing, if any. Pure: no Django.

Dalgo runs each connection as a subflow (`run_airbyte_connection_flow_v1`) whose parameters are
{"config": {"type": "airbyte", "connection_id": ..., "slug": ...}}, while the top-level run's
parameters.config.tasks[] lists every step of the pipeline. The wrapper's failure says "Airbyte
sync for connection <id> did not succeed". The connection must be the failed unit's own: a run's
task list names every connection of the deployment, so it is used only for the entry whose slug is
the unit's name, never as "the first connection".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class AirbyteUnit:
    """The unit's connection, how we know it, and the job id its failure message names, if any."""

    connection_id: str
    how: str
    job_id_hint: int | None = None


def airbyte_unit(unit: FailedUnit, run_parameters: Mapping[str, Any] | None = None) -> AirbyteUnit | None:
    """The Airbyte connection the unit synced, from (in order) its own parameters, its state
    message, or the entry of the run's `config.tasks` whose slug is the unit's name. None when the
    unit is not an Airbyte sync, is a cascade, or the evidence names several connections."""
    if unit.cascade:
        return None
    found = (
        ("its parameters", _from_parameters(unit.parameters)),
        ("its state message", _from_message(unit.state_message)),
        ("the run's config.tasks", _from_tasks(unit.name, run_parameters or {})),
    )
    for how, connection_id in found:
        if connection_id:
            return AirbyteUnit(connection_id.lower(), how, job_id_hint(unit.state_message))
    return None


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
