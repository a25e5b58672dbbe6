"""failed_units and flow_run_lineage on the captured Prefect runs, served by the loopback fake."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from failbrief.runs.failed_units import failed_units, flow_run_lineage
from failbrief.runs.prefect import PrefectClient
from failbrief.testing.fake_prefect import FakePrefect

A_TRANSFORM = "01a20fe9-a124-77ea-bae2-15071a31e8e6"
A2_TRANSFORM = "01a20fef-38a2-771c-9c28-32993b53d93c"
A2_LOAD = "01a20fef-38a7-7e53-a0f3-8835b396b300"
B_DBT_RUN = "01a20fec-41a7-7e01-9e03-dc6641808cf4"
B_DBT_TEST = "01a20fec-4c1d-7faa-be7c-80024a1a93ae"
C_PARENT = "0b59dfe2-2741-41e2-8685-dbc036b23e5d"
C_SUBFLOW = "350bade4-02c0-409c-8eda-e43d40bdb33f"
C_WRAPPER = "7fa8b3be-ccb8-4987-8dd9-dd0a1db7d1ad"
CONNECTION_ID = "6f1c2a9e-3b7d-4e52-9a1f-0c8d2b7e4a15"


@pytest.fixture
def fake() -> Iterator[FakePrefect]:
    with FakePrefect() as server:
        yield server


@pytest.fixture
def client(fake: FakePrefect) -> Iterator[PrefectClient]:
    with PrefectClient(fake.url, retries=0) as prefect:
        yield prefect


def test_it_finds_the_raising_task_of_a(client: PrefectClient, fake: FakePrefect) -> None:
    [unit] = failed_units(client, fake.flow_run_id_of("a"))
    assert (unit.kind, unit.id, unit.name) == ("task_run", A_TRANSFORM, "transform_orders-cc1")
    assert unit.flow_run_id == fake.flow_run_id_of("a")
    assert unit.lineage == (fake.flow_run_id_of("a"),)
    assert (
        unit.state_message
        == "Task run encountered an exception ValueError: Cannot convert order 0: unsupported currency None"
    )
    assert not unit.cascade
    assert unit.cascade_reason is None
    assert unit.parameters == {}


def test_it_names_the_root_task_of_a2_first_and_marks_the_not_ready_one_a_cascade(
    client: PrefectClient, fake: FakePrefect
) -> None:
    root, cascade = failed_units(client, fake.flow_run_id_of("a2"))
    assert (root.id, root.name, root.cascade) == (A2_TRANSFORM, "transform_orders-625", False)
    assert (cascade.id, cascade.name, cascade.state_name) == (A2_LOAD, "load_orders-d6c", "NotReady")
    assert cascade.cascade is True
    assert cascade.cascade_reason == "upstream task transform_orders-625 did not complete"


def test_it_finds_both_failed_dbt_tasks_of_b_as_independent_roots(
    client: PrefectClient, fake: FakePrefect
) -> None:
    units = failed_units(client, fake.flow_run_id_of("b"))
    assert [(u.id, u.name, u.cascade) for u in units] == [
        (B_DBT_RUN, "dbt-run", False),
        (B_DBT_TEST, "dbt-test", False),
    ]


def test_it_finds_the_subflow_run_as_the_failed_unit_of_c(client: PrefectClient) -> None:
    [unit] = failed_units(client, C_PARENT)
    assert (unit.kind, unit.id, unit.name) == ("flow_run", C_SUBFLOW, "yellow-lorikeet")
    assert unit.flow_run_id == C_SUBFLOW
    assert unit.lineage == (C_PARENT, C_SUBFLOW)
    assert unit.parameters["config"]["connection_id"] == CONNECTION_ID
    assert unit.state_message.startswith(
        "Flow run encountered an exception: AirbyteSyncJobFailed: Job 4567 failed"
    )
    assert not unit.cascade


def test_it_finds_the_subflow_itself_when_asked_about_the_subflow_of_c(client: PrefectClient) -> None:
    [unit] = failed_units(client, C_SUBFLOW)
    assert (unit.kind, unit.id, unit.lineage) == ("flow_run", C_SUBFLOW, (C_SUBFLOW,))


def test_it_keeps_the_wrapper_task_when_subflows_are_beyond_the_depth_limit(client: PrefectClient) -> None:
    [unit] = failed_units(client, C_PARENT, max_depth=0)
    assert (unit.kind, unit.id, unit.name) == ("task_run", C_WRAPPER, "run_airbyte_connection_flow_v1-0")


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("d", "Process exited with status code: -9. Process exited due to a SIGKILL signal."),
        ("d2", "Process exited with status code: 3. Process exited with an unexpected status code."),
    ],
)
def test_it_names_the_crashed_flow_run_itself_when_its_task_is_stuck_running(
    client: PrefectClient, fake: FakePrefect, scenario: str, message: str
) -> None:
    [unit] = failed_units(client, fake.flow_run_id_of(scenario))
    assert (unit.kind, unit.id, unit.state_type) == ("flow_run", fake.flow_run_id_of(scenario), "CRASHED")
    assert unit.state_message.startswith(message)
    assert unit.lineage == (unit.id,)


def test_it_finds_nothing_in_a_run_that_did_not_fail(client: PrefectClient, fake: FakePrefect) -> None:
    run_id = str(uuid.uuid4())
    fake.add_flow_run(
        {"id": run_id, "name": "calm-run", "state_type": "COMPLETED", "state_name": "Completed"}
    )
    assert failed_units(client, run_id) == []


def test_it_marks_a_task_failed_by_an_unfinished_upstream_as_a_cascade(
    client: PrefectClient, fake: FakePrefect
) -> None:
    ids = fake.clone_scenario("a2")
    load = client.task_run(ids[A2_LOAD]).model_dump(mode="json")
    load["state"] = {
        "type": "FAILED",
        "name": "Failed",
        "message": "Task run encountered an exception UnfinishedRun: Run is in PENDING state",
    }
    fake.add_task_runs([{**load, "state_type": "FAILED", "state_name": "Failed"}])
    root, cascade = failed_units(client, ids[fake.flow_run_id_of("a2")])
    assert root.id == ids[A2_TRANSFORM]
    assert not root.cascade
    assert cascade.id == ids[A2_LOAD]
    assert cascade.cascade_reason == "upstream task transform_orders-625 did not complete"


def test_it_finds_the_same_units_in_a_cloned_scenario_under_the_new_ids(
    client: PrefectClient, fake: FakePrefect
) -> None:
    ids = fake.clone_scenario("c")
    [unit] = failed_units(client, ids[C_PARENT])
    assert (unit.id, unit.lineage) == (ids[C_SUBFLOW], (ids[C_PARENT], ids[C_SUBFLOW]))
    assert client.flow_run(ids[C_SUBFLOW]).parent_task_run_id == ids[C_WRAPPER]
    assert [u.id for u in failed_units(client, C_PARENT)] == [C_SUBFLOW]


def test_a_cloned_cascade_names_its_cloned_upstream(client: PrefectClient, fake: FakePrefect) -> None:
    ids = fake.clone_scenario("a2")
    root, cascade = failed_units(client, ids[fake.flow_run_id_of("a2")])
    assert ids[A2_TRANSFORM] in cascade.state_message
    assert cascade.cascade_reason == f"upstream task {root.name} did not complete"


def test_it_walks_from_the_subflow_of_c_up_to_its_parent(client: PrefectClient) -> None:
    assert flow_run_lineage(client, client.flow_run(C_SUBFLOW)) == (C_PARENT, C_SUBFLOW)


def test_a_top_level_run_is_its_own_root(client: PrefectClient) -> None:
    assert flow_run_lineage(client, client.flow_run(C_PARENT)) == (C_PARENT,)


def test_the_walk_up_stops_at_the_highest_run_it_can_read(client: PrefectClient, fake: FakePrefect) -> None:
    fake.delete_flow_run(C_PARENT)
    assert flow_run_lineage(client, client.flow_run(C_SUBFLOW)) == (C_SUBFLOW,)


def test_a_dalgo_dbt_test_failed_run_names_its_dbt_test_task(
    client: PrefectClient, fake: FakePrefect
) -> None:
    # Dalgo turns a dbt test failure into State(type=COMPLETED, name="DBT_TEST_FAILED").
    ids = fake.clone_scenario("b")
    run = client.flow_run(ids[fake.flow_run_id_of("b")]).model_dump(mode="json")
    fake.add_flow_run({**run, "state_type": "COMPLETED", "state_name": "DBT_TEST_FAILED"})
    for task_id, state in ((ids[B_DBT_RUN], "Completed"), (ids[B_DBT_TEST], "DBT_TEST_FAILED")):
        task = client.task_run(task_id).model_dump(mode="json")
        fake.add_task_runs([{**task, "state_type": "COMPLETED", "state_name": state}])
    (unit,) = failed_units(client, run["id"])
    assert (unit.id, unit.name, unit.cascade) == (ids[B_DBT_TEST], "dbt-test", False)


def test_a_run_whose_state_names_a_failure_without_a_type_is_failed_as_the_webhook_says(
    client: PrefectClient, fake: FakePrefect
) -> None:
    # The webhook intake takes "entered state Crashed" by the name alone; the unit search agrees.
    run_id = str(uuid.uuid4())
    fake.add_flow_run({"id": run_id, "name": "typeless", "state_type": None, "state_name": "Crashed"})
    [unit] = failed_units(client, run_id)
    assert (unit.kind, unit.id, unit.state_name) == ("flow_run", run_id, "Crashed")
