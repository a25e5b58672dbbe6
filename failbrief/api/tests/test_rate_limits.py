"""Rate limits: a burst of regenerate requests makes at most the limit's worth of new versions (each
one a paid LLM call); channel tests and token-authenticated writes are limited per org. Over a limit
the API answers 429 with a JSON `detail` and a `Retry-After`.

The concurrent tests run in the services tier too, where the counters live in Redis instead of the
database cache."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from failbrief.api.tests.test_read_api import client_for, stored
from failbrief.cli.tests.test_run_command import free_port
from failbrief.orgs.manage import add_org, create_token
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_receivers import FakeReceiver
from failbrief.testing.fixtures import wait_for

# Long windows: a burst never straddles two of them, so the counts below are exact.
A_WEEK = "7d"
# Six times the tightest limit. Not more: each request holds its own database connection in the
# live server, and the two services tiers run at once on one PostgreSQL (max_connections 100 by
# default): two bursts of 100 overlapping ran it out of connections ("too many clients already").
BURST = 30


def burst(calls: list[tuple[str, str]], token: str, body: object = None) -> list[httpx.Response]:
    """Send every (method, url) at once, each from its own thread, as impatient clients would."""
    start = threading.Barrier(len(calls))

    def send(call: tuple[str, str]) -> httpx.Response:
        method, url = call
        start.wait()
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.request(method, url, headers=headers, json=body, timeout=60)

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(send, calls))


def assert_refused_politely(answer: httpx.Response) -> None:
    assert answer.status_code == 429
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["detail"].startswith("too many ")
    assert int(answer.headers["Retry-After"]) >= 1


def all_settled() -> bool:
    """No version is still running: the worker took every allowed one (their runs are unknown to
    the fake Prefect, so each fails at once). A version left running would retry after the test,
    holding an unacknowledged message into the next one."""
    return not LlmSession.objects.filter(session_status=LlmSession.Status.RUNNING).exists()


@pytest.mark.services
@pytest.mark.usefixtures("celery_worker")
def test_a_burst_of_regenerates_of_one_summary_makes_at_most_the_limit_of_versions(
    live_server, default_org, settings
):
    settings.RATE_REGENERATE_PER_SUMMARY = f"5/{A_WEEK}"
    settings.RATE_REGENERATE_PER_ORG = None
    org, token = default_org
    row = stored(org)
    url = f"{live_server.url}/api/v1/summaries/{row.pk}/regenerate"

    answers = burst([("POST", url)] * BURST, token)

    assert Counter(a.status_code for a in answers) == {202: 5, 429: BURST - 5}
    for answer in answers:
        if answer.status_code == 429:
            assert_refused_politely(answer)
    assert LlmSession.objects.filter(org=org, task_id=row.task_id).count() == 1 + 5
    # Regenerating a newer version of the same unit counts against the same limit.
    newest = LlmSession.objects.filter(org=org, task_id=row.task_id).order_by("-version").first()
    assert newest is not None
    assert_refused_politely(
        burst([("POST", f"{live_server.url}/api/v1/summaries/{newest.pk}/regenerate")], token)[0]
    )
    wait_for(all_settled, timeout=20)


@pytest.mark.services
@pytest.mark.usefixtures("celery_worker")
def test_a_burst_of_regenerates_across_an_orgs_summaries_is_limited_per_org(
    live_server, default_org, settings
):
    settings.RATE_REGENERATE_PER_SUMMARY = None
    settings.RATE_REGENERATE_PER_ORG = f"7/{A_WEEK}"
    org, token = default_org
    rows = [stored(org, task_id=f"t-{n}", position=n) for n in range(4)]
    calls = [
        ("POST", f"{live_server.url}/api/v1/summaries/{rows[n % 4].pk}/regenerate") for n in range(BURST)
    ]

    answers = burst(calls, token)

    assert Counter(a.status_code for a in answers) == {202: 7, 429: BURST - 7}
    assert LlmSession.objects.filter(org=org).count() == 4 + 7
    # Another org's budget is its own.
    other = add_org("other")
    other_row = stored(other)
    assert (
        burst(
            [("POST", f"{live_server.url}/api/v1/summaries/{other_row.pk}/regenerate")], create_token(other)
        )[0].status_code
        == 202
    )
    wait_for(all_settled, timeout=20)


def test_dalgos_regenerate_trigger_counts_against_the_same_limits(two_orgs, settings):
    settings.RATE_REGENERATE_PER_SUMMARY = f"2/{A_WEEK}"
    (org, token), _ = two_orgs
    row = stored(org)
    path = f"/api/prefect/v1/flow_runs/{row.flow_run_id}/logsummary?task_id={row.task_id}&regenerate=1"
    statuses = [client_for(token).get(path).status_code for _ in range(4)]
    assert statuses[:2] == [200, 200]
    assert statuses[2:] == [429, 429]


@pytest.fixture
def hook() -> Iterator[FakeReceiver]:
    with FakeReceiver() as receiver:
        yield receiver


def test_channel_tests_are_limited_per_org(two_orgs, hook, settings):
    settings.NOTIFY_ALLOW_PRIVATE = True
    settings.RATE_CHANNEL_TEST = f"3/{A_WEEK}"
    (_, token), _ = two_orgs
    admin = client_for(token)
    created = admin.post(
        "/api/v1/channels",
        json.dumps({"name": "ops", "kind": "slack", "config": {"url": hook.url("/services/T0/B0/x")}}),
        content_type="application/json",
    )
    assert created.status_code == 201

    answers = [admin.post("/api/v1/channels/ops/test") for _ in range(5)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert (
        answers[3].json()["detail"]
        == f"too many channel tests for this org; try again in {answers[3]['Retry-After']} s"
    )
    assert len(hook.requests) == 3  # the refused tests sent nothing


def test_token_authenticated_writes_are_limited_per_org_and_reads_are_not(two_orgs, settings):
    settings.RATE_WRITES = f"3/{A_WEEK}"
    (_, token_a), (_, token_b) = two_orgs
    a = client_for(token_a)
    optin = json.dumps({"optin": True, "by": "ops@example.org"})

    answers = [a.post("/api/v1/org/llm-optin", optin, content_type="application/json") for _ in range(5)]

    assert [answer.status_code for answer in answers] == [200, 200, 200, 429, 429]
    assert int(answers[4]["Retry-After"]) >= 1
    assert a.get("/api/v1/org").status_code == 200
    assert a.get("/api/v1/summaries").status_code == 200
    assert a.delete("/api/v1/channels/none").status_code == 429  # every write, whatever it is
    b = client_for(token_b)
    assert b.post("/api/v1/org/llm-optin", optin, content_type="application/json").status_code == 200


def test_no_token_no_count(two_orgs, settings):
    """A request without a valid token is refused (401) before it can spend an org's budget."""
    settings.RATE_WRITES = f"1/{A_WEEK}"
    (_, token), _ = two_orgs
    for _ in range(3):
        assert client_for("fb_wrong").post("/api/v1/org/llm-optin").status_code == 401
    optin = json.dumps({"optin": True, "by": "ops@example.org"})
    assert (
        client_for(token).post("/api/v1/org/llm-optin", optin, content_type="application/json").status_code
        == 200
    )


