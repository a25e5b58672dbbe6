"""Dalgo's webapp asks for a summary by a node of the run's graph: FlowLogs lists
prefect-proxy's `flow_runs/graph/{id}` (Prefect's graph-v2: the run's own task runs, each subflow
as one `flow-run` node) and sends that node's id as `task_id`. A failure inside a subflow (Dalgo's
Airbyte step fails in prefect-airbyte's `wait_for_completion`, two subflows down) is therefore
asked for by the subflow's id, never by the failed task's; Dalgo's own automatic summary is keyed
by that node too (DDP_backend `trigger_log_summarization_for_failed_flow`)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.fixtures import completed_summaries, post_webhook, wait_for
from failbrief.testing.scenarios import dalgo_body, flow_run_id

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

B_DBT_RUN = "01a20fec-41a7-7e01-9e03-dc6641808cf4"  # scenario b's root failure
B_CAUSE = "column o.amount_usd does not exist"


def pipeline_with_failing_subflow(fake: FakePrefect) -> tuple[str, str, str]:
    """Scenario b run as a subflow of a Dalgo pipeline run: (pipeline run, subflow node, the failed
    dbt task inside the subflow)."""
    ids = fake.clone_scenario("b")
    subflow_id = ids[flow_run_id("b")]
    subflow: dict[str, Any] = httpx.get(f"{fake.url}/flow_runs/{subflow_id}", timeout=5).json()
    parent_id, wrapper_id = str(uuid.uuid4()), str(uuid.uuid4())
    state_of_parent = subflow["state"] | {
        "id": str(uuid.uuid4()),
        "state_details": subflow["state"]["state_details"] | {"flow_run_id": parent_id},
    }
    fake.add_flow_run(subflow | {"id": parent_id, "name": "dalgo-pipeline", "state": state_of_parent})
    task: dict[str, Any] = httpx.get(f"{fake.url}/task_runs/{ids[B_DBT_RUN]}", timeout=5).json()
    wrapper_state = task["state"] | {
        "id": str(uuid.uuid4()),
        "message": "Flow run encountered an exception: 2/3 states failed.",
        "state_details": task["state"]["state_details"]
        | {"flow_run_id": parent_id, "task_run_id": wrapper_id, "child_flow_run_id": subflow_id},
    }
    wrapper = task | {
        "id": wrapper_id,
        "name": "run_airbyte_connection_flow_v1-0",
        "flow_run_id": parent_id,
        "state": wrapper_state,
        "task_inputs": {},
    }
    fake.add_task_runs([wrapper])
    fake.add_flow_run(subflow | {"parent_task_run_id": wrapper_id})
    return parent_id, subflow_id, ids[B_DBT_RUN]


def trigger(base: str, token: str, run_id: str, node_id: str, regenerate: int = 0) -> str:
    answer = httpx.get(
        f"{base}/api/prefect/v1/flow_runs/{run_id}/logsummary",
        params={"task_id": node_id, "regenerate": regenerate},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    handle: str = answer.json()["task_id"]
    return handle


def last_progress(base: str, token: str, handle: str) -> dict[str, Any]:
    auth = {"Authorization": f"Bearer {token}"}
    answer = httpx.get(f"{base}/api/tasks/stp/{handle}", headers=auth, timeout=5)
    last: dict[str, Any] = answer.json()["progress"][-1]
    return last


def done(base: str, token: str, handle: str) -> dict[str, Any] | None:
    last = last_progress(base, token, handle)
    return last if last["status"] != "running" else None


def test_the_subflow_node_the_webapp_lists_gets_the_webhooks_summary_of_the_failure_inside_it(
    live_server, default_org, fake_prefect
):
    _, token = default_org
    parent_id, subflow_id, failed_task = pipeline_with_failing_subflow(fake_prefect)
    assert post_webhook(live_server.url, dalgo_body(parent_id, "dalgo-pipeline")).status_code == 202
    summaries = wait_for(lambda: completed_summaries(live_server.url, token, parent_id), timeout=15)
    root = next(s for s in summaries if s["task_id"] == failed_task)
    stored = LlmSession.objects.count()

    handle = trigger(live_server.url, token, parent_id, subflow_id)

    assert handle == str(root["request_uuid"])  # the webhook's summary, not a second one
    last = last_progress(live_server.url, token, handle)
    assert last["status"] == "completed"
    assert B_CAUSE in str(last["result"])
    assert LlmSession.objects.count() == stored

    regenerated = trigger(live_server.url, token, parent_id, subflow_id, regenerate=1)
    assert regenerated != handle
    again = wait_for(lambda: done(live_server.url, token, regenerated), timeout=15)
    assert again["status"] == "completed"
    assert B_CAUSE in str(again["result"])
    versions = LlmSession.objects.filter(task_id=failed_task).values_list("version", flat=True)
    assert sorted(versions) == [1, 2]


def test_a_subflow_node_asked_for_before_any_webhook_summarizes_its_failure_once(
    live_server, default_org, fake_prefect
):
    _, token = default_org
    parent_id, subflow_id, failed_task = pipeline_with_failing_subflow(fake_prefect)

    handle = trigger(live_server.url, token, parent_id, subflow_id)
    last = wait_for(lambda: done(live_server.url, token, handle), timeout=15)

    assert last["status"] == "completed"
    assert B_CAUSE in str(last["result"])
    (row,) = LlmSession.objects.all()
    assert (str(row.request_uuid), row.task_id, row.flow_run_id) == (handle, failed_task, parent_id)
    # The webhook that follows finds that summary: still one summary of the failure.
    assert post_webhook(live_server.url, dalgo_body(parent_id, "dalgo-pipeline")).status_code == 202
    summaries = wait_for(lambda: completed_summaries(live_server.url, token, parent_id), timeout=15)
    assert [s["request_uuid"] for s in summaries if s["task_id"] == failed_task] == [handle]
    assert trigger(live_server.url, token, parent_id, subflow_id) == handle
