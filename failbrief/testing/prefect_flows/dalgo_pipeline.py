# mypy: ignore-errors
"""Dalgo's shape (docs/prefect-behaviour.md §3, c): `deployment_schedule_flow_v4` runs each
configured step; an Airbyte step is a *subflow* (`run_airbyte_connection_flow_v1`) that fails
naming its connection."""

from __future__ import annotations

import time

from prefect import flow, get_run_logger, task


class AirbyteSyncJobFailed(RuntimeError):
    pass


@flow(name="run_airbyte_connection_flow_v1")
def run_airbyte_connection_flow_v1(config: dict) -> None:
    log = get_run_logger()
    connection = config["connection_id"]
    job_id = 4567
    log.info("triggering airbyte sync for connection %s", connection)
    log.info("Airbyte job %s for connection %s started", job_id, connection)
    for status in ("pending", "running", "running"):
        log.info("Job %s status: %s", job_id, status)
        time.sleep(0.2)
    log.error(
        "Job %s failed: Failure in source connector: Checking source connection failed: "
        "could not connect to server: Connection refused (host=10.0.3.7 port=5432)",
        job_id,
    )
    raise AirbyteSyncJobFailed(
        f"Job {job_id} failed. Airbyte sync for connection {connection} did not succeed "
        "(status=failed, attempts=3)"
    )


@task(name="dbtjob_v1", task_run_name="{task_config[slug]}")
def dbtjob_v1(task_config: dict) -> str:
    get_run_logger().info("running dbt for %s", task_config["slug"])
    return "ok"


@flow(name="deployment_schedule_flow_v4")
def deployment_schedule_flow_v4(config: dict) -> None:
    """Run config['tasks'] in `seq` order; any exception fails the flow (as Dalgo's does)."""
    log = get_run_logger()
    try:
        for step in sorted(config["tasks"], key=lambda step: step["seq"]):
            log.info("starting step %s (type=%s, seq=%s)", step["slug"], step["type"], step["seq"])
            if step["type"] in ("airbyte", "Airbyte Connection"):
                run_airbyte_connection_flow_v1(step)
            elif step["type"] in ("dbt", "dbt Core Operation"):
                dbtjob_v1(step)
            else:
                raise ValueError(f"Unknown task type: {step['type']}")
    except Exception as error:
        log.exception(error)
        raise
