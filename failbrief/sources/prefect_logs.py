"""The logs of one failed unit, read only once Prefect has them all. Pure: no Django.

The trap (docs/prefect-behaviour.md §4): Prefect sends the failure webhook before the run's logs
are in its database. Clients ship logs in batches every 2 s and flush at exit; a subflow's logs are
flushed by its still-running parent (0 of 9 present at receipt, 5 times out of 5). So we re-read
until the unit's own "Finished in state ..." record is there (it is the last one a unit writes), or
the count has stopped changing for a while, or a cap is reached. A crashed run never writes that
record.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from failbrief.condense.condenser import records_from_prefect
from failbrief.runs.failed_units import FailedUnit
from failbrief.runs.prefect import PrefectClient, PrefectLog
from failbrief.sources.log_source import LogSource, UnitLogs

FINAL_RECORD_PREFIX = "Finished in state"

Reason = Literal["final_record", "stable", "cap"]


@dataclass(frozen=True)
class SettledLogs:
    """The last read of the logs, how many reads it took, how long we waited, and why we stopped."""

    logs: list[PrefectLog]
    reads: int
    waited_seconds: float
    reason: Reason


def settled_logs(
    fetch: Callable[[], list[PrefectLog]],
    *,
    settle_seconds: float,
    cap_seconds: float,
    is_final: Callable[[list[PrefectLog]], bool] | None = None,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll_interval: float = 0.5,
) -> SettledLogs:
    """Calls `fetch` until `is_final(logs)` holds ("final_record"), the number of records has not
    changed for `settle_seconds` ("stable"), or `cap_seconds` have passed since the first read
    ("cap"); returns the last read. Errors raised by `fetch` propagate."""
    started = clock()
    logs = fetch()
    reads, count, changed_at = 1, len(logs), started
    while True:
        now = clock()
        reason = _stop_reason(
            logs, is_final, now - changed_at >= settle_seconds, now - started >= cap_seconds
        )
        if reason is not None:
            return SettledLogs(logs, reads, now - started, reason)
        sleep(max(0.0, min(poll_interval, changed_at + settle_seconds - now, started + cap_seconds - now)))
        logs, reads = fetch(), reads + 1
        if len(logs) != count:
            count, changed_at = len(logs), clock()


def _stop_reason(
    logs: list[PrefectLog], is_final: Callable[[list[PrefectLog]], bool] | None, stable: bool, capped: bool
) -> Reason | None:
    if is_final is not None and is_final(logs):
        return "final_record"
    if stable:
        return "stable"
    return "cap" if capped else None


class PrefectLogs(LogSource):
    """The unit's own logs in Prefect, read once they have settled (see above). Always has some
    (perhaps none at all); raises the Prefect client's errors."""

    name = "prefect"

    def __init__(
        self, client: PrefectClient, unit: FailedUnit, *, settle_seconds: float, cap_seconds: float
    ) -> None:
        self.client, self.unit = client, unit
        self.settle_seconds, self.cap_seconds = settle_seconds, cap_seconds

    def read(self) -> UnitLogs:
        settled = unit_logs(
            self.client, self.unit, settle_seconds=self.settle_seconds, cap_seconds=self.cap_seconds
        )
        records = list(records_from_prefect(log.model_dump(mode="json") for log in settled.logs))
        return UnitLogs(records=records, source="prefect", waited_seconds=settled.waited_seconds)

    def flow_run_messages(self) -> list[str]:
        """The messages of the flow run holding the unit (the unit's own, for a flow-run unit), its
        task runs' included, once settled: what a unit's task run did not log itself, such as
        prefect-airbyte's task `trigger` naming the connection that `wait_for_completion` waited for."""
        settled = settled_logs(
            lambda: self.client.logs(flow_run_id=self.unit.flow_run_id),
            settle_seconds=self.settle_seconds,
            cap_seconds=self.cap_seconds,
            is_final=flow_run_finished,
        )
        return [log.message for log in settled.logs]


def unit_logs(
    client: PrefectClient, unit: FailedUnit, *, settle_seconds: float, cap_seconds: float, **kw: Any
) -> SettledLogs:
    """The settled logs of the unit: a task run's own records, or all of a flow run's records
    (its task runs' lines included, its subflows' not). `kw` goes to `settled_logs`."""
    if unit.kind == "task_run":
        return settled_logs(
            lambda: client.logs(task_run_id=unit.id),
            settle_seconds=settle_seconds,
            cap_seconds=cap_seconds,
            is_final=task_run_finished,
            **kw,
        )
    return settled_logs(
        lambda: client.logs(flow_run_id=unit.id),
        settle_seconds=settle_seconds,
        cap_seconds=cap_seconds,
        is_final=flow_run_finished,
        **kw,
    )


def task_run_finished(logs: list[PrefectLog]) -> bool:
    """Whether a task run's "Finished in state ..." record (level 40 when it failed) is there."""
    return any(log.message.startswith(FINAL_RECORD_PREFIX) for log in logs)


def flow_run_finished(logs: list[PrefectLog]) -> bool:
    """Whether the flow-level "Finished in state ..." record is there; its tasks write their own
    with a task_run_id, which must not count."""
    return any(log.task_run_id is None and log.message.startswith(FINAL_RECORD_PREFIX) for log in logs)
