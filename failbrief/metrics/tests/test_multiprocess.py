"""With PROMETHEUS_MULTIPROC_DIR, /metrics answers for every process: the gunicorn workers' and
the Celery worker's counters, summed, whichever process serves the scrape."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from failbrief.metrics.tests.reading import samples, value
from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.fixtures import WEBHOOK_KEY, post_webhook
from failbrief.testing.scenarios import robust_body

# One web process refusing one webhook that carries no key (refused before any database access).
REFUSE_ONE = """
import django
django.setup()
from django.test import Client
answer = Client().post("/webhooks/v1/notification/", data=b"{}", content_type="application/json")
assert answer.status_code == 401, answer.content
"""
DROP = {"DATABASE_URL", "CELERY_BROKER_URL", "PROMETHEUS_MULTIPROC_DIR", "LOG_FORMAT"}


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in DROP} | {
        "FAILBRIEF_VAR_DIR": str(tmp_path / "var"),
        "PREFECT_NOTIFICATIONS_WEBHOOK_KEY": WEBHOOK_KEY,
        **extra,
    }


def served_env(tmp_path: Path, port: int, prefect: FakePrefect, **extra: str) -> dict[str, str]:
    """What a server under test runs with: its port, the fake Prefect, logs that settle quickly."""
    return clean_env(
        tmp_path,
        PORT=str(port),
        PREFECT_API_URL=prefect.url,
        FAILBRIEF_LOG_SETTLE_SECONDS="0.3",
        FAILBRIEF_LOG_SETTLE_CAP_SECONDS="3",
        **extra,
    )


@pytest.mark.django_db
def test_the_scrape_sums_what_two_processes_counted(tmp_path, client, settings):
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = clean_env(
        tmp_path, PROMETHEUS_MULTIPROC_DIR=str(shared), DJANGO_SETTINGS_MODULE="failbrief.settings"
    )
    for _ in range(2):
        subprocess.run([sys.executable, "-c", REFUSE_ONE], env=env, check=True, timeout=60)
    settings.METRICS_MULTIPROC_DIR = str(shared)

    scraped = samples(client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode())

    assert value(scraped, "failbrief_webhooks_received_total", result="unauthorized") == 2
    assert value(scraped, "failbrief_webhooks_received_total", result="accepted") == 0


def test_failbrief_run_serves_the_workers_counters_and_json_logs(tmp_path):
    port = free_port()
    log_file = tmp_path / "run.log"
    with FakePrefect() as prefect, log_file.open("w") as out:
        env = served_env(tmp_path, port, prefect, LOG_FORMAT="json")
        proc = subprocess.Popen(
            [sys.executable, "-m", "failbrief.cli", "run"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_answer(f"{base}/healthz", proc, log_file)
            assert post_webhook(base, robust_body("b")).status_code == 202
            scraped = wait_for_metrics(
                f"{base}/metrics",
                lambda s: value(s, "failbrief_events", status="done", source="webhook") == 1,
                proc,
                log_file,
            )
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=30)

    # Counted by a gunicorn worker, and by the Celery worker: both reach the one scrape.
    assert value(scraped, "failbrief_webhooks_received_total", result="accepted") == 1
    assert value(scraped, "failbrief_webhook_to_summary_seconds_count", summarizer="offline") == 2
    assert list((tmp_path / "var" / "metrics").glob("*.db"))
    done = [line for line in json_lines(log_file) if line["logger"] == "failbrief.events.process"]
    assert done, log_file.read_text()[-3000:]
    assert done[-1]["status"] == "done"
    assert done[-1]["event"] == "1"


def test_web_and_worker_started_apart_on_one_host_serve_every_process_count(tmp_path):
    """docs/deploy.md's units: `failbrief web --workers 2` and `failbrief worker`, each its own
    process, nothing set for the metrics. Every scrape shows every process's counts, whichever
    gunicorn worker answers it."""
    port = free_port()
    log_file = tmp_path / "services.log"
    with FakePrefect() as prefect, log_file.open("w") as out:
        env = served_env(tmp_path, port, prefect)
        failbrief = [sys.executable, "-m", "failbrief.cli"]
        for setup in (["migrate"], ["org", "add", "default", "--default"]):
            subprocess.run([*failbrief, *setup], env=env, check=True, capture_output=True, timeout=120)
        started = [
            subprocess.Popen(
                [*failbrief, *command], env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
            for command in (["web", "--workers", "2", "--threads", "2"], ["worker", "--concurrency", "1"])
        ]
        base = f"http://127.0.0.1:{port}"
        try:
            wait_for_answer(f"{base}/healthz", started[0], log_file)
            assert post_webhook(base, robust_body("b")).status_code == 202
            wait_for_metrics(
                f"{base}/metrics",
                lambda s: value(s, "failbrief_events", status="done", source="webhook") == 1,
                started[1],
                log_file,
            )
            # New connections, so gunicorn hands them to either worker.
            scrapes = [samples(httpx.get(f"{base}/metrics", timeout=10).text) for _ in range(8)]
        finally:
            for proc in started:
                os.killpg(proc.pid, signal.SIGTERM)
            for proc in started:
                proc.wait(timeout=30)

    for scraped in scrapes:
        # Counted by the gunicorn worker that took the webhook, and by the Celery worker.
        assert value(scraped, "failbrief_webhooks_received_total", result="accepted") == 1
        assert value(scraped, "failbrief_webhook_to_summary_seconds_count", summarizer="offline") == 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_answer(url: str, proc: subprocess.Popen[bytes], log_file: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_file.read_text()
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def wait_for_metrics(url, check, proc, log_file: Path, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log_file.read_text()
        try:
            scraped = samples(httpx.get(url, timeout=10).text)
        except httpx.TransportError:
            # The server stopping is a failure; the next turn shows its log once `run` has exited.
            time.sleep(0.3)
            continue
        if check(scraped):
            return scraped
        time.sleep(0.3)
    raise AssertionError(f"the metrics never showed it: {log_file.read_text()[-3000:]}")


def json_lines(path: Path) -> list[dict[str, object]]:
    found = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            found.append(json.loads(line))
    return found


def test_web_starts_with_a_warning_when_it_cannot_make_the_metrics_directory(tmp_path):
    port = free_port()
    env = clean_env(tmp_path, PORT=str(port))
    migrate = [sys.executable, "-m", "failbrief.cli", "migrate"]
    subprocess.run(migrate, env=env, check=True, capture_output=True, timeout=120)
    (tmp_path / "var" / "metrics").write_text("not a directory")
    log_file = tmp_path / "web.log"
    with log_file.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "failbrief.cli", "web", "--workers", "1"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for_answer(f"http://127.0.0.1:{port}/healthz", proc, log_file)
            scraped = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        finally:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)

    assert scraped.status_code == 200
    assert "warning: cannot create" in log_file.read_text()


# One container's process: counts a refused webhook, waits until the other container's process has
# counted one too, then counts four more.
REFUSE_IN_STEPS = """
import django, sys, time
from pathlib import Path
django.setup()
from django.test import Client
def refuse():
    answer = Client().post("/webhooks/v1/notification/", data=b"{}", content_type="application/json")
    assert answer.status_code == 401, answer.content
