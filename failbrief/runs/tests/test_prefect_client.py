"""PrefectClient against the loopback fake Prefect server (real sockets, captured payloads)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from failbrief.runs.prefect import (
    PrefectAuthError,
    PrefectBadResponse,
    PrefectClient,
    PrefectError,
    PrefectUnavailable,
    RunNotFound,
)
from failbrief.testing.fake_prefect import FakePrefect

A2_TRANSFORM = "01a20fef-38a2-771c-9c28-32993b53d93c"
C_SUBFLOW = "350bade4-02c0-409c-8eda-e43d40bdb33f"
C_DEPLOYMENT = "2c723c20-5dda-4d12-a0e3-03864ad228d8"
SECRET = "pnu_very-secret-key"


@pytest.fixture
def fake() -> Iterator[FakePrefect]:
    with FakePrefect() as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(fake: FakePrefect, sleeps: list[float]) -> Iterator[PrefectClient]:
    with PrefectClient(fake.url, timeout=5.0, retries=2, sleep=sleeps.append) as prefect:
        yield prefect


class HeaderRecorder(httpx.HTTPTransport):
    """A real socket transport that remembers the headers it sent."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Headers] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request.headers)
        return super().handle_request(request)


def synthetic_logs(flow_run_id: str, count: int) -> list[dict[str, object]]:
    start = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
    return [
        {
            "id": str(uuid.uuid4()),
            "name": "prefect.flow_runs",
            "level": 20,
            "message": f"line {n}",
            "timestamp": (start + timedelta(milliseconds=n)).isoformat(),
            "flow_run_id": flow_run_id,
            "task_run_id": None,
        }
        for n in range(count)
    ]


def test_it_reads_a_flow_run_with_its_state_and_parameters(client: PrefectClient, fake: FakePrefect) -> None:
    run = client.flow_run(fake.flow_run_id_of("c"))
    assert run.name == "dalgo-manual-run-002"
    assert run.deployment_id == C_DEPLOYMENT
    assert run.parent_task_run_id is None
    assert run.state is not None
    assert run.state.type == "FAILED"
    assert run.state_message.startswith("Flow run encountered an exception: AirbyteSyncJobFailed")
    assert run.parameters["config"]["tasks"][0]["slug"] == "airbyte-sync"
    assert run.tags == ["org:demo", "dalgo"]
    assert run.end_time is not None
    assert run.end_time.tzinfo is not None


def test_it_reads_the_task_runs_of_a_flow_run_in_start_order(
    client: PrefectClient, fake: FakePrefect
) -> None:
    tasks = client.task_runs(fake.flow_run_id_of("a2"))
    assert [(t.name, t.state_name) for t in tasks] == [
        ("extract_orders-e3e", "Completed"),
        ("transform_orders-625", "Failed"),
        ("load_orders-d6c", "NotReady"),
    ]
    assert tasks[1].run_count == 2
    assert tasks[2].upstream_task_run_ids() == [A2_TRANSFORM]


def test_it_reads_one_task_run(client: PrefectClient) -> None:
    task = client.task_run(A2_TRANSFORM)
    assert task.name == "transform_orders-625"
    assert task.flow_run_id == "168dcf82-4af3-4c87-a159-01c7d0b6341c"
    assert task.task_key == "transform_orders-d6546ccd"


def test_it_finds_the_subflow_runs_of_a_parent(client: PrefectClient, fake: FakePrefect) -> None:
    children = client.child_flow_runs(fake.flow_run_id_of("c"))
    assert [(child.id, child.parent_task_run_id) for child in children] == [
        (C_SUBFLOW, "7fa8b3be-ccb8-4987-8dd9-dd0a1db7d1ad")
    ]
    assert client.child_flow_runs(fake.flow_run_id_of("a")) == []


def test_it_reads_the_logs_of_a_flow_run_and_of_one_task_run(
    client: PrefectClient, fake: FakePrefect
) -> None:
    flow_logs = client.logs(flow_run_id=fake.flow_run_id_of("b"))
    task_logs = client.logs(task_run_id=A2_TRANSFORM)
    assert len(flow_logs) == 97
    assert [log.timestamp for log in flow_logs] == sorted(log.timestamp for log in flow_logs)
    assert len(task_logs) == 7
    assert {log.task_run_id for log in task_logs} == {A2_TRANSFORM}
    assert task_logs[-1].level == 40
    assert task_logs[-1].message.startswith("Finished in state Failed")


def test_it_reads_a_deployment(client: PrefectClient) -> None:
    deployment = client.deployment(C_DEPLOYMENT)
    assert deployment.name == "dalgo-like-orgslug-pipeline"
    assert deployment.entrypoint == "flow_c.py:deployment_schedule_flow_v4"
    assert deployment.tags == ["dalgo", "org:demo"]


