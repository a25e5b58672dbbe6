"""Settling the logs of a failed unit while Prefect is still receiving them (docs/prefect-behaviour.md §4)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from failbrief.runs.failed_units import failed_units
from failbrief.runs.prefect import PrefectClient, PrefectLog
from failbrief.sources.prefect_logs import flow_run_finished, settled_logs, task_run_finished, unit_logs
from failbrief.testing.fake_prefect import DEFAULT_PAYLOAD_DIR, FakePrefect

A2_TRANSFORM = "01a20fef-38a2-771c-9c28-32993b53d93c"
C_PARENT = "0b59dfe2-2741-41e2-8685-dbc036b23e5d"
C_SUBFLOW = "350bade4-02c0-409c-8eda-e43d40bdb33f"


class FakeTime:
    """A clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def captured_logs(name: str) -> list[PrefectLog]:
    records = json.loads((DEFAULT_PAYLOAD_DIR / name).read_text())
    return [PrefectLog.model_validate(record) for record in records]


def arriving(
    logs: list[PrefectLog], time: FakeTime, visible_at: Callable[[float], int]
) -> Callable[[], list[PrefectLog]]:
    """A fetch that returns the first `visible_at(now)` logs: what Prefect has received by then."""
    return lambda: logs[: visible_at(time.now)]


@pytest.fixture
def fake() -> Iterator[FakePrefect]:
    with FakePrefect() as server:
        yield server


@pytest.fixture
def client(fake: FakePrefect) -> Iterator[PrefectClient]:
    with PrefectClient(fake.url, retries=0) as prefect:
        yield prefect


def test_it_waits_for_held_back_logs_until_the_final_record_arrives() -> None:
    time, logs = FakeTime(), captured_logs("c_subflow_logs_flow.json")
    fetch = arriving(logs, time, lambda now: 0 if now < 4.0 else len(logs))
    settled = settled_logs(
        fetch,
        settle_seconds=5,
        cap_seconds=15,
        is_final=flow_run_finished,
        clock=time.clock,
        sleep=time.sleep,
    )
    assert settled.reason == "final_record"
    assert settled.logs == logs
    assert settled.reads == 9
    assert settled.waited_seconds == 4.0


def test_it_returns_at_once_when_the_final_record_is_already_there() -> None:
    time, logs = FakeTime(), captured_logs("a2_logs_task.json")
    settled = settled_logs(
        lambda: logs,
        settle_seconds=2,
        cap_seconds=15,
        is_final=task_run_finished,
        clock=time.clock,
        sleep=time.sleep,
    )
    assert (settled.reason, settled.reads, settled.waited_seconds) == ("final_record", 1, 0.0)


def test_it_settles_on_a_stable_count_for_a_crashed_run_that_never_finishes() -> None:
    time, logs = FakeTime(), captured_logs("d_logs_flow.json")
    fetch = arriving(logs, time, lambda now: 1 if now < 1.0 else len(logs))
    settled = settled_logs(
        fetch,
        settle_seconds=2,
        cap_seconds=15,
        is_final=flow_run_finished,
        clock=time.clock,
        sleep=time.sleep,
    )
    assert settled.reason == "stable"
    assert settled.logs == logs
    assert settled.waited_seconds == pytest.approx(3.0)


def test_it_stops_at_the_cap_while_logs_keep_trickling_in() -> None:
    time, logs = FakeTime(), captured_logs("b_logs_flow.json")
    fetch = arriving(logs, time, lambda now: min(len(logs), 1 + int(now * 4)))
    settled = settled_logs(
        fetch,
        settle_seconds=1,
        cap_seconds=6,
        is_final=flow_run_finished,
        clock=time.clock,
        sleep=time.sleep,
        poll_interval=0.25,
    )
    assert settled.reason == "cap"
    assert settled.waited_seconds == pytest.approx(6.0)
    assert len(settled.logs) == 25


def test_a_tasks_finished_record_does_not_finish_its_flow_run() -> None:
    time, logs = FakeTime(), captured_logs("a_logs_flow.json")
    until_task_finished = [
        log for log in logs if log.task_run_id is not None or "Finished" not in log.message
    ]
    settled = settled_logs(
        lambda: until_task_finished,
        settle_seconds=2,
        cap_seconds=15,
        is_final=flow_run_finished,
        clock=time.clock,
        sleep=time.sleep,
    )
    assert task_run_finished(until_task_finished)
    assert settled.reason == "stable"


def test_it_reads_the_held_back_subflow_logs_of_c_once_released(
    client: PrefectClient, fake: FakePrefect
) -> None:
    [unit] = failed_units(client, C_PARENT)
    fake.hold_logs(C_SUBFLOW, visible=0, release_after=0.2)
    settled = unit_logs(client, unit, settle_seconds=0.3, cap_seconds=5, poll_interval=0.05)
    assert settled.reason == "final_record"
    assert len(settled.logs) == 9
    assert settled.reads > 1
    assert settled.logs[-1].message.startswith("Finished in state Failed")


def test_it_reads_a_held_back_task_run_until_its_level_40_finished_record(
    client: PrefectClient, fake: FakePrefect
) -> None:
    root = failed_units(client, fake.flow_run_id_of("a2"))[0]
    fake.hold_logs(A2_TRANSFORM, visible=3, release_after=0.2)
    settled = unit_logs(client, root, settle_seconds=0.3, cap_seconds=5, poll_interval=0.05)
    assert settled.reason == "final_record"
    assert {log.task_run_id for log in settled.logs} == {A2_TRANSFORM}
    assert len(settled.logs) == 7
    assert settled.logs[-1].level == 40


def test_it_settles_the_logs_of_a_crashed_run_on_a_stable_count(
    client: PrefectClient, fake: FakePrefect
) -> None:
    [unit] = failed_units(client, fake.flow_run_id_of("d"))
    settled = unit_logs(client, unit, settle_seconds=0.3, cap_seconds=5, poll_interval=0.05)
    assert settled.reason == "stable"
    assert [log.message for log in settled.logs][
        -1
    ] == "loading 40M rows from raw.events into memory (mode=sigkill)"


def test_the_captured_payloads_are_where_the_fake_looks() -> None:
    assert Path(DEFAULT_PAYLOAD_DIR, "c_subflow_logs_flow.json").is_file()
