"""A captured webhook in, a completed summary out, readable through both read APIs."""

from __future__ import annotations

import json

import httpx
import pytest

from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import completed_summaries, post_webhook, wait_for
from failbrief.testing.scenarios import captured, dalgo_body, dalgo_flow_run_body, flow_run_id, robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

A2_TRANSFORM = "01a20fef-38a2-771c-9c28-32993b53d93c"
A2_LOAD = "01a20fef-38a7-7e53-a0f3-8835b396b300"
B_DBT_RUN = "01a20fec-41a7-7e01-9e03-dc6641808cf4"
B_DBT_TEST = "01a20fec-4c1d-7faa-be7c-80024a1a93ae"
C_SUBFLOW = "350bade4-02c0-409c-8eda-e43d40bdb33f"


def dalgo_poll(base: str, token: str, run_id: str, task_id: str) -> dict[str, object]:
    auth = {"Authorization": f"Bearer {token}"}
    trigger = httpx.get(
        f"{base}/api/prefect/v1/flow_runs/{run_id}/logsummary",
        params={"task_id": task_id},
        headers=auth,
        timeout=5,
    )
    assert trigger.status_code == 200, trigger.text
    progress = httpx.get(f"{base}/api/tasks/stp/{trigger.json()['task_id']}", headers=auth, timeout=5).json()
    last: dict[str, object] = progress["progress"][-1]
    return last


@pytest.mark.parametrize(
    "shape", ["robust", "dalgo", "dalgo_flow_run_json", "dalgo_flow_run_object", "notification"]
)
def test_a_failing_task_is_named_first_and_its_not_ready_successor_is_a_cascade(
    live_server, default_org, shape
):
    _, token = default_org
    run_id = flow_run_id("a2")
    body = {
        "robust": robust_body("a2"),
        "dalgo": dalgo_body(run_id, "rich-bobcat"),
        "dalgo_flow_run_json": dalgo_flow_run_body("a2"),
        "dalgo_flow_run_object": dalgo_flow_run_body("a2", encoded=False),
        "notification": captured("a2_webhook_send_notification.json")["body"],
    }[shape]
    assert post_webhook(live_server.url, body).status_code == 202

    summaries = wait_for(lambda: completed_summaries(live_server.url, token, run_id), timeout=5)

    assert [s["task_id"] for s in summaries] == [A2_TRANSFORM, A2_LOAD]
    root, cascade = summaries
    assert not root["is_cascade"]
    assert cascade["is_cascade"]
    assert cascade["category"] == root["category"] != "unknown"  # a cascade is its root's kind of failure
    assert any("Cannot convert order 0: unsupported currency None" in line for line in root["evidence"])
    assert "transform_orders" in str(root["task_name"])
    # What the pages list the run by comes from the webhook: the robust body names the flow.
    listed = LlmSession.objects.get(task_id=A2_TRANSFORM, version=1)
    flow = "orders-etl-submit" if shape in {"robust", "notification"} else "rich-bobcat"
    assert (listed.flow_name, listed.run_state) == (flow, "Failed")
    last = dalgo_poll(live_server.url, token, run_id, A2_TRANSFORM)
    assert last["status"] == "completed"
    assert "unsupported currency None" in json.dumps(last["result"])


@pytest.mark.parametrize("shape", ["robust", "dalgo"])
def test_both_failed_dbt_tasks_are_summarized_with_their_real_errors(live_server, default_org, shape):
    _, token = default_org
    run_id = flow_run_id("b")
    body = robust_body("b") if shape == "robust" else dalgo_body(run_id, "dashing-crane")
    assert post_webhook(live_server.url, body).status_code == 202

    summaries = wait_for(lambda: completed_summaries(live_server.url, token, run_id), timeout=5)

    by_task = {s["task_id"]: s for s in summaries}
    assert set(by_task) == {B_DBT_RUN, B_DBT_TEST}
    assert not any(s["is_cascade"] for s in summaries)
    run_evidence = "\n".join(by_task[B_DBT_RUN]["evidence"])
    assert "column o.amount_usd does not exist" in run_evidence
    test_evidence = "\n".join(by_task[B_DBT_TEST]["evidence"])
    assert "not_null_stg_orders_customer_id" in test_evidence


@pytest.mark.parametrize("shape", ["robust", "dalgo"])
def test_a_subflow_and_its_parent_end_in_one_summary_readable_under_both_ids(live_server, default_org, shape):
    from failbrief.summarize.models import LlmSession

    _, token = default_org
    parent_id = flow_run_id("c")
    if shape == "robust":
        bodies = [robust_body("c_subflow"), robust_body("c")]
    else:
        bodies = [dalgo_body(C_SUBFLOW, "yellow-lorikeet"), dalgo_body(parent_id, "dalgo-manual-run-002")]
    for body in bodies:  # the subflow's webhook comes first, as Prefect sends them
        assert post_webhook(live_server.url, body).status_code == 202

    under_parent = wait_for(lambda: completed_summaries(live_server.url, token, parent_id), timeout=5)
    under_subflow = wait_for(lambda: completed_summaries(live_server.url, token, C_SUBFLOW), timeout=5)

    assert LlmSession.objects.count() == 1
    assert [s["id"] for s in under_parent] == [s["id"] for s in under_subflow]
    (summary,) = under_parent
    assert summary["task_id"] == C_SUBFLOW
    assert "Connection refused (host=10.0.3.7 port=5432)" in "\n".join(summary["evidence"])
    last = dalgo_poll(live_server.url, token, parent_id, C_SUBFLOW)
    assert last["status"] == "completed"


def test_a_regenerated_cascade_still_points_at_its_root_failure(live_server, default_org):
    _, token = default_org
    run_id = flow_run_id("a2")
    assert post_webhook(live_server.url, robust_body("a2")).status_code == 202
    root, cascade = wait_for(lambda: completed_summaries(live_server.url, token, run_id), timeout=5)
    auth = {"Authorization": f"Bearer {token}"}

    asked = httpx.post(
        f"{live_server.url}/api/v1/summaries/{cascade['id']}/regenerate", headers=auth, timeout=5
    )
    assert asked.status_code == 202, asked.text

    def version_2() -> dict[str, object] | None:
        url = f"{live_server.url}/api/v1/summaries/{asked.json()['id']}"
        row = httpx.get(url, headers=auth, timeout=5).json()
        return row if row["status"] == "completed" else None

    again = wait_for(version_2, timeout=10)
    assert again["is_cascade"]
    assert again["root_cause"] == cascade["root_cause"]
    assert "see the summary of transform_orders" in str(again["root_cause"])
    assert again["category"] == root["category"] != "unknown"