def test_it_pages_through_more_logs_than_one_page_holds(client: PrefectClient, fake: FakePrefect) -> None:
    run_id = str(uuid.uuid4())
    fake.add_logs(synthetic_logs(run_id, 450))
    logs = client.logs(flow_run_id=run_id)
    assert [log.message for log in logs] == [f"line {n}" for n in range(450)]
    offsets = [body["offset"] for method, path, body in fake.requests if path == "/api/logs/filter"]
    assert offsets == [0, 200, 400]


def test_it_stops_reading_logs_at_the_record_bound(fake: FakePrefect) -> None:
    run_id = str(uuid.uuid4())
    fake.add_logs(synthetic_logs(run_id, 450))
    with PrefectClient(fake.url, max_log_records=300) as prefect:
        assert len(prefect.logs(flow_run_id=run_id)) == 300


def test_it_lists_runs_that_failed_or_crashed_since_a_moment(client: PrefectClient) -> None:
    runs = client.failed_flow_runs(since=datetime(2026, 11, 24, 23, 39, tzinfo=UTC))
    assert [run.name for run in runs] == [
        "yellow-lorikeet",
        "dalgo-manual-run-002",
        "crash-sigkill-001",
        "crash-exit-002",
        "rich-bobcat",
    ]
    until = client.failed_flow_runs(since=datetime(2026, 11, 24, 23, 39, tzinfo=UTC), until=runs[2].end_time)
    assert [run.name for run in until] == ["yellow-lorikeet", "dalgo-manual-run-002", "crash-sigkill-001"]


def test_it_accepts_runs_that_lack_optional_fields_or_send_null(
    client: PrefectClient, fake: FakePrefect
) -> None:
    run_id = str(uuid.uuid4())
    fake.add_flow_run({"id": run_id, "name": "sparse", "parameters": None, "tags": None, "state": None})
    run = client.flow_run(run_id)
    assert (run.parameters, run.tags, run.state, run.state_message) == ({}, [], None, "")


def test_it_says_a_run_is_not_found_on_404(client: PrefectClient, fake: FakePrefect) -> None:
    missing = str(uuid.uuid4())
    with pytest.raises(RunNotFound) as raised:
        client.flow_run(missing)
    assert f"GET /flow_runs/{missing} answered 404" in str(raised.value)
    assert "Flow run not found" in str(raised.value)
    assert raised.value.status == 404


def test_it_says_a_deleted_run_is_not_found(client: PrefectClient, fake: FakePrefect) -> None:
    run_id = fake.flow_run_id_of("a")
    fake.delete_flow_run(run_id)
    with pytest.raises(RunNotFound):
        client.flow_run(run_id)


def test_it_refuses_an_id_that_is_not_a_uuid_without_calling_prefect(
    client: PrefectClient, fake: FakePrefect
) -> None:
    with pytest.raises(RunNotFound):
        client.flow_run("../deployments/x")
    assert fake.requests == []


def test_it_retries_a_server_error_and_then_succeeds(
    client: PrefectClient, fake: FakePrefect, sleeps: list[float]
) -> None:
    fake.fail_next(1, status=500)
    assert client.flow_run(fake.flow_run_id_of("a")).name == "fine-cobra"
    assert len(fake.requests) == 2
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 0.2


def test_it_gives_up_as_unavailable_when_503_persists(
    client: PrefectClient, fake: FakePrefect, sleeps: list[float]
) -> None:
    fake.fail_next(10, status=503)
    with pytest.raises(PrefectUnavailable) as raised:
        client.task_runs(fake.flow_run_id_of("a"))
    assert len(fake.requests) == 3
    assert len(sleeps) == 2
    assert all(0 <= delay <= 2.0 for delay in sleeps)
    assert "POST /task_runs/filter answered 503" in str(raised.value)


def test_it_waits_as_long_as_retry_after_says_up_to_the_cap(
    client: PrefectClient, fake: FakePrefect, sleeps: list[float]
) -> None:
    fake.fail_next(1, status=429, headers={"Retry-After": "1.5"})
    fake.fail_next(1, status=429, headers={"Retry-After": "30"})
    assert client.flow_run(fake.flow_run_id_of("a")).name == "fine-cobra"
    assert sleeps == [1.5, 2.0]


def test_it_carries_retry_after_on_the_error_when_retries_run_out(fake: FakePrefect) -> None:
    fake.fail_next(1, status=429, headers={"Retry-After": "7"})
    with PrefectClient(fake.url, retries=0) as prefect, pytest.raises(PrefectUnavailable) as raised:
        prefect.flow_run(fake.flow_run_id_of("a"))
    assert raised.value.retry_after == 7.0
    assert raised.value.status == 429


def test_it_reports_an_auth_error_on_401_without_retrying_or_leaking_the_key(fake: FakePrefect) -> None:
    fake.fail_next(1, status=401, body={"detail": "Unauthorized"})
    with PrefectClient(fake.url, api_key=SECRET) as prefect, pytest.raises(PrefectAuthError) as raised:
        prefect.flow_run(fake.flow_run_id_of("a"))
    assert len(fake.requests) == 1
    assert "401" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_it_sends_the_api_key_as_a_bearer_token(fake: FakePrefect) -> None:
    recorder = HeaderRecorder()
    with PrefectClient(fake.url, api_key=SECRET, transport=recorder) as prefect:
        prefect.flow_run(fake.flow_run_id_of("a"))
    assert recorder.sent[0]["Authorization"] == f"Bearer {SECRET}"


