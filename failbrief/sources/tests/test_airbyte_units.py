"""Which Airbyte connection a failed unit synced: its own, never the deployment's first one."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from failbrief.runs.failed_units import FailedUnit
from failbrief.runs.prefect import FlowRun
from failbrief.sources.airbyte_units import airbyte_unit, job_id_hint
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
