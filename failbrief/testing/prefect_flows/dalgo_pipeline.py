# mypy: ignore-errors
"""Dalgo's pipeline as it really runs (docs/prefect-behaviour.md §3, c), written after
DalgoT4D/prefect-proxy `proxy/prefect_flows.py` and prefect-airbyte (the fork Dalgo pins,
Ishankoradia/prefect-airbyte): the same flow and task names, parameters, log lines, messages and
exception types, against the fake Airbyte (failbrief/testing/fake_airbyte.py).

`deployment_schedule_flow_v4(config)` runs `config["tasks"]` in `seq` order. An Airbyte sync is the
subflow `run_airbyte_connection_flow_v1(payload)`, payload {"type": "Airbyte Connection", "slug":
"airbyte-sync", "airbyte_server_block", "connection_id", "timeout"}; it calls prefect-airbyte's
subflow `run_connection_sync(airbyte_connection)`, whose tasks `trigger`, `wait_for_completion` and
`fetch_result` start the sync and poll it; a failed job is logged and raised by
`wait_for_completion` as `AirbyteSyncJobFailed("Job <n> failed.")`. prefect-proxy's own logger
("prefect-proxy", a plain Python logger) re-logs `str(error)`, which does not reach Prefect.

Where this differs, and why: `AirbyteServer.load(name)` reads a Prefect Variable `name` (holding
the server's host and port) instead of a block document; `run_connection_sync` is a sync flow
(prefect-airbyte's is async, called from the sync subflow); the subflow's `retries=1,
retry_delay_seconds=120` and the 10 s pauses between tasks are left out, to keep the test short.
"""

from __future__ import annotations

import logging
import uuid

import httpx
from prefect import flow, get_run_logger, task
from prefect.variables import Variable
from pydantic import BaseModel, SecretStr

# prefect-proxy's names for the block types (django's "master task" types).
AIRBYTECONNECTION = "Airbyte Connection"
SHELLOPERATION = "Shell Operation"
DBTCORE = "dbt Core Operation"

# pending┃running┃failed┃succeeded┃cancelled, as prefect-airbyte names them.
TERMINAL_JOB_STATUSES = ("succeeded", "failed", "cancelled")

logger = logging.getLogger("prefect-proxy")  # prefect-proxy's CustomLogger: not shipped to Prefect


class ConnectionNotFoundException(Exception):
    """Raises when a requested Airbyte connection cannot be found. (prefect_airbyte.exceptions)"""


class AirbyteSyncJobFailed(Exception):
    """Raises when a specified Airbyte Sync Job fails. (prefect_airbyte.exceptions)"""


class AirbyteServer(BaseModel):
    username: str = "airbyte"
    password: SecretStr = SecretStr("password")
    server_host: str = "localhost"
    server_port: int = 8000
    api_version: str = "v1"
    use_ssl: bool = False

    @classmethod
    def load(cls, name: str) -> AirbyteServer:
        return cls.model_validate(Variable.get(name))

    @property
    def base_url(self) -> str:
        scheme = "https" if self.use_ssl else "http"
        return f"{scheme}://{self.server_host}:{self.server_port}/api/{self.api_version}"

    @property
    def auth(self) -> tuple[str, str]:
        return self.username, self.password.get_secret_value()

    @property
    def public_api_base_url(self) -> str:
        scheme = "https" if self.use_ssl else "http"
        return f"{scheme}://{self.server_host}:{self.server_port}/api/public/v1"


class AirbyteConnection(BaseModel):
    airbyte_server: AirbyteServer
    connection_id: uuid.UUID
    poll_interval_s: int = 15
    status_updates: bool = False
    timeout: int = 5