def test_it_sends_no_authorization_header_without_a_key(fake: FakePrefect) -> None:
    recorder = HeaderRecorder()
    with PrefectClient(fake.url, transport=recorder) as prefect:
        prefect.flow_run(fake.flow_run_id_of("a"))
    assert "Authorization" not in recorder.sent[0]


def test_it_calls_a_body_that_is_not_json_a_bad_response(client: PrefectClient, fake: FakePrefect) -> None:
    fake.fail_next(1, status=200, body=b"<html>proxy login</html>")
    with pytest.raises(PrefectBadResponse) as raised:
        client.flow_run(fake.flow_run_id_of("a"))
    assert "not JSON" in str(raised.value)
    assert "<html>proxy login</html>" in str(raised.value)


def test_it_calls_json_of_the_wrong_shape_a_bad_response(client: PrefectClient, fake: FakePrefect) -> None:
    fake.fail_next(1, status=200, body=[1, 2])
    with pytest.raises(PrefectBadResponse, match="expected a JSON object"):
        client.flow_run(fake.flow_run_id_of("a"))
    fake.fail_next(1, status=200, body=[{"name": "no id"}])
    with pytest.raises(PrefectBadResponse, match="not a list of TaskRun"):
        client.task_runs(fake.flow_run_id_of("a"))


def test_it_calls_a_422_a_bad_response(client: PrefectClient, fake: FakePrefect) -> None:
    fake.fail_next(1, status=422, body={"detail": "Invalid limit: must be less than or equal to 200."})
    with pytest.raises(PrefectBadResponse, match="answered 422"):
        client.logs(flow_run_id=fake.flow_run_id_of("a"))


def test_it_reports_a_refused_connection_as_unavailable(sleeps: list[float]) -> None:
    fake = FakePrefect().start()
    url = fake.url
    fake.stop()
    with PrefectClient(url, retries=1, sleep=sleeps.append) as prefect, pytest.raises(PrefectUnavailable):
        prefect.flow_run(str(uuid.uuid4()))
    assert len(sleeps) == 1
    assert PrefectClient(url).health() is False


def test_it_reports_a_reset_connection_as_unavailable(client: PrefectClient, fake: FakePrefect) -> None:
    fake.set_down(True)
    with pytest.raises(PrefectUnavailable):
        client.flow_run(fake.flow_run_id_of("a"))
    assert client.health() is False
    fake.set_down(False)
    assert client.health() is True


def test_it_reports_a_slow_server_as_unavailable(fake: FakePrefect) -> None:
    fake.delay(1.0)
    with (
        PrefectClient(fake.url, timeout=0.2, retries=0) as prefect,
        pytest.raises(PrefectUnavailable) as raised,
    ):
        prefect.flow_run(fake.flow_run_id_of("a"))
    assert "no answer within 0.2 s" in str(raised.value)


def test_every_client_error_is_a_prefect_error() -> None:
    for error in (PrefectUnavailable, RunNotFound, PrefectAuthError, PrefectBadResponse):
        assert issubclass(error, PrefectError)


def test_the_fake_refuses_a_limit_above_200_as_prefect_does(fake: FakePrefect) -> None:
    answer = httpx.post(f"{fake.url}/logs/filter", json={"limit": 201}, timeout=5)
    assert answer.status_code == 422
    assert answer.json() == {"detail": "Invalid limit: must be less than or equal to 200."}


def test_the_fake_filters_logs_by_level_and_by_missing_task_run(fake: FakePrefect) -> None:
    body = {"logs": {"flow_run_id": {"any_": [fake.flow_run_id_of("a")]}, "task_run_id": {"is_null_": True}}}
    flow_level = httpx.post(f"{fake.url}/logs/filter", json=body, timeout=5).json()
    errors = httpx.post(f"{fake.url}/logs/filter", json={"logs": {"level": {"ge_": 40}}}, timeout=5).json()
    assert len(flow_level) == 4
    assert all(log["task_run_id"] is None for log in flow_level)
    assert errors
    assert all(log["level"] >= 40 for log in errors)


def test_the_fake_runs_standalone_and_clones_scenarios_over_http() -> None:
    command = [sys.executable, "-m", "failbrief.testing.fake_prefect", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout is not None
            ready, url = process.stdout.readline().split()
            assert ready == "READY"
            mapping = httpx.post(
                f"{url.removesuffix('/api')}/_fake/clone", json={"prefix": "a2"}, timeout=5
            ).json()
            with PrefectClient(url) as prefect:
                assert prefect.health() is True
                clone = prefect.flow_run(mapping["168dcf82-4af3-4c87-a159-01c7d0b6341c"])
            assert clone.name == "rich-bobcat"
        finally:
            process.terminate()
            process.wait(timeout=10)
    assert process.returncode == 0
