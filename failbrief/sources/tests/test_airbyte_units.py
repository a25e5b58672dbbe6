"""Which Airbyte connection a failed unit synced: its own, never the deployment's first one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from failbrief.runs.failed_units import FailedUnit
from failbrief.runs.prefect import FlowRun
from failbrief.sources.airbyte_units import airbyte_unit, job_id_hint, with_logged_connection
from failbrief.testing.scenarios import captured

C_CONNECTION = "6f1c2a9e-3b7d-4e52-9a1f-0c8d2b7e4a15"
OTHER_CONNECTION = "0b9e8f7a-1c2d-4e3f-8a9b-7c6d5e4f3a2b"
PIPELINE = {
    "config": {
        "tasks": [
            {"slug": "airbyte-orders", "type": "airbyte", "connection_id": OTHER_CONNECTION, "seq": 1},
            {"slug": "airbyte-sync", "type": "airbyte", "connection_id": C_CONNECTION, "seq": 2},
            {"slug": "dbt-run", "type": "dbt", "seq": 3},
        ]
    }
}


def unit(
    name: str = "task", message: str = "", parameters: dict[str, Any] | None = None, **kw: Any
) -> FailedUnit:
    fields: dict[str, Any] = {
        "kind": "task_run",
        "id": "01a20fec-41a7-7e01-9e03-dc6641808cf4",
        "name": name,
        "flow_run_id": "0b59dfe2-2741-41e2-8685-dbc036b23e5d",
        "lineage": ("0b59dfe2-2741-41e2-8685-dbc036b23e5d",),
        "state_type": "FAILED",
        "state_name": "Failed",
        "state_message": message,
        "start_time": datetime(2026, 11, 24, tzinfo=UTC),
        "end_time": None,
        "parameters": parameters or {},
    } | kw
    return FailedUnit(**fields)


def test_dalgos_airbyte_subflow_names_its_connection_in_its_own_parameters():
    subflow = FlowRun.model_validate(captured("c_subflow_flow_run.json"))
    found = airbyte_unit(unit("yellow-lorikeet", subflow.state_message, subflow.parameters, kind="flow_run"))
    assert found is not None
    assert found.connection_id == C_CONNECTION
    assert found.how == "its parameters"
    assert found.job_id_hint == 4567  # "Job 4567 failed." in its state message


def test_the_wrapper_message_names_the_connection_of_a_task_run():
    message = f"AirbyteSyncJobFailed: Airbyte sync for connection {C_CONNECTION} did not succeed"
    found = airbyte_unit(unit("run_airbyte_connection_flow_v1-0", message))
    assert found is not None
    assert (found.connection_id, found.how) == (C_CONNECTION, "its state message")


def test_the_run_task_list_is_used_only_for_the_entry_named_like_the_unit():
    found = airbyte_unit(unit("airbyte-sync-0"), PIPELINE)
    assert found is not None
    assert found.connection_id == C_CONNECTION  # not OTHER_CONNECTION, the first of the deployment


def test_a_dbt_unit_in_a_pipeline_with_airbyte_connections_is_not_an_airbyte_sync():
    assert airbyte_unit(unit("dbt-run", "Command failed with exit code 1"), PIPELINE) is None


def test_a_top_level_run_listing_several_connections_is_not_one_sync():
    top = FlowRun.model_validate(captured("c_flow_run.json"))
    # Its message names one connection: that one is the failure's, whatever the task list says.
    found = airbyte_unit(unit(top.name, top.state_message, PIPELINE, kind="flow_run"), PIPELINE)
    assert found is not None
    assert (found.connection_id, found.how) == (C_CONNECTION, "its state message")
    assert airbyte_unit(unit(top.name, "boom", PIPELINE, kind="flow_run"), PIPELINE) is None


def test_a_message_naming_two_connections_names_none():
    message = f"connection {C_CONNECTION} and connection {OTHER_CONNECTION} failed"
    assert airbyte_unit(unit("sync", message)) is None


def test_a_cascade_is_never_an_airbyte_sync():
    message = f"Airbyte sync for connection {C_CONNECTION} did not succeed"
    assert airbyte_unit(unit("airbyte-sync", message, cascade=True, cascade_reason="upstream")) is None


def test_a_non_uuid_connection_id_is_ignored():
    assert airbyte_unit(unit("sync", parameters={"connection_id": "../../etc/passwd"})) is None


def test_a_job_hint_is_taken_only_when_one_job_is_named():
    assert job_id_hint("Job 4567 failed. Airbyte sync did not succeed") == 4567
    assert job_id_hint("job_id=12 retried as job 13") is None
    assert job_id_hint("no job here") is None


# Dalgo's real shapes (DalgoT4D/prefect-proxy, prefect-airbyte): the subflow takes `payload`, and
# the failure is prefect-airbyte's AirbyteSyncJobFailed("Job <n> failed.") in the task
# `wait_for_completion` of the inner `run_connection_sync` subflow.
DALGO_PAYLOAD = {
    "type": "Airbyte Connection",
    "slug": "airbyte-sync",
    "seq": 1,
    "airbyte_server_block": "dalgo-airbyte-server",
    "connection_id": C_CONNECTION,
    "timeout": 15,
}
DALGO_PIPELINE = {
    "config": {
        "org_slug": "demo",
        "tasks": [
            DALGO_PAYLOAD,
            {**DALGO_PAYLOAD, "seq": 2, "connection_id": OTHER_CONNECTION},
            {"type": "dbt Core Operation", "slug": "dbt-run", "seq": 3, "commands": ["dbt run"]},
        ],
    }
}
# What run_connection_sync's own parameters hold: the AirbyteConnection block, serialized.
SYNC_BLOCK = {
    "airbyte_connection": {
        "airbyte_server": {"server_host": "airbyte", "server_port": 8000, "api_version": "v1"},
        "connection_id": C_CONNECTION,
        "poll_interval_s": 15,
        "status_updates": False,
        "timeout": 15,
    }
}
JOB_FAILED = "Task run encountered an exception AirbyteSyncJobFailed: Job 4567 failed."


def test_dalgos_payload_parameter_names_the_subflows_connection():
    message = "Flow run encountered an exception: AirbyteSyncJobFailed: Job 4567 failed."
    found = airbyte_unit(
        unit("crimson-fox", message, {"payload": DALGO_PAYLOAD}, kind="flow_run"), DALGO_PIPELINE
    )
    assert found is not None
    assert (found.connection_id, found.how, found.job_id_hint) == (C_CONNECTION, "its parameters", 4567)


def test_the_failed_wait_for_completion_task_takes_its_connection_from_the_subflows_around_it():
    task = unit(
        "wait_for_completion-3c1",
        JOB_FAILED,
        flow_parameters=({}, {"payload": DALGO_PAYLOAD}, DALGO_PIPELINE),
    )
    found = airbyte_unit(task, DALGO_PIPELINE)
    assert found is not None
    assert (found.connection_id, found.how, found.job_id_hint) == (
        C_CONNECTION,
        "the parameters of its flow run",
        4567,
    )
    # The nearest flow run naming a connection wins: prefect-airbyte's own subflow, the block.
    nearest = unit("wait_for_completion-3c1", JOB_FAILED, flow_parameters=(SYNC_BLOCK, DALGO_PIPELINE))
    assert airbyte_unit(nearest) == found


def test_prefect_airbytes_job_failed_message_alone_makes_an_airbyte_sync_of_that_job():
    found = airbyte_unit(unit("wait_for_completion-3c1", JOB_FAILED))
    assert found is not None
    assert (found.connection_id, found.job_id_hint) == ("", 4567)
    assert found.how == "the Airbyte job its state message names"
    cancelled = airbyte_unit(
        unit("t", "Task run encountered an exception AirbyteSyncJobFailed: Job 12 cancelled.")
    )
    assert cancelled is not None
    assert cancelled.job_id_hint == 12


def test_a_job_failed_message_of_another_kind_is_not_an_airbyte_sync():
    # Dalgo's dbt Cloud task logs "Job <num> failed." too, but never raises AirbyteSyncJobFailed.
    assert (
        airbyte_unit(
            unit("dbtcloudjob-dbt-run", "Task run encountered an exception Exception: Job 77 failed.")
        )
        is None
    )


def test_a_dbt_task_of_a_dalgo_pipeline_is_not_an_airbyte_sync():
    task = unit("dbtjob-dbt-run", "Command failed with exit code 1", flow_parameters=(DALGO_PIPELINE,))
    assert airbyte_unit(task, DALGO_PIPELINE) is None


# prefect-airbyte's own words as it starts a sync: AirbyteConnection.trigger (the task `trigger` of
# run_connection_sync), an older AirbyteSync block's trigger, and the task trigger_sync.
TRIGGERING = f"Triggering Airbyte Connection {C_CONNECTION}, in workspace at 'http://airbyte:8000/api/v1'"
TRIGGERING_BLOCK = (
    f"Triggering Airbyte Connection {C_CONNECTION}, in workspace at `airbyte_base_url` "
    "http://airbyte:8000/api/v1"
)
GETTING = (
    f"Getting Airbyte Connection {C_CONNECTION}, poll interval 15 seconds, airbyte_base_url "
    "http://airbyte:8000/api/v1"
)
ONLY_THE_JOB = airbyte_unit(unit("wait_for_completion-0", JOB_FAILED))


@pytest.mark.parametrize("line", [TRIGGERING, TRIGGERING_BLOCK, GETTING], ids=["trigger", "block", "task"])
def test_prefect_airbytes_line_starting_the_sync_names_the_connection_the_job_alone_does_not(line):
    assert ONLY_THE_JOB is not None
    logs = ["Beginning subflow run 'mauve-heron' for flow 'run_connection_sync'", line, "Job 4567 failed."]

    found = with_logged_connection(ONLY_THE_JOB, logs)

    assert (found.connection_id, found.job_id_hint) == (C_CONNECTION, 4567)
    assert found.how == "prefect-airbyte's log line starting the sync"


def test_a_flow_that_started_syncs_of_two_connections_does_not_say_which_one_failed():
    assert ONLY_THE_JOB is not None
    other = TRIGGERING.replace(C_CONNECTION, OTHER_CONNECTION)
    assert with_logged_connection(ONLY_THE_JOB, [TRIGGERING, other, "Job 4567 failed."]) == ONLY_THE_JOB
    # The same connection twice (the subflow retried) is still one.
    assert with_logged_connection(ONLY_THE_JOB, [TRIGGERING, TRIGGERING]).connection_id == C_CONNECTION


def test_the_words_inside_another_line_are_not_prefect_airbytes():
    # A shell or dbt step's output is anyone's text: only a record that is prefect-airbyte's own counts.
    assert ONLY_THE_JOB is not None
    echoed = f"PID 4012 stream output: {TRIGGERING}"
    assert with_logged_connection(ONLY_THE_JOB, [echoed]) == ONLY_THE_JOB


def test_the_connection_its_parameters_name_is_kept_over_a_logged_one():
    named = airbyte_unit(unit("wait_for_completion-0", JOB_FAILED, flow_parameters=(SYNC_BLOCK,)))
    assert named is not None
    other = TRIGGERING.replace(C_CONNECTION, OTHER_CONNECTION)
    assert with_logged_connection(named, [other]) == named
