"""End to end with a fake Prefect and a fake Airbyte: a failed sync is summarized from Airbyte's
logs, a dbt failure is not, and Dalgo's Airbyte trigger shares the webhook's summary."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from failbrief.sources.airbyte_jobs import NOT_CONFIGURED
from failbrief.sources.models import AirbyteJob
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_airbyte import (
    C_CONNECTION,
    C_JOB,
    C_STARTED,
    FakeAttempt,
    FakeJob,
    c_scenario,
)
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import captured, robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker")]

C_SUBFLOW = "350bade4-02c0-409c-8eda-e43d40bdb33f"
PSQL_REFUSED = "PSQLException: Connection to 10.0.3.7:5432 refused"


def completed_rows(count: int = 1) -> list[LlmSession] | None:
    rows = list(LlmSession.objects.filter(session_status="completed").order_by("pk"))
    return rows if len(rows) >= count else None


def trigger(base: str, token: str, connection_id: str = C_CONNECTION, **params: int) -> httpx.Response:
    return httpx.get(
        f"{base}/api/airbyte/v1/connections/{connection_id}/logsummary",
        params={"job_id": C_JOB} | params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def final_progress(base: str, token: str, handle: str) -> dict[str, object] | None:
    answer = httpx.get(
        f"{base}/api/tasks/stp/{handle}", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    last: dict[str, object] = answer.json()["progress"][-1]
    return last if last["status"] != "running" else None


@pytest.mark.usefixtures("airbyte_settings")
def test_a_failed_airbyte_subflow_is_summarized_from_airbytes_own_logs(
    live_server, default_org, fake_airbyte
):
    c_scenario(fake_airbyte)
    assert post_webhook(live_server.url, robust_body("c")).status_code == 202

    (row,) = wait_for(completed_rows, timeout=10)

    evidence = "\n".join(row.evidence)
    assert PSQL_REFUSED in evidence  # Airbyte's source error...
    assert "AirbyteSyncJobFailed" not in (row.root_cause or "")  # ...not Prefect's wrapper
    assert row.task_id == C_SUBFLOW
    assert (row.session_type, row.log_source, row.source_note) == ("airbyte_sync", "airbyte", "")
    assert (row.airbyte_job_id, row.airbyte_attempt_number, row.airbyte_connection_id) == (
        C_JOB,
        2,
        C_CONNECTION,
    )
    assert AirbyteJob.objects.get(job_id=C_JOB).status == "failed"


@pytest.mark.usefixtures("airbyte_settings")
def test_a_dbt_failure_next_to_an_older_failed_airbyte_job_is_summarized_from_dbt_logs(
    live_server, default_org, fake_airbyte, fake_prefect
):
    run = captured("b_flow_run.json")
    run["parameters"] = {
        "config": {
            "tasks": [
                {"slug": "airbyte-sync", "type": "airbyte", "connection_id": C_CONNECTION, "seq": 1},
                {"slug": "dbt-run", "type": "dbt", "seq": 2},
                {"slug": "dbt-test", "type": "dbt", "seq": 3},
            ]
        }
    }
    fake_prefect.add_flow_run(run)
    older = C_STARTED - timedelta(minutes=3)  # before the dbt run, inside any 5-minute margin
    fake_airbyte.add_job(
        FakeJob(4400, C_CONNECTION, "failed", older, [FakeAttempt("failed", ["sync broke"])])
    )
    assert post_webhook(live_server.url, robust_body("b")).status_code == 202

    rows = wait_for(lambda: completed_rows(2), timeout=10)

    by_name = {row.task_name: row for row in rows}
    assert "column o.amount_usd does not exist" in "\n".join(by_name["dbt-run"].evidence)
    assert {(r.session_type, r.log_source, r.airbyte_job_id) for r in rows} == {
        ("log_summarization", "prefect", None)
    }
    assert fake_airbyte.requests == []


@pytest.mark.usefixtures("service_settings")
def test_without_airbyte_a_sync_is_summarized_from_prefect_and_says_so(live_server, default_org, settings):
    settings.AIRBYTE_API_URL = None
    assert post_webhook(live_server.url, robust_body("c")).status_code == 202

    (row,) = wait_for(completed_rows, timeout=10)

    assert (row.session_type, row.log_source, row.source_note) == ("airbyte_sync", "prefect", NOT_CONFIGURED)
    assert row.airbyte_connection_id == C_CONNECTION
    assert "Connection refused (host=10.0.3.7 port=5432)" in "\n".join(row.evidence)


@pytest.mark.usefixtures("airbyte_settings")
def test_dalgos_airbyte_trigger_reuses_the_webhooks_summary_of_the_attempt(
    live_server, default_org, fake_airbyte
):
    _, token = default_org
    c_scenario(fake_airbyte)
    post_webhook(live_server.url, robust_body("c"))
    (row,) = wait_for(completed_rows, timeout=10)

    for params in ({"attempt_number": 2}, {}):  # no attempt number: the job's last failed one
        answer = trigger(live_server.url, token, C_CONNECTION, **params)
        assert answer.status_code == 200, answer.text
        assert answer.json()["task_id"] == str(row.request_uuid)
    last = final_progress(live_server.url, token, str(row.request_uuid))
    assert last is not None
    assert last["status"] == "completed"
    assert PSQL_REFUSED in str(last["result"])
    assert LlmSession.objects.count() == 1


@pytest.mark.usefixtures("airbyte_settings")
def test_an_attempt_nobody_summarized_yet_is_summarized_on_request(live_server, default_org, fake_airbyte):
    _, token = default_org
    c_scenario(fake_airbyte)
    answer = trigger(live_server.url, token, attempt_number=0)
    assert answer.status_code == 200, answer.text

    last = wait_for(lambda: final_progress(live_server.url, token, answer.json()["task_id"]), timeout=10)

    assert last["status"] == "completed"
    assert "SocketTimeoutException: Connect timed out" in str(last["result"])
    row = LlmSession.objects.get()
    assert (row.session_type, row.airbyte_job_id, row.airbyte_attempt_number) == ("airbyte_sync", C_JOB, 0)
    regenerated = trigger(live_server.url, token, attempt_number=0, regenerate=1).json()["task_id"]
    assert regenerated != answer.json()["task_id"]
    wait_for(lambda: final_progress(live_server.url, token, regenerated), timeout=10)
    versions = LlmSession.objects.order_by("version").values_list("version", "airbyte_attempt_number")
    assert list(versions) == [(1, 0), (2, 0)]


@pytest.mark.usefixtures("airbyte_settings")
def test_a_request_before_the_webhook_keeps_the_attempt_to_one_summary(
    live_server, default_org, fake_airbyte
):
    _, token = default_org
    c_scenario(fake_airbyte)
    handle = trigger(live_server.url, token, attempt_number=2).json()["task_id"]
    wait_for(lambda: final_progress(live_server.url, token, handle), timeout=10)
    post_webhook(live_server.url, robust_body("c"))
    wait_for(lambda: completed_rows(2), timeout=10)

    owners = LlmSession.objects.filter(airbyte_job_id=C_JOB, airbyte_attempt_number=2)
    assert [str(r.request_uuid) for r in owners] == [handle]
    assert trigger(live_server.url, token, attempt_number=2).json()["task_id"] == handle


@pytest.mark.usefixtures("airbyte_settings")
def test_a_connection_or_job_that_is_not_the_orgs_is_a_404(live_server, default_org, fake_airbyte):
    from failbrief.orgs.manage import add_org, create_token

    _, token = default_org
    c_scenario(fake_airbyte)
    stranger = create_token(add_org("stranger"))  # no Airbyte of its own, not the default org
    other_connection = "0b9e8f7a-1c2d-4e3f-8a9b-7c6d5e4f3a2b"
    assert trigger(live_server.url, stranger).status_code == 404
    assert trigger(live_server.url, token, other_connection).status_code == 404
    assert trigger(live_server.url, token, job_id=1).status_code == 404
    assert trigger(live_server.url, token, "not-a-uuid").status_code == 404
    assert LlmSession.objects.count() == 0


@pytest.mark.usefixtures("airbyte_settings")
def test_airbyte_down_on_a_trigger_is_a_503_saying_so(live_server, default_org, fake_airbyte):
    _, token = default_org
    c_scenario(fake_airbyte)
    fake_airbyte.fail_next(10, status=503)
    answer = trigger(live_server.url, token)
    assert answer.status_code == 503
    assert "Airbyte did not answer" in answer.json()["detail"]


# Dalgo's real tree (prefect-proxy + prefect-airbyte): the parent runs the subflow
# run_airbyte_connection_flow_v1(payload), which runs prefect-airbyte's run_connection_sync
# (airbyte_connection), whose task wait_for_completion raises AirbyteSyncJobFailed("Job 4567 failed.").
C_PARENT, C_WRAPPER = "0b59dfe2-2741-41e2-8685-dbc036b23e5d", "7fa8b3be-ccb8-4987-8dd9-dd0a1db7d1ad"
SYNC_RUN, SYNC_WRAPPER = "5c0d7a3e-61b2-4f0e-9d55-2a8e1f3b9c41", "9e2f4b6a-0c1d-4a7e-8b3f-5d6c7e8f9a01"
WAIT_TASK = "d4e5f6a7-b8c9-4d0e-8f1a-2b3c4d5e6f70"
JOB_FAILED = "Job 4567 failed."
DALGO_PAYLOAD = {
    "type": "Airbyte Connection",
    "slug": "airbyte-sync",
    "seq": 1,
    "airbyte_server_block": "demo-airbyte-server",
    "connection_id": C_CONNECTION,
    "timeout": 15,
}


def dalgos_real_tree(fake_prefect, parameters: bool = True) -> None:
    """Scenario c as Dalgo really runs it; with `parameters` False no flow run of the sync names
    its connection, so only the "Job 4567 failed." message says which sync failed."""
    parent = captured("c_flow_run.json")
    dbt = {"type": "dbt Core Operation", "slug": "dbt-run", "seq": 2, "commands": ["dbt run"]}
    parent["parameters"] = {"config": {"org_slug": "demo", "tasks": [DALGO_PAYLOAD, dbt]}}
    subflow = captured("c_subflow_flow_run.json")
    subflow["parameters"] = {"payload": DALGO_PAYLOAD} if parameters else {}
    sync_run = subflow | {"id": SYNC_RUN, "name": "mauve-heron", "parent_task_run_id": SYNC_WRAPPER}
    server = {"server_host": "airbyte", "server_port": 8000, "username": "airbyte", "password": "**********"}
    block = {"airbyte_server": server, "connection_id": C_CONNECTION, "poll_interval_s": 15, "timeout": 15}
    sync_run["parameters"] = {"airbyte_connection": block} if parameters else {}
    for run in (subflow, sync_run):
        run["state"] = run["state"] | {
            "message": f"Flow run encountered an exception: AirbyteSyncJobFailed: {JOB_FAILED}"
        }
        fake_prefect.add_flow_run(run)
    fake_prefect.add_flow_run(parent)
    wrapper = next(t for t in captured("c_task_runs.json") if t["id"] == C_WRAPPER)
    state = wrapper["state"] | {
        "message": f"Task run encountered an exception AirbyteSyncJobFailed: {JOB_FAILED}"
    }
    fake_prefect.add_task_runs(
        [
            wrapper | {"id": SYNC_WRAPPER, "name": "run_connection_sync-0", "flow_run_id": subflow["id"]},
            wrapper
            | {"id": WAIT_TASK, "name": "wait_for_completion-0", "flow_run_id": SYNC_RUN, "state": state},
        ]
    )


@pytest.mark.usefixtures("airbyte_settings")
@pytest.mark.parametrize("parameters", [True, False], ids=["from-parameters", "from-job-failed-message"])
def test_dalgos_real_airbyte_failure_is_summarized_from_the_job_naming_its_connection(
    live_server, default_org, fake_airbyte, fake_prefect, parameters
):
    c_scenario(fake_airbyte)
    dalgos_real_tree(fake_prefect, parameters)
    assert post_webhook(live_server.url, robust_body("c")).status_code == 202

    (row,) = wait_for(completed_rows, timeout=10)

    assert (row.task_id, row.task_name) == (WAIT_TASK, "wait_for_completion-0")
    assert (row.session_type, row.log_source, row.source_note) == ("airbyte_sync", "airbyte", "")
    assert (row.airbyte_job_id, row.airbyte_attempt_number, row.airbyte_connection_id) == (
        C_JOB,
        2,
        C_CONNECTION,
    )
    assert PSQL_REFUSED in "\n".join(row.evidence)


@pytest.mark.usefixtures("airbyte_settings")
@pytest.mark.parametrize(
    "logs", [{"logLines": 5}, {"events": 5}], ids=["lines-not-a-list", "events-not-a-list"]
)
def test_airbyte_logs_of_the_wrong_shape_fall_back_to_prefects_logs_saying_so(
    live_server, default_org, fake_airbyte, logs
):
    c_scenario(fake_airbyte)
    fake_airbyte.fail_next(1, 200, body=garbled_attempt(logs), path="/api/v1/attempt/get_for_job")
    assert post_webhook(live_server.url, robust_body("c")).status_code == 202

    (row,) = wait_for(completed_rows, timeout=10)

    assert row.log_source == "prefect"
    assert "Airbyte could not be read" in row.source_note


@pytest.mark.usefixtures("airbyte_settings")
def test_an_airbyte_log_event_with_an_impossible_time_keeps_its_line(live_server, default_org, fake_airbyte):
    c_scenario(fake_airbyte)
    event = {"message": f"ERROR {PSQL_REFUSED}", "level": "error", "logSource": "source", "timestamp": 10**20}
    body = garbled_attempt({"events": [event]})
    fake_airbyte.fail_next(1, 200, body=body, path="/api/v1/attempt/get_for_job")
    assert post_webhook(live_server.url, robust_body("c")).status_code == 202

    (row,) = wait_for(completed_rows, timeout=10)

    assert row.log_source == "airbyte"
    assert PSQL_REFUSED in "\n".join(row.evidence)


def garbled_attempt(logs: dict[str, object]) -> dict[str, object]:
    """attempt/get_for_job's answer for scenario c's failed attempt, with `logs` as given."""
    attempt = {"id": 2, "status": "failed", "createdAt": int(C_STARTED.timestamp())}
    return {"attempt": attempt, "logs": logs, "logType": "structured" if "events" in logs else None}


@pytest.mark.usefixtures("airbyte_settings")
def test_a_password_in_airbytes_failure_reason_is_redacted_in_the_summary(
    live_server, default_org, fake_airbyte
):
    """A check that fails before the connector logs anything: Airbyte's failure reason is all there
    is, and a JDBC driver puts the whole URL, password included, in its message."""
    _, token = default_org
    url = "jdbc:postgresql://pg.internal:5432/app?user=airbyte&password=Wh1teRabbit-88"
    failure = {
        "failureOrigin": "source",
        "failureType": "config_error",
        "externalMessage": f"Could not connect with provided configuration. Error: cannot open {url}",
        "internalMessage": f"org.postgresql.util.PSQLException: cannot open {url}",
        "stacktrace": f"org.postgresql.util.PSQLException: cannot open {url}\n\tat org.postgresql.Driver",
        "timestamp": int(C_STARTED.timestamp() * 1000),
    }
    fake_airbyte.add_job(
        FakeJob(C_JOB, C_CONNECTION, "failed", C_STARTED, [FakeAttempt("failed", [], failures=[failure])])
    )
    answer = trigger(live_server.url, token, attempt_number=0)
    assert answer.status_code == 200, answer.text

    last = wait_for(lambda: final_progress(live_server.url, token, answer.json()["task_id"]), timeout=10)

    assert last["status"] == "completed"
    row = LlmSession.objects.get()
    stored = " ".join(
        str(v) for v in (row.root_cause, row.explanation, row.evidence, row.response, row.context)
    )
    assert "pg.internal" in stored
    assert "Wh1teRabbit-88" not in stored
    assert "Wh1teRabbit-88" not in str(last["result"])
