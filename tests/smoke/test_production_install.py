"""The production path as a user installs it: a fresh virtualenv with the runtime dependencies only
(no test extras, no dev tools), `make run` exactly as the README says, on PostgreSQL with Redis
and with RabbitMQ, against a loopback fake Prefect; one failure webhook in, its summary read back
through the API.

This tier exists because the test virtualenv hides missing runtime dependencies: pytest pulls in
`packaging`, which kombu's Redis transport imports, so every other tier passed while a plain
install on Redis could not start a worker. Run by `make test` as its own tier (`-m smoke`)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar, cast

import httpx
import psycopg
import pytest
from cryptography.fernet import Fernet

from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.fixtures import completed_summaries
from failbrief.testing.prefect_server import free_port
from failbrief.testing.scenarios import flow_run_id, robust_body
from failbrief.testing.services import answers

pytestmark = pytest.mark.smoke

REPO = Path(__file__).resolve().parents[2]
BROKERS = {
    "redis": ("redis://127.0.0.1:6379/10", 6379),
    "rabbitmq": ("amqp://guest:guest@127.0.0.1:5672//", 5672),
}
T = TypeVar("T")
STARTUP_SECONDS = 120
SUMMARY_SECONDS = 120
KEY_LINE = re.compile(r"webhook key \(X-Notification-Key\): (\S+)")
TOKEN_LINE = re.compile(r"API token \(Authorization: Bearer …\): (\S+)")
# Variables of the test tiers that a user's shell would not have.
TEST_ONLY = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "FAILBRIEF_TIER",
    "SECRET_KEY",
    "FAILBRIEF_VAULT_KEY",
    "VIRTUAL_ENV",
}


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`make`'s own install step into a new virtualenv: what `make run` does on a fresh machine."""
    venv = tmp_path_factory.mktemp("runtime") / "venv"
    subprocess.run(["make", "-C", str(REPO), f"VENV={venv}", f"{venv}/.installed"], check=True)
    for dev_only in ("pytest", "hypothesis", "mypy"):
        probe = subprocess.run(
            [str(venv / "bin" / "python"), "-c", f"import {dev_only}"], capture_output=True
        )
        assert probe.returncode != 0, f"{dev_only} is installed: the venv is not runtime-only"
    return venv


class Server:
    """`make run` in its own process group, its output collected line by line."""

    def __init__(self, venv: Path, env: dict[str, str]) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            ["make", "-C", str(REPO), f"VENV={venv}", "run"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def printed(self, pattern: re.Pattern[str]) -> str | None:
        found = pattern.search(self.output)
        return found.group(1) if found else None

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGINT)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        self._reader.join(timeout=5)


def fresh_database(name: str) -> str:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def empty_broker(url: str) -> None:
    """Drop messages an earlier tier may have left, so this run's worker sees only its own."""
    from kombu import Connection

    # RabbitMQ refuses to purge a queue that was never declared: then there is nothing to drop.
    with Connection(url, connect_timeout=5) as conn, contextlib.suppress(Exception):
        conn.default_channel.queue_purge("celery")  # type: ignore[attr-defined]


@pytest.fixture(params=sorted(BROKERS))
def broker(request: pytest.FixtureRequest) -> str:
    url, port = BROKERS[request.param]
    if not answers("127.0.0.1", 5432) or not answers("127.0.0.1", port):
        if os.environ.get("FAILBRIEF_REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL or {request.param} does not answer", pytrace=False)
        pytest.skip(f"PostgreSQL or {request.param} does not answer")
    empty_broker(url)
    return url


@pytest.fixture
def fake_prefect_server() -> Iterator[FakePrefect]:
    with FakePrefect() as fake:
        yield fake


def test_runtime_only_install_summarizes_a_failure(
    runtime_venv: Path, broker: str, fake_prefect_server: FakePrefect, tmp_path: Path
) -> None:
    port = free_port()
    tag = "redis" if broker.startswith("redis") else "rabbitmq"
    env = {k: v for k, v in os.environ.items() if k not in TEST_ONLY} | {
        "DATABASE_URL": fresh_database(f"failbrief_smoke_{tag}"),
        "CELERY_BROKER_URL": broker,
        "SECRET_KEY": "smoke-tier-" + "x" * 40,
        "FAILBRIEF_VAULT_KEY": Fernet.generate_key().decode(),  # required with PostgreSQL
        "PORT": str(port),
        "FAILBRIEF_VAR_DIR": str(tmp_path / "var"),
        "PREFECT_API_URL": fake_prefect_server.url,
        "FAILBRIEF_RECONCILE_EVERY_SECONDS": "0",  # only the webhook we post, not the fake's history
        "FAILBRIEF_LOG_SETTLE_SECONDS": "0.5",
    }
    env.pop("PREFECT_NOTIFICATIONS_WEBHOOK_KEY", None)
    server = Server(runtime_venv, env)
    base = f"http://127.0.0.1:{port}"
    try:
        health = _until(lambda: _healthy(base), STARTUP_SECONDS, server, "/healthz to answer ok")
        assert health["status"] == "ok"
        key, token = server.printed(KEY_LINE), server.printed(TOKEN_LINE)
        assert key, server.output
        assert token, server.output

        run_id = flow_run_id("a2")
        posted = httpx.post(
            f"{base}/webhooks/v1/notification/",
            content=robust_body("a2"),
            headers={"X-Notification-Key": key, "Content-Type": "application/json"},
            timeout=10,
        )
        assert posted.status_code == 202, posted.text

        summaries = _until(
            lambda: completed_summaries(base, token, run_id), SUMMARY_SECONDS, server, "the summary"
        )
        root = summaries[0]
        assert "transform_orders" in str(root["task_name"])
        assert any("unsupported currency None" in line for line in cast(list[str], root["evidence"]))
    finally:
        server.stop()
    assert "Traceback" not in server.output, server.output


def _healthy(base: str) -> dict[str, object] | None:
    try:
        answer = httpx.get(f"{base}/healthz", timeout=5)
    except httpx.TransportError:
        return None
    body: dict[str, object] = answer.json()
    return body if answer.status_code == 200 else None


def _until(read: Callable[[], T | None], seconds: float, server: Server, what: str) -> T:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.proc.poll() is None, f"make run exited ({server.proc.returncode}):\n{server.output}"
        value = read()
        if value is not None:
            return value
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {seconds} s:\n{server.output}")
