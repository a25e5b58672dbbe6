"""The Airbyte Config API client against a loopback fake: payload shapes, auth, faults."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta

import pytest

from failbrief.sources.airbyte import (
    AirbyteAuthError,
    AirbyteClient,
    AirbyteError,
    AirbyteNotFound,
    AirbyteUnavailable,
)
from failbrief.testing.fake_airbyte import (
    C_CONNECTION,
    C_JOB,
    C_SOURCE_ERROR,
    C_STARTED,
    FakeAirbyte,
    c_scenario,
)
from failbrief.testing.fixtures import AIRBYTE_TOKEN

WINDOW = (C_STARTED - timedelta(minutes=5), C_STARTED + timedelta(minutes=5))


@pytest.fixture
def fake() -> Iterator[FakeAirbyte]:
    with FakeAirbyte(token=AIRBYTE_TOKEN) as server:
        c_scenario(server)
        yield server


def client(fake: FakeAirbyte, **kw: object) -> AirbyteClient:
    options: dict[str, object] = {"timeout": 5.0, "sleep": lambda seconds: None} | kw
    return AirbyteClient(fake.url, AIRBYTE_TOKEN, **options)  # type: ignore[arg-type]


def test_it_lists_only_the_jobs_created_in_the_window_newest_first(fake):
    with client(fake) as airbyte:
        jobs = airbyte.jobs(C_CONNECTION, *WINDOW)
    assert [j.job.id for j in jobs] == [C_JOB]
    assert [a.status for a in jobs[0].attempts] == ["failed", "failed", "failed"]
    path, body, auth = fake.requests[0]
    assert path == "/api/v1/jobs/list"
    assert body["configTypes"] == ["sync", "reset_connection", "clear", "refresh"]
    assert body["configId"] == C_CONNECTION
    assert body["createdAtStart"] == "2026-11-24T23:34:06.000Z"
    assert body["pagination"] == {"pageSize": 20, "rowOffset": 0}
    assert auth == f"Basic {AIRBYTE_TOKEN}"


def test_a_wide_window_pages_through_every_job(fake):
    from failbrief.testing.fake_airbyte import FakeJob

    for n in range(45):
        fake.add_job(FakeJob(9000 + n, C_CONNECTION, "succeeded", C_STARTED + timedelta(seconds=n), []))
    with client(fake) as airbyte:
        jobs = airbyte.jobs(C_CONNECTION, C_STARTED - timedelta(days=1), C_STARTED + timedelta(days=1))
    assert len(jobs) == 48
    assert jobs[0].job.id == 4602  # the newest, an hour after the run
    assert [b["pagination"]["rowOffset"] for _, b, _ in fake.requests] == [0, 20, 40]


def test_formatted_logs_come_back_as_lines(fake):
    with client(fake) as airbyte:
        logs = airbyte.attempt_logs(C_JOB, 2)
    assert logs.log_type == "formatted"
    assert logs.attempt.id == 2
    assert any(C_SOURCE_ERROR in line for line in logs.lines)
    assert logs.attempt.failure_summary is not None
    (reason,) = logs.attempt.failure_summary.failures
    assert (reason.failure_origin, reason.failure_type) == ("source", "config_error")


def test_structured_logs_come_back_as_source_prefixed_lines_with_levels():
    with FakeAirbyte(token=AIRBYTE_TOKEN) as fake:
        c_scenario(fake, log_type="structured")
        with client(fake) as airbyte:
            logs = airbyte.attempt_logs(C_JOB, 1)
    assert logs.log_type == "structured"
    error = next(i for i, line in enumerate(logs.lines) if "Something went wrong" in line)
    assert logs.lines[error].startswith("source > i.a.c.i.b.AirbyteExceptionHandler")
    assert logs.levels[error] == "error"
    assert logs.timestamps[error] == int(C_STARTED.timestamp() * 1000) + 1000


def test_a_job_is_read_with_its_attempts_without_logs(fake):
    with client(fake) as airbyte:
        job = airbyte.job(C_JOB)
    assert job.job.config_id == C_CONNECTION
    assert [a.id for a in job.attempts] == [0, 1, 2]


def test_a_missing_job_or_attempt_is_not_found(fake):
    with client(fake) as airbyte:
        with pytest.raises(AirbyteNotFound, match="Could not find job with id: 1"):
            airbyte.job(1)
        with pytest.raises(AirbyteNotFound):
            airbyte.attempt_logs(C_JOB, 7)


def test_a_wrong_token_is_an_auth_error_that_says_what_to_check(fake):
    wrong = AirbyteClient(fake.url, "d3Jvbmc6d3Jvbmc=", sleep=lambda s: None)
    with wrong as airbyte, pytest.raises(AirbyteAuthError, match="AIRBYTE_API_TOKEN"):
        airbyte.job(C_JOB)
    assert len(fake.requests) == 1  # not retried


def test_bearer_auth_sends_a_bearer_token():
    with FakeAirbyte(token="secret-token", auth="bearer") as fake:
        c_scenario(fake)
        with AirbyteClient(fake.url, "secret-token", auth="bearer") as airbyte:
            assert airbyte.job(C_JOB).job.id == C_JOB


def test_a_500_then_a_200_is_retried_after_a_backoff(fake):
    slept: list[float] = []
    fake.fail_next(1, status=500)
    with client(fake, sleep=slept.append) as airbyte:
        assert airbyte.job(C_JOB).job.id == C_JOB
    assert len(slept) == 1
    assert len(fake.requests) == 2


def test_retry_after_is_honoured(fake):
    slept: list[float] = []
    fake.fail_next(1, status=429, headers={"Retry-After": "3"})
    with client(fake, sleep=slept.append) as airbyte:
        airbyte.job(C_JOB)
    assert slept == [3.0]


def test_a_server_that_keeps_failing_is_unavailable_after_the_retries(fake):
    fake.fail_next(5, status=503)
    with client(fake, retries=2) as airbyte, pytest.raises(AirbyteUnavailable, match="503"):
        airbyte.job(C_JOB)
    assert len(fake.requests) == 3


def test_a_server_that_never_answers_times_out():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/api/v1"
        with AirbyteClient(url, timeout=0.3, retries=0) as airbyte, pytest.raises(AirbyteUnavailable):
            airbyte.job(C_JOB)


@pytest.mark.parametrize("status", [301, 502], ids=["redirect", "bad-gateway"])
def test_the_shared_airbyte_is_not_named_by_its_address_in_its_errors(fake, status):
    # A proxy's page names the upstream (Apache: "Server at HOST Port N"); a redirect names the URL.
    host, port = fake.url.split("//")[1].split("/")[0].split(":")
    link = f"https://{host}:{port}/api/v1/jobs/get_without_logs"
    body = f'<a href="{link}">Moved</a> Server at {host} Port {port}'
    fake.fail_next(3, status, body=body.encode())

    with client(fake, shared=True) as shared, pytest.raises(AirbyteError) as raised:
        shared.job(C_JOB)

    said = str(raised.value)
    assert str(status) in said
    assert "the shared Airbyte" in said
    assert host not in said
    assert port not in said
    assert isinstance(raised.value, AirbyteUnavailable) == (status == 502)


def test_a_token_the_shared_airbyte_refuses_is_the_operators_matter(fake):
    fake.deny_all()
    with client(fake, shared=True) as shared, pytest.raises(AirbyteAuthError) as raised:
        shared.job(C_JOB)
    assert "AIRBYTE_API_TOKEN" not in str(raised.value)
    assert "operator" in str(raised.value)
