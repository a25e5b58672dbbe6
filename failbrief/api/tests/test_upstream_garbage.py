"""Whatever Prefect or Airbyte answers to a trigger, the caller gets JSON saying what went wrong:
never a 500, and no summary row is left behind for a request that could not start."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from failbrief.orgs.manage import add_org, create_token
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_airbyte import C_CONNECTION, C_JOB, c_scenario
from failbrief.testing.scenarios import flow_run_id

B_DBT_RUN = "01a20fec-41a7-7e01-9e03-dc6641808cf4"
NESTED = b"[" * 100_000 + b"]" * 100_000  # valid JSON that Python's decoder cannot descend


@pytest.fixture
def client(db: None) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(add_org('demo', default=True))}")


@pytest.mark.usefixtures("service_settings")
def test_prefect_answering_json_nested_too_deeply_is_a_502_saying_so(client, fake_prefect):
    fake_prefect.fail_next(1, 200, NESTED)
    answer = client.get(f"/api/prefect/v1/flow_runs/{flow_run_id('b')}/logsummary?task_id={B_DBT_RUN}")
    assert answer.status_code == 502
    assert "nested too deeply" in answer.json()["detail"]
    assert not LlmSession.objects.exists()


def job_answer(**job: Any) -> dict[str, Any]:
    read = {"id": C_JOB, "configType": "sync", "configId": C_CONNECTION, "status": "failed"}
    return {"job": read | {"createdAt": 1764027546} | job, "attempts": []}


@pytest.mark.usefixtures("airbyte_settings")
@pytest.mark.parametrize(
    ("body", "says"),
    [
        (NESTED, "nested too deeply"),
        (job_answer(createdAt=1764027546000), "createdAt"),  # milliseconds where seconds belong
        (job_answer(updatedAt=10**20), "updatedAt"),
    ],
    ids=["nested", "created-in-ms", "updated-overflow"],
)
def test_airbyte_answering_garbage_to_a_trigger_is_a_502_saying_so(client, fake_airbyte, body, says):
    c_scenario(fake_airbyte)
    fake_airbyte.fail_next(1, 200, body=body)
    answer = client.get(f"/api/airbyte/v1/connections/{C_CONNECTION}/logsummary?job_id={C_JOB}")
    assert answer.status_code == 502
    assert says in answer.json()["detail"]
    assert not LlmSession.objects.exists()