def test_failbrief_run_counts_one_budget_across_its_web_processes_and_threads(tmp_path: Path):
    """`failbrief run` serves with several gunicorn processes, each with threads: the embedded
    defaults' counters (a table in the SQLite database) are shared by all of them."""
    port = free_port()
    drop = {"DATABASE_URL", "CELERY_BROKER_URL", "PREFECT_NOTIFICATIONS_WEBHOOK_KEY", "SECRET_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in drop} | {
        "FAILBRIEF_VAR_DIR": str(tmp_path / "var"),
        "PORT": str(port),
        "FAILBRIEF_RATE_WRITES": f"5/{A_WEEK}",
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "failbrief.cli",
            "run",
            "--web-workers",
            "2",
            "--threads",
            "4",
            "--concurrency",
            "1",
        ],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    output = ""
    try:
        token = _printed_token(proc)
        base = f"http://127.0.0.1:{port}"
        _until_healthy(base, proc)
        optin = {"optin": True, "by": "ops@example.org"}
        answers = burst([("POST", f"{base}/api/v1/org/llm-optin")] * 40, token, optin)
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert Counter(a.status_code for a in answers) == {200: 5, 429: 35}, output


def _printed_token(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    for line in proc.stdout:
        found = re.search(r"API token \(Authorization: Bearer …\): (\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError("failbrief run printed no API token")


def _until_healthy(base: str, proc: subprocess.Popen[str], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None
        try:
            if httpx.get(f"{base}/healthz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise AssertionError("failbrief run did not answer /healthz")