@task(name="trigger")
def trigger(airbyte_connection: AirbyteConnection) -> int:
    log, server = get_run_logger(), airbyte_connection.airbyte_server
    log.info(
        f"Triggering Airbyte Connection {airbyte_connection.connection_id}, "
        f"in workspace at {server.base_url!r}"
    )
    with httpx.Client(auth=server.auth, timeout=airbyte_connection.timeout) as client:
        found = client.post(
            server.base_url + "/connections/get/",
            json={"connectionId": str(airbyte_connection.connection_id)},
        )
        if found.status_code == 404:
            raise ConnectionNotFoundException()
        found.raise_for_status()
        job = client.post(
            server.public_api_base_url + "/jobs",
            json={"jobType": "sync", "connectionId": str(airbyte_connection.connection_id)},
        )
        job.raise_for_status()
        return int(job.json()["jobId"])


@task(name="wait_for_completion")
def wait_for_completion(airbyte_connection: AirbyteConnection, job_id: int) -> None:
    log, server = get_run_logger(), airbyte_connection.airbyte_server
    job_status = "pending"
    with httpx.Client(auth=server.auth, timeout=airbyte_connection.timeout) as client:
        while job_status not in TERMINAL_JOB_STATUSES:
            log.info(f"Polling airbyte job {job_id}.")
            log.info(f"Fetching airbyte job info for job ID: {job_id}")
            answer = client.get(f"{server.public_api_base_url}/jobs/{job_id}")
            answer.raise_for_status()
            job_status = answer.json()["status"]
            if job_status == "succeeded":
                log.info(f"Job {job_id} succeeded.")
            elif job_status in ("failed", "cancelled"):
                log.error(f"Job {job_id} {job_status}.")
                raise AirbyteSyncJobFailed(f"Job {job_id} {job_status}.")


@task(name="fetch_result")
def fetch_result(airbyte_connection: AirbyteConnection, job_id: int) -> dict:
    return {"job_id": job_id, "job_status": "succeeded"}


@flow
def run_connection_sync(airbyte_connection: AirbyteConnection) -> dict:
    """prefect-airbyte's flow: trigger the sync, wait for it, fetch its result."""
    job_id = trigger(airbyte_connection)
    wait_for_completion(airbyte_connection, job_id)
    return fetch_result(airbyte_connection, job_id)


@flow
def run_airbyte_connection_flow_v1(payload: dict):
    """run an airbyte sync"""
    try:
        serverblock = AirbyteServer.load(payload["airbyte_server_block"])
        connection_block = AirbyteConnection(
            airbyte_server=serverblock,
            connection_id=payload["connection_id"],
            timeout=payload["timeout"] or 15,
        )
        result = run_connection_sync(connection_block)
        logger.info("airbyte connection sync result=")
        logger.info(result)
        return result
    except Exception as error:
        logger.error(str(error))  # "Job <num> failed."
        raise


@task(name="dbtjob_v1", task_run_name="dbtjob-{task_slug}")
def dbtjob_v1(task_config: dict, task_slug: str) -> str:
    get_run_logger().info("running dbt %s", task_config.get("commands"))
    return "ok"


@task(name="shellopjob", task_run_name="shellop-{task_slug}")
def shellopjob(task_config: dict, task_slug: str) -> str:
    get_run_logger().info("running %s", task_config.get("commands"))
    return "ok"


def _run_task(task_config: dict):
    if task_config["type"] == DBTCORE:
        dbtjob_v1(task_config, task_config["slug"])
    elif task_config["type"] == SHELLOPERATION:
        shellopjob(task_config, task_config["slug"])
    elif task_config["type"] == AIRBYTECONNECTION:
        if task_config["slug"] == "airbyte-sync":
            run_airbyte_connection_flow_v1(task_config)
        else:
            raise ValueError(f"Unsupported AIRBYTECONNECTION slug: {task_config['slug']}")
    else:
        raise ValueError(f"Unknown task type: {task_config['type']}")


@flow
def deployment_schedule_flow_v4(
    config: dict, dbt_blocks: list | None = None, airbyte_blocks: list | None = None
):
    """modification so dbt test failures are not propagated as flow failures"""
    config["tasks"].sort(key=lambda blk: blk["seq"])
    try:
        for task_config in config["tasks"]:
            _run_task(task_config)
    except Exception as error:
        logger.exception(error)
        raise
