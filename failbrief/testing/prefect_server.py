"""A real Prefect 3.9 server for the end-to-end tier and bench/e2e_latency.py.

Prefect and dbt live in their own virtualenvs under `.cache/prefect/` (gitignored), installed once
with pip and reused while their requirements stay the same. The server runs `prefect server start`
on a free 127.0.0.1 port with SQLite under a throw-away PREFECT_HOME, no UI and no analytics, and
its in-process services on (automations need them). What it needs: docs/prefect-behaviour.md §1.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / "prefect"
FLOWS = Path(__file__).resolve().parent / "prefect_flows"
PREFECT_REQUIREMENTS = ("prefect==3.9.1", "prefect-shell==0.3.7")
# Unpinned dbt pulls a parser whose build downloads from outside PyPI (docs/prefect-behaviour.md
# §6): keep the pins.
DBT_REQUIREMENTS = ("dbt-core~=1.10.0", "dbt-postgres~=1.9.0")
INSTALL_TIMEOUT = 900.0
START_TIMEOUT = 120.0


class PrefectUnusable(RuntimeError):
    """Prefect (or dbt) could not be installed or started here; the message says why."""


def cached_venv(name: str, requirements: Sequence[str]) -> Path:
    """The virtualenv `.cache/prefect/<name>` holding `requirements`, installed on first use.

    A stamp file records what was installed; a changed list reinstalls. A lock keeps two test
    sessions from installing at once. Raises PrefectUnusable with pip's last lines on failure."""
    home, wanted = CACHE / name, _stamp(requirements)
    if _stamp_of(home) == wanted:
        return home
    CACHE.mkdir(parents=True, exist_ok=True)
    with open(CACHE / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _stamp_of(home) != wanted:
            _install(home, requirements)
            (home / ".requirements").write_text(wanted)
    return home


def is_cached(name: str, requirements: Sequence[str]) -> bool:
    """Whether `cached_venv(name, requirements)` would return at once, without installing."""
    return _stamp_of(CACHE / name) == _stamp(requirements)


def _stamp(requirements: Sequence[str]) -> str:
    return f"python {sys.version_info.major}.{sys.version_info.minor}\n" + "\n".join(requirements)


def _stamp_of(home: Path) -> str | None:
    stamp = home / ".requirements"
    return stamp.read_text() if stamp.exists() else None


def _install(home: Path, requirements: Sequence[str]) -> None:
    shutil.rmtree(home, ignore_errors=True)
    log_path = home.with_suffix(".install.log")
    with open(log_path, "wb") as log:
        for command in (
            [sys.executable, "-m", "venv", str(home)],
            [str(home / "bin" / "pip"), "install", "--quiet", *requirements],
        ):
            try:
                done = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT)
            except subprocess.TimeoutExpired:
                raise PrefectUnusable(f"{' '.join(command)} took longer than {INSTALL_TIMEOUT:g} s") from None
            if done.returncode != 0:
                tail = log_path.read_text(errors="replace").splitlines()[-5:]
                raise PrefectUnusable(f"{' '.join(command[-3:])} failed: " + " | ".join(tail))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PrefectServer:
    """A running server. `api_url` ends in /api; `client_env` is the environment for flows."""

    venv: Path
    home: Path
    port: int
    process: subprocess.Popen[bytes]
    startup_seconds: float = 0.0
    children: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def client_env(self, **extra: str) -> dict[str, str]:
        """The environment a flow process runs in: this server's API, no settings of ours. (No
        PYTHONPATH to our flows: dbt imports every module on the path named `dbt_*` as a plugin.)"""
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "DJANGO_"))}
        return base | {
            "PREFECT_API_URL": self.api_url,
            "PREFECT_HOME": str(self.home),
            "DO_NOT_TRACK": "1",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            **extra,
        }

    def log_tail(self, lines: int = 30) -> str:
        text = (self.home / "server.log").read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM every process group we started (runners, then the server), SIGKILL stragglers."""
        for proc in [*self.children, self.process]:
            stop_group(proc)


def stop_group(proc: subprocess.Popen[bytes], grace: float = 15.0) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except ProcessLookupError:
        return
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def start_server(
    venv: Path, home: Path, timeout: float = START_TIMEOUT, port: int | None = None
) -> PrefectServer:
    """Start `prefect server start` and wait for GET /api/health to say true. The server's own
    environment has no PREFECT_API_URL (that is for clients) and a PREFECT_UI_URL, so
    `{{ flow_run | ui_url }}` renders a link. `port`: a free one unless given. Raises PrefectUnusable
    with the log's tail."""
    home.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    command = [str(venv / "bin" / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port)]
    started = time.monotonic()
    with open(home / "server.log", "wb") as log:  # the child keeps its own descriptor
        process = subprocess.Popen(
            [*command, "--no-ui", "--analytics-off"],
            env=_server_env(home, port),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = PrefectServer(venv, home, port, process)
    try:
        _wait_healthy(server, started + timeout)
    except PrefectUnusable:
        server.stop()
        raise
    server.startup_seconds = time.monotonic() - started
    return server


def _server_env(home: Path, port: int) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    return base | {
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_UI_URL": f"http://127.0.0.1:{port}",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{home}/prefect.db",
        "DO_NOT_TRACK": "1",
    }


def _wait_healthy(server: PrefectServer, deadline: float) -> None:
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise PrefectUnusable(
                f"prefect server exited ({server.process.returncode}):\n{server.log_tail()}"
            )
        try:
            if httpx.get(f"{server.api_url}/health", timeout=2).json() is True:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.25)
    raise PrefectUnusable(f"prefect server not healthy within the deadline:\n{server.log_tail()}")


