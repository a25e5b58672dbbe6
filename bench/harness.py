"""A real failbrief web server on PostgreSQL + Redis for the HTTP benchmarks, and a fixed-rate load
generator. Run the benchmarks as modules: `python -m bench.webhook_ack`."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg

ROOT = Path(__file__).resolve().parents[1]
DATABASE = "failbrief_bench"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
BROKER_URL = "redis://127.0.0.1:6379/14"
WEBHOOK_KEY = "bench-webhook-key"
VAULT_KEY = "YmVuY2gtb25seS12YXVsdC1rZXktMzItYnl0ZXMhISE="  # 32 bytes, URL-safe base64: a Fernet key


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def server_env(port: int) -> dict[str, str]:
    return os.environ | {
        "DATABASE_URL": DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "PORT": str(port),
        "SECRET_KEY": "bench-only-secret",
        "FAILBRIEF_VAULT_KEY": VAULT_KEY,
        "PREFECT_NOTIFICATIONS_WEBHOOK_KEY": WEBHOOK_KEY,
        "LOG_LEVEL": "ERROR",
    }


def fresh_database(url: str = DATABASE_URL) -> None:
    """Drop and create the database `url` names (on the same server's `postgres` database)."""
    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "failbrief.cli", *args], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


@contextmanager
def web_server(
    workers: int = 2, env: dict[str, str] | None = None, celery_concurrency: int = 0
) -> Iterator[tuple[str, str]]:
    """Yields (base URL, API token of the default org) of a gunicorn on a fresh database; `env`
    overrides server_env's settings (DATABASE_URL, CELERY_BROKER_URL, ...), and with
    `celery_concurrency` a Celery worker of that many processes runs beside it."""
    port = free_port()
    env = server_env(port) | (env or {})
    fresh_database(env["DATABASE_URL"])
    cli(env, "org", "add", "bench", "--default")
    token = cli(env, "token", "create", "bench")
    bin_dir = Path(sys.executable).parent
    web = [str(bin_dir / "gunicorn"), "failbrief.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    procs = [subprocess.Popen([*web, "--workers", str(workers), "--threads", "4"], env=env, cwd=ROOT)]
    if celery_concurrency:
        worker = [str(bin_dir / "celery"), "-A", "failbrief.celery", "worker", "--loglevel", "WARNING"]
        command = [*worker, "--concurrency", str(celery_concurrency)]
        procs.append(subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL))
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base)
        yield base, token
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=30)


def _wait_until_up(base: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{base}/healthz", timeout=2)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start")


@dataclass
class Latencies:
    label: str
    seconds: list[float]
    errors: int

    def line(self) -> str:
        ms = sorted(s * 1000 for s in self.seconds)
        p50 = statistics.median(ms)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        return f"{self.label:<48} n={len(ms):<5} p50={p50:7.2f} ms  p99={p99:7.2f} ms  errors={self.errors}"


def fixed_rate(label: str, rate: float, count: int, send: Callable[[httpx.Client, int], int]) -> Latencies:
    """Send `count` requests at `rate` per second (open loop: a slow answer does not delay the next
    send), and time each one."""
    times: list[float] = []
    errors = 0
    lock = threading.Lock()
    client = httpx.Client(timeout=10, limits=httpx.Limits(max_connections=64, max_keepalive_connections=64))

    def one(i: int) -> None:
        nonlocal errors
        started = time.perf_counter()
        status = send(client, i)
        elapsed = time.perf_counter() - started
        with lock:
            times.append(elapsed)
            errors += status >= 400

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=32) as pool:
        for i in range(count):
            time.sleep(max(0.0, start + i / rate - time.perf_counter()))
            pool.submit(one, i)
    client.close()
    return Latencies(label, times, errors)
