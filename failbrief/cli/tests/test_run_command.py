"""`failbrief run` (what `make run` starts): a real gunicorn, worker and beat on the embedded defaults."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_run_serves_healthz_and_the_api_docs_and_stops_on_ctrl_c(tmp_path: Path):
    port = free_port()
    drop = {"DATABASE_URL", "CELERY_BROKER_URL", "PREFECT_NOTIFICATIONS_WEBHOOK_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in drop} | {
        "FAILBRIEF_VAR_DIR": str(tmp_path / "var"),
        "PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "failbrief.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        health = _first_answer(f"http://127.0.0.1:{port}/healthz", proc)
        assert health.status_code == 200, health.text
        assert health.json() == {"status": "ok", "database": "ok", "broker": "ok"}
        assert httpx.get(f"http://127.0.0.1:{port}/api/docs", timeout=5).status_code == 200
        assert (
            httpx.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=5).json()["info"]["title"]
            == "failbrief"
        )
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "webhook key (X-Notification-Key): fb_" in output
    assert "API token (Authorization: Bearer …): fb_" in output


def _first_answer(url: str, proc: subprocess.Popen[str], timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")