@contextmanager
def running_server(home: Path) -> Iterator[PrefectServer]:
    """Install (or reuse) Prefect, start a server under `home`, stop it afterwards."""
    server = start_server(cached_venv("prefect-venv", PREFECT_REQUIREMENTS), home)
    try:
        yield server
    finally:
        server.stop()


def run_flow(server: PrefectServer, script: str, *args: str, timeout: float = 120.0, **env: str) -> str:
    """Run one of our flow scripts to its end in a subprocess; returns the flow run id it prints
    (`FLOW_RUN_ID <id>`). The flow is expected to fail, so the exit status is not checked."""
    done = subprocess.run(
        [str(server.python), str(FLOWS / script), *args],
        env=server.client_env(**env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    for line in done.stdout.splitlines():
        if line.startswith("FLOW_RUN_ID "):
            return line.split()[1]
    raise AssertionError(f"{script} printed no flow run id:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}")


def serve_flows(
    server: PrefectServer, script: str, deployments: Sequence[str], timeout: float = 60.0
) -> None:
    """Start `script` (a `prefect.serve(...)` of our deployments) as a runner process and wait until
    every `flow/deployment` name exists. Runner-managed runs are the ones that end Crashed."""
    log_path = server.home / f"{Path(script).stem}.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(server.python), str(FLOWS / script)],
            env=server.client_env(PREFECT_RUNNER_POLL_FREQUENCY="1"),
            cwd=FLOWS,  # the runner loads each run's entrypoint relative to its working directory
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server.children.append(proc)
    deadline = time.monotonic() + timeout
    for name in deployments:
        while httpx.get(f"{server.api_url}/deployments/name/{name}", timeout=5).status_code != 200:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise PrefectUnusable(f"{script} did not serve {name}: {log_path.read_text()[-3000:]}")
            time.sleep(0.25)


def start_deployment(server: PrefectServer, name: str, parameters: dict[str, object]) -> str:
    """Ask the runner for a run of `flow/deployment`; returns the new flow run id."""
    deployment = httpx.get(f"{server.api_url}/deployments/name/{name}", timeout=10).raise_for_status().json()
    url = f"{server.api_url}/deployments/{deployment['id']}/create_flow_run"
    # A busy Prefect server (its SQLite database locked by the runner) answers 503; Prefect's own
    # client retries that, so a test driving the API directly does too.
    for _ in range(5):
        run = httpx.post(url, json={"parameters": parameters}, timeout=10)
        if run.status_code not in (429, 503):
            break
        wait = run.headers.get("Retry-After", "")
        time.sleep(min(float(wait), 5.0) if wait.replace(".", "", 1).isdigit() else 1.0)
    return str(run.raise_for_status().json()["id"])
