"""`failbrief demo --once` on a fresh temporary directory: a real Prefect server, the example flows of
failbrief/examples/, and their summaries printed as a person reads them; then nothing is left."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from failbrief.testing.prefect_server import PREFECT_REQUIREMENTS, PrefectUnusable, cached_venv
from tests.prefect.conftest import unusable

pytestmark = pytest.mark.prefect


def demo(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        cached_venv("prefect-venv", PREFECT_REQUIREMENTS)  # the demo installs it too; here a skip reason
    except PrefectUnusable as exc:
        unusable(f"no real Prefect: {exc}")
    # The user's settings must not leak into the demo: point them somewhere that would fail.
    env = os.environ | {
        "TMPDIR": str(tmp_path),
        "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/nothing",
        "PREFECT_API_URL": "http://127.0.0.1:1/api",
        "COLUMNS": "200",
    }
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "failbrief.cli", "demo", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
    )
    print(f"\nfailbrief demo {' '.join(args)} took {time.monotonic() - started:.1f} s")
    return done


def test_demo_once_prints_a_summary_of_every_example_and_cleans_up(tmp_path):
    done = demo(tmp_path, "--once")

    assert done.returncode == 0, done.stderr[-4000:]
    assert "3 of 3 examples summarized" in done.stderr
    assert "Cannot convert order 1003: no exchange rate for 'GBP'" in done.stdout
    assert "Connection refused (host=10.0.3.7 port=5432)" in done.stdout
    assert "failed: sync-crm.customers" in done.stdout
    assert "no such column: amount_usd" in done.stdout
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("failbrief-demo-")] == []


def test_demo_once_without_summaries_exits_1_saying_where_each_run_is(tmp_path):
    done = demo(tmp_path, "--once", "--timeout", "0")

    assert done.returncode == 1
    assert "not every example was summarized:" in done.stderr
    for script in ("orders_etl.py", "nightly_pipeline.py", "sql_models.py"):
        assert re.search(rf"{script}: flow run [0-9a-f-]{{36}}", done.stderr), done.stderr[-3000:]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("failbrief-demo-")] == []