me, other = Path(sys.argv[1]), Path(sys.argv[2])
refuse()
me.touch()
deadline = time.monotonic() + 60
while not other.exists():
    assert time.monotonic() < deadline, "the other process never counted"
    time.sleep(0.05)
for _ in range(4):
    refuse()
"""


def own_pid_namespace() -> list[str] | None:
    """The command prefix that runs a process in a PID namespace of its own, as a container's, or
    None where this machine does not allow it."""
    as_root = ["unshare", "--pid", "--fork"]
    for prefix in (as_root, ["unshare", "--user", "--map-root-user", "--pid", "--fork"]):
        try:
            done = subprocess.run([*prefix, "true"], capture_output=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return None
        if done.returncode == 0:
            return prefix
    return None


@pytest.mark.django_db
def test_two_containers_sharing_the_directory_count_apart_though_their_pids_are_the_same(
    tmp_path, client, settings
):
    """docs/metrics.md: the web and worker containers of a pod share one volume. Each container has
    its own PIDs, so their processes have the same small numbers: each must still count in its
    own files, or each overwrites the other's counts."""
    prefix = own_pid_namespace()
    if prefix is None:
        pytest.skip("this machine allows no PID namespace (unshare) to play the containers")
    shared = tmp_path / "metrics"
    shared.mkdir()
    env = clean_env(
        tmp_path, PROMETHEUS_MULTIPROC_DIR=str(shared), DJANGO_SETTINGS_MODULE="failbrief.settings"
    )
    first, second = tmp_path / "first-counted", tmp_path / "second-counted"
    started = [
        subprocess.Popen([*prefix, sys.executable, "-c", REFUSE_IN_STEPS, str(me), str(other)], env=env)
        for me, other in ((first, second), (second, first))
    ]
    assert [proc.wait(timeout=120) for proc in started] == [0, 0]
    settings.METRICS_MULTIPROC_DIR = str(shared)

    scraped = samples(client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode())

    assert value(scraped, "failbrief_webhooks_received_total", result="unauthorized") == 10
