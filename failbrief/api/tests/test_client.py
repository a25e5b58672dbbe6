"""failbrief.client against a real failbrief server (pytest-django's live server): what a Python
backend sees: handles, progress, typed errors carrying the server's detail, retries that honour
Retry-After within their bound."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from typing import Any

import pytest

from failbrief.api.tests.test_read_api import RUN, stored
from failbrief.client import (
    FailbriefAuthError,
    FailbriefClient,
    FailbriefNotFound,
    FailbriefRateLimited,
    FailbriefRequestError,
    FailbriefUnavailable,
)
from failbrief.orgs.manage import add_org, create_platform_token, create_token
from failbrief.testing.scenarios import flow_run_id

pytestmark = pytest.mark.services  # also on PostgreSQL, with the rate counters in Redis

B_DBT_RUN = "01a20fec-41a7-7e01-9e03-dc6641808cf4"  # scenario b's failed dbt task


@pytest.fixture
def acme(transactional_db: None) -> tuple[Any, str]:
    org = add_org("acme", default=True)
    return org, create_token(org)


class Sleeps(list[float]):
    """A sleep that really sleeps and remembers how long each wait was."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        time.sleep(seconds)


def test_the_client_works_where_django_cannot_be_imported():
    """DDP_backend pins Django 4.2 (failbrief needs 5.2): it installs failbrief with --no-deps, so the
    client must import and work with httpx and pydantic alone (DDP_backend has both)."""
    code = (
        "import sys\n"
        "for name in ('django', 'ninja', 'celery', 'kombu', 'prometheus_client', 'openai', 'anthropic'):\n"
        "    sys.modules[name] = None  # importing any of them now raises ImportError\n"
        "from failbrief.client import FailbriefClient, FailbriefUnavailable\n"
        "try:\n"
        "    FailbriefClient('http://127.0.0.1:9', 'fb_x', max_retries=0).poll('x')\n"
        "except FailbriefUnavailable as exc:\n"
        "    print(type(exc).__name__)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "FailbriefUnavailable"


def test_a_stored_summary_is_read_triggered_and_polled(live_server, acme):
    org, token = acme
    row = stored(org, task_id="t-1", root_cause="boom")
    with FailbriefClient(live_server.url, token) as fb:
        summaries = fb.flow_run_summaries(RUN)
        handle = fb.trigger_flow_run_summary(RUN, "t-1")
        progress = fb.poll(handle)
    assert [s["root_cause"] for s in summaries.summaries] == ["boom"]
    assert handle == str(row.request_uuid)
    assert (progress.status, progress.done) == ("completed", True)
    assert progress.result == [{"prompt": "Summary", "response": "boom"}]
    assert progress.progress[-1]["message"] == "Summary ready"


def test_errors_say_what_happened_with_the_status_and_the_servers_detail(live_server, acme):
    platform = create_platform_token("dalgo")
    with (
        FailbriefClient(live_server.url, "fb_not-a-token") as fb,
        pytest.raises(FailbriefAuthError) as denied,
    ):
        fb.poll("00000000-0000-0000-0000-000000000000")
    assert denied.value.status == 401
    with FailbriefClient(live_server.url, acme[1]) as fb:
        with pytest.raises(FailbriefNotFound) as unknown:
            fb.poll("00000000-0000-0000-0000-000000000000")
        assert (unknown.value.status, unknown.value.detail) == (404, "Not Found")
        assert "GET /api/tasks/stp/00000000-0000-0000-0000-000000000000: 404" in str(unknown.value)
        with pytest.raises(FailbriefRequestError) as wrong:
            fb.trigger_airbyte_summary("6f1c2a9e-3b7d-4e52-9a1f-0c8d2b7e4a15", -1)
        assert wrong.value.status == 422
        assert "non-negative" in str(wrong.value.detail)
    with FailbriefClient(live_server.url, platform) as fb, pytest.raises(FailbriefNotFound) as no_org:
        fb.flow_run_summaries(RUN)
    assert "X-Failbrief-Org" in no_org.value.detail
    with (
        FailbriefClient(live_server.url, platform, org="nobody") as fb,
        pytest.raises(FailbriefNotFound) as who,
    ):
        fb.flow_run_summaries(RUN)
    assert "no org 'nobody'" in who.value.detail


def test_a_429_is_retried_after_the_servers_retry_after(live_server, acme, settings):
    # Each trigger is a write: one per 5 s window. The windows are fixed, so two triggers may fall
    # on either side of a boundary; of three in a row, two share a window, and one is refused.
    settings.RATE_WRITES = "1/5s"
    org, token = acme
    stored(org, task_id="t-1")
    sleeps = Sleeps()
    with FailbriefClient(live_server.url, token, max_retry_wait=6, sleep=sleeps) as fb:
        answers = [fb.trigger_flow_run_summary(RUN, "t-1") for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    assert sleeps
    assert all(1 <= s <= 5 for s in sleeps)  # Retry-After, in whole seconds


def test_a_429_asking_longer_than_the_bound_is_raised_at_once(live_server, acme, settings):
    settings.RATE_WRITES = "1/7d"
    org, token = acme
    stored(org, task_id="t-1")
    sleeps = Sleeps()
    with FailbriefClient(live_server.url, token, max_retry_wait=5, sleep=sleeps) as fb:
        fb.trigger_flow_run_summary(RUN, "t-1")
        with pytest.raises(FailbriefRateLimited) as limited:
            fb.trigger_flow_run_summary(RUN, "t-1")
    assert sleeps == []
    assert limited.value.status == 429
    assert limited.value.retry_after is not None
    assert limited.value.retry_after > 5
    assert str(limited.value.detail).startswith("too many ")


def test_a_5xx_is_retried_and_the_retry_succeeds(live_server, acme, service_settings, fake_prefect):
    _, token = acme
    fake_prefect.fail_next(3, status=503)  # failbrief's own Prefect client gives up after 3 tries
    sleeps = Sleeps()
    with FailbriefClient(live_server.url, token, max_retries=2, sleep=sleeps) as fb:
        handle = fb.trigger_flow_run_summary(flow_run_id("b"), B_DBT_RUN)
    assert handle
    assert len(sleeps) == 1


def test_a_5xx_that_persists_is_raised_with_the_servers_detail(
    live_server, acme, service_settings, fake_prefect
):
    _, token = acme
    fake_prefect.fail_next(100, status=503)
    sleeps = Sleeps()
    client = FailbriefClient(live_server.url, token, max_retries=2, max_retry_wait=0.2, sleep=sleeps)
    with client as fb, pytest.raises(FailbriefUnavailable) as down:
        fb.trigger_flow_run_summary(flow_run_id("b"), B_DBT_RUN)
    assert len(sleeps) == 2
    assert down.value.status == 503
    assert "Prefect did not answer" in str(down.value.detail)


def test_a_server_that_does_not_answer_is_unavailable_after_the_retries():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    sleeps = Sleeps()
    with (
        FailbriefClient(
            f"http://127.0.0.1:{port}", "fb_x", max_retries=2, max_retry_wait=0.1, sleep=sleeps
        ) as fb,
        pytest.raises(FailbriefUnavailable) as down,
    ):
        fb.poll("00000000-0000-0000-0000-000000000000")
    assert down.value.status is None
    assert "failbrief did not answer" in str(down.value)
    assert len(sleeps) == 2
