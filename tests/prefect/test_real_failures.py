"""Real flows fail on a real Prefect 3.9.1; its automation posts to failbrief, which stores a summary
that cites the real error line, read back through the API."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit

import httpx
import pytest

from failbrief.testing.fake_airbyte import FakeAirbyte, FakeAttempt, FakeJob, c_attempt_lines, c_failure
from failbrief.testing.fixtures import AIRBYTE_TOKEN, completed_summaries, wait_for
from failbrief.testing.prefect_server import run_flow, start_deployment
from tests.prefect.conftest import failbrief_cli, setup_prefect, wait_until_ended

pytestmark = pytest.mark.prefect


def evidence_of(summary: dict[str, object]) -> str:
    return "\n".join([str(summary["root_cause"]), *map(str, summary["evidence"])])  # type: ignore[call-overload]


def test_setup_prefect_run_twice_leaves_one_block_and_one_automation(automation, live_server):
    again = setup_prefect(automation, live_server.url)

    assert "automation 'failbrief' updated" in again.stdout
    found = httpx.post(
        f"{automation.api_url}/automations/filter", json={"automations": {"name": {"any_": ["failbrief"]}}}
    ).json()
    assert len(found) == 1
    assert found[0]["enabled"]
    assert found[0]["trigger"]["within"] == 0
    blocks = httpx.post(f"{automation.api_url}/block_documents/filter", json={}).json()
    assert [b["name"] for b in blocks if b["name"] == "failbrief"] == ["failbrief"]


def test_check_prefect_reports_the_version_and_the_enabled_automation(automation, live_server):
    done = failbrief_cli("check-prefect", "--prefect-url", automation.api_url)

    assert "Prefect version: 3.9.1" in done.stdout
    assert "automation 'failbrief': present, enabled" in done.stdout
    assert f"posts to: {live_server.url}/webhooks/v1/notification/" in done.stdout


def test_a_python_task_that_raises_is_summarized_with_its_error_line(real_prefect, live_server):
    server, token = real_prefect
    run_id = run_flow(server, "orders_etl.py", str(uuid.uuid4()))

    (summary,) = wait_for(lambda: completed_summaries(live_server.url, token, run_id), timeout=60, every=0.5)

    assert "transform_orders" in str(summary["task_name"])
    assert "Cannot convert order 0: unsupported currency None" in evidence_of(summary)


def test_dalgos_failed_airbyte_sync_is_summarized_from_airbyte_naming_its_connection_and_job(
    real_prefect, live_server, settings
):
    """Dalgo's deployment, as prefect-proxy and prefect-airbyte run it, syncs a connection whose job
    fails: the one summary (under the parent and the subflows alike) is of the failed
    `wait_for_completion` task, read from that job's Airbyte logs, and names the connection and job."""
    server, token = real_prefect
    connection, job_id = str(uuid.uuid4()), 7301
    with FakeAirbyte(token=AIRBYTE_TOKEN) as airbyte:
        attempts = [
            FakeAttempt("failed", c_attempt_lines(job_id, n), failures=[c_failure()]) for n in range(2)
        ]
        airbyte.script_sync(FakeJob(job_id, connection, "failed", datetime.now(UTC), attempts))
        settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = airbyte.url, AIRBYTE_TOKEN
        block = f"dalgo-airbyte-server-{uuid.uuid4().hex[:8]}"  # AirbyteServer.load(block) reads it
        host, port = urlsplit(airbyte.base_url).hostname, urlsplit(airbyte.base_url).port
        value = {"server_host": host, "server_port": port, "api_version": "v1"}
        httpx.post(f"{server.api_url}/variables/", json={"name": block, "value": value}).raise_for_status()
        payload = {"type": "Airbyte Connection", "slug": "airbyte-sync", "seq": 1, "timeout": 15}
        steps = [
            payload | {"airbyte_server_block": block, "connection_id": connection},
            {"type": "dbt Core Operation", "slug": "dbt-run", "seq": 2, "commands": ["dbt run"]},
        ]
        parent_id = start_deployment(
            server, "deployment-schedule-flow-v4/dalgo-like-pipeline", {"config": {"tasks": steps}}
        )
        assert wait_until_ended(server, parent_id)["state_type"] == "FAILED"

        (summary,) = wait_for(
            lambda: completed_summaries(live_server.url, token, parent_id), timeout=90, every=0.5
        )

    assert str(summary["task_name"]).startswith("wait_for_completion")
    assert (summary["log_source"], summary["airbyte_connection_id"], summary["airbyte_job_id"]) == (
        "airbyte",
        connection,
        job_id,
    )
    assert "Connection to 10.0.3.7:5432 refused" in evidence_of(summary)  # only Airbyte's logs say so
    # Both failed subflows (Dalgo's and prefect-airbyte's) lead to that one summary.
    children = httpx.post(
        f"{server.api_url}/flow_runs/filter",
        json={"flow_runs": {"parent_flow_run_id": {"any_": [parent_id]}}},
    ).json()
    (dalgos,) = children
    (airbytes,) = httpx.post(
        f"{server.api_url}/flow_runs/filter",
        json={"flow_runs": {"parent_flow_run_id": {"any_": [dalgos["id"]]}}},
    ).json()
    for subflow in (dalgos, airbytes):
        assert subflow["state_type"] == "FAILED"
        (same,) = completed_summaries(live_server.url, token, subflow["id"]) or [None]
        assert same is not None
        assert same["id"] == summary["id"]


def test_a_process_killed_mid_task_is_summarized_as_a_crash(real_prefect, live_server):
    server, token = real_prefect
    run_id = start_deployment(server, "crashy-ingest/crashy-ingest-deployment", {"mode": "sigkill"})
    assert wait_until_ended(server, run_id)["state_type"] == "CRASHED"

    (summary,) = wait_for(lambda: completed_summaries(live_server.url, token, run_id), timeout=60, every=0.5)

    assert "SIGKILL" in evidence_of(summary) or "-9" in evidence_of(summary)


def test_a_broken_dbt_model_is_summarized_with_the_database_error(real_prefect, live_server, dbt_env):
    server, token = real_prefect
    run_id = run_flow(server, "shop_analytics.py", timeout=180, **dbt_env)

    summaries = wait_for(lambda: completed_summaries(live_server.url, token, run_id), timeout=90, every=0.5)

    by_name = {str(s["task_name"]): s for s in summaries}
    dbt_run = next(s for name, s in by_name.items() if "dbt-run" in name)
    assert "column o.amount_usd does not exist" in evidence_of(dbt_run)
    dbt_test = next(s for name, s in by_name.items() if "dbt-test" in name)
    assert "not_null_stg_orders_customer_id" in evidence_of(dbt_test)
