"""The real Prefect tier: one Prefect 3.9.1 server per session (SQLite, loopback), set up with
`failbrief setup-prefect` to post to pytest-django's live server, and real failing flows.

Prefect is installed once under .cache/prefect. When it cannot be (no network), every test here is
skipped with the reason, unless FAILBRIEF_REQUIRE_PREFECT=1 (CI), which fails them instead.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from failbrief.testing.fixtures import WEBHOOK_KEY
from failbrief.testing.prefect_server import (
    DBT_REQUIREMENTS,
    FLOWS,
    PREFECT_REQUIREMENTS,
    PrefectServer,
    PrefectUnusable,
    cached_venv,
    serve_flows,
    start_server,
)
from failbrief.testing.services import answers

DEPLOYMENTS = (
    "deployment-schedule-flow-v4/dalgo-like-pipeline",
    "crashy-ingest/crashy-ingest-deployment",
)
REQUIRED = os.environ.get("FAILBRIEF_REQUIRE_PREFECT") == "1"


def unusable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"FAILBRIEF_REQUIRE_PREFECT=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory):
    try:
        venv = cached_venv("prefect-venv", PREFECT_REQUIREMENTS)
        server = start_server(venv, tmp_path_factory.mktemp("prefect-home"))
    except PrefectUnusable as exc:
        unusable(f"no real Prefect server: {exc}")
    print(f"\nPrefect 3.9.1 healthy after {server.startup_seconds:.1f} s at {server.api_url}")
    try:
        serve_flows(server, "serve_deployments.py", DEPLOYMENTS)
        yield server
    finally:
        server.stop()


def failbrief_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    full_env = os.environ | {"PREFECT_NOTIFICATIONS_WEBHOOK_KEY": WEBHOOK_KEY, "LOG_LEVEL": "WARNING"} | env
    return subprocess.run(
        [sys.executable, "-m", "failbrief.cli", *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def setup_prefect(server: PrefectServer, public_url: str) -> subprocess.CompletedProcess[str]:
    done = failbrief_cli("setup-prefect", "--prefect-url", server.api_url, "--public-url", public_url)
    assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="session")
def automation(prefect_server: PrefectServer, live_server) -> PrefectServer:
    """The server, with `failbrief setup-prefect` pointed at the live server."""
    setup_prefect(prefect_server, live_server.url)
    return prefect_server


@pytest.fixture
def real_prefect(automation: PrefectServer, celery_worker, settings, default_org):
    """Our worker and web server reading the real Prefect. Yields (server, API token)."""
    settings.PREFECT_API_URL = automation.api_url
    # Prefect ships logs every 2 s: wait for a quiet spell longer than that before summarizing.
    settings.LOG_SETTLE_SECONDS = 2.5
    settings.LOG_SETTLE_CAP_SECONDS = 20.0
    return automation, default_org[1]


def wait_until_ended(server: PrefectServer, flow_run_id: str, timeout: float = 60.0) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run: dict[str, object] = httpx.get(f"{server.api_url}/flow_runs/{flow_run_id}", timeout=10).json()
        if run.get("state_type") in {"FAILED", "CRASHED", "COMPLETED", "CANCELLED"}:
            return run
        time.sleep(0.25)
    raise AssertionError(f"flow run {flow_run_id} did not end within {timeout} s")


@pytest.fixture(scope="session")
def dbt_database() -> dict[str, str]:
    """A throw-away PostgreSQL database for the dbt project, as DBT_PG_* variables."""
    if not answers("127.0.0.1", 5432):
        if REQUIRED or os.environ.get("FAILBRIEF_REQUIRE_SERVICES") == "1":
            pytest.fail("PostgreSQL 127.0.0.1:5432 does not answer; the dbt flow needs it", pytrace=False)
        pytest.skip("PostgreSQL 127.0.0.1:5432 does not answer; the dbt flow needs it")
    import psycopg

    name = f"failbrief_dbt_e2e_{os.getpid()}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
    yield {
        "DBT_PG_HOST": "127.0.0.1",
        "DBT_PG_USER": "postgres",
        "DBT_PG_PASSWORD": "",
        "DBT_PG_DBNAME": name,
    }
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def dbt_env(dbt_database: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for shop_analytics.py: dbt's venv, a writable copy of the project, the database."""
    try:
        venv = cached_venv("dbt-venv", DBT_REQUIREMENTS)
    except PrefectUnusable as exc:
        unusable(f"no dbt: {exc}")
    project = tmp_path_factory.mktemp("dbt") / "dbt_project"
    shutil.copytree(FLOWS / "dbt_project", project)
    return dbt_database | {"DBT_PROJECT_DIR": str(project), "DBT_BIN_DIR": str(Path(venv) / "bin")}
