"""Logs of the task's recent successful runs are fetched once and teach the condenser what is noise."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.core.cache import cache

from failbrief.condense.condenser import condense, records_from_prefect
from failbrief.runs.failed_units import failed_units
from failbrief.runs.prefect import PrefectClient
from failbrief.sources.baseline import baseline_records
from failbrief.testing.fake_prefect import FakePrefect

DEPLOYMENT = "9d0c6a3e-1b2f-4c5d-8e7f-0a1b2c3d4e5f"
GOOD_RUN, GOOD_TASK = "11111111-0000-4000-8000-000000000001", "11111111-0000-4000-8000-000000000002"
BAD_RUN, BAD_TASK = "22222222-0000-4000-8000-000000000001", "22222222-0000-4000-8000-000000000002"
ERROR = 'psycopg.errors.UndefinedTable: relation "staging.orders" does not exist'


def run(run_id: str, state: str, end: str) -> dict[str, object]:
    state_type = "COMPLETED" if state == "Completed" else "FAILED"
    return {
        "id": run_id,
        "name": f"run-{run_id[:4]}",
        "deployment_id": DEPLOYMENT,
        "state_type": state_type,
        "state_name": state,
        "start_time": end,
        "end_time": end,
        "parameters": {},
        "tags": [],
        "state": {"type": state_type, "name": state, "message": "", "timestamp": end},
    }


def task(task_id: str, run_id: str, state: str) -> dict[str, object]:
    state_type = "COMPLETED" if state == "Completed" else "FAILED"
    return {
        "id": task_id,
        "name": "load_orders-1",
        "flow_run_id": run_id,
        "task_key": "load_orders-5e1c",
        "state_type": state_type,
        "state_name": state,
        "start_time": "2026-11-24T10:00:00+00:00",
        "state": {"type": state_type, "name": state, "message": ""},
        "task_inputs": {},
    }


def logs(task_id: str, run_id: str, lines: list[str]) -> list[dict[str, object]]:
    return [
        {
            "id": f"{task_id[:8]}-{i:04d}-4000-8000-000000000000",
            "level": 20,
            "message": line,
            "timestamp": f"2026-11-24T10:00:{i % 60:02d}+00:00",
            "flow_run_id": run_id,
            "task_run_id": task_id,
            "name": "prefect.task_runs",
        }
        for i, line in enumerate(lines)
    ]


def noise(seed: int) -> list[str]:
    return [f"Loaded batch {seed + i} of {500 + i} rows into staging.orders_tmp_{i}" for i in range(40)]


@pytest.fixture
def prefect(db: None) -> Iterator[FakePrefect]:  # the cache is a database table on the embedded defaults
    cache.clear()
    with FakePrefect() as fake:
        fake.add_flow_run(run(GOOD_RUN, "Completed", "2026-11-23T10:00:00+00:00"))
        fake.add_flow_run(run(BAD_RUN, "Failed", "2026-11-24T10:05:00+00:00"))
        fake.add_task_runs([task(GOOD_TASK, GOOD_RUN, "Completed"), task(BAD_TASK, BAD_RUN, "Failed")])
        fake.add_logs(logs(GOOD_TASK, GOOD_RUN, noise(0)))
        fake.add_logs(logs(BAD_TASK, BAD_RUN, [*noise(7), ERROR]))
        yield fake


def test_it_reads_the_same_tasks_logs_from_the_deployments_successful_run(prefect):
    with PrefectClient(prefect.url) as client:
        unit = failed_units(client, BAD_RUN)[0]
        baseline = baseline_records(client, unit, client.flow_run(BAD_RUN))
    assert [r.message for r in baseline] == noise(0)


def test_with_the_baseline_the_context_drops_normal_noise_and_keeps_the_error(prefect):
    with PrefectClient(prefect.url) as client:
        unit = failed_units(client, BAD_RUN)[0]
        baseline = baseline_records(client, unit, client.flow_run(BAD_RUN))
        failing = client.logs(task_run_id=BAD_TASK)
    as_records = [entry.model_dump(mode="json") for entry in failing]
    plain = condense(records_from_prefect(as_records))
    taught = condense(records_from_prefect(as_records), baseline=baseline)
    assert ERROR in plain.text
    assert ERROR in taught.text
    assert "Loaded batch" in plain.text
    assert "Loaded batch" not in taught.text
    assert taught.tokens < plain.tokens


def test_a_second_failure_of_the_same_task_reads_the_baseline_from_the_cache(prefect):
    with PrefectClient(prefect.url) as client:
        unit = failed_units(client, BAD_RUN)[0]
        baseline_records(client, unit, client.flow_run(BAD_RUN))
        asked = len(prefect.requests)
        again = baseline_records(client, unit, client.flow_run(BAD_RUN))
    new_paths = [path for _, path, _ in prefect.requests[asked:]]
    assert again
    assert not any("logs/filter" in path or "flow_runs/filter" in path for path in new_paths)


def test_no_deployment_means_no_baseline_and_prefect_down_is_not_an_error(prefect):
    with PrefectClient(prefect.url, retries=0) as client:
        unit = failed_units(client, BAD_RUN)[0]
        bad_run = client.flow_run(BAD_RUN)
        assert baseline_records(client, unit, bad_run.model_copy(update={"deployment_id": None})) == []
        prefect.fail_next(20, status=503)
        assert baseline_records(client, unit, bad_run) == []
