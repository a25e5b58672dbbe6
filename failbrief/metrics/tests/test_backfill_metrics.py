"""`failbrief backfill` summarizes in its own process, not on a worker. What it counts (summaries
stored, LLM calls, tokens, cost) reaches the web server's /metrics through the host's metrics
directory, as the workers' counts do, with nothing set (docs/metrics.md)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from failbrief.cli.tests.test_cli_backfill import failed_run
from failbrief.metrics.tests.reading import samples, value
from failbrief.metrics.tests.test_multiprocess import clean_env
from failbrief.testing.fake_prefect import FakePrefect

STORED = "failbrief_webhook_to_summary_seconds_count"


def backfill(tmp_path: Path, prefect: FakePrefect) -> subprocess.CompletedProcess[str]:
    """A host's first failbrief command: migrate, add the default org, then backfill the last 2 hours."""
    env = clean_env(
        tmp_path,
        PREFECT_API_URL=prefect.url,
        FAILBRIEF_LOG_SETTLE_SECONDS="0.3",
        FAILBRIEF_LOG_SETTLE_CAP_SECONDS="3",
    )
    failbrief = [sys.executable, "-m", "failbrief.cli"]
    for setup in (["migrate"], ["org", "add", "default", "--default"]):
        subprocess.run([*failbrief, *setup], env=env, check=True, capture_output=True, timeout=120)
    return subprocess.run(
        [*failbrief, "backfill", "--since", "2h"], env=env, capture_output=True, text=True, timeout=300
    )


def scraped_by_the_web_server(client, settings, tmp_path: Path):
    # What `failbrief web` on this host serves: the sum of the files in $FAILBRIEF_VAR_DIR/metrics.
    settings.METRICS_MULTIPROC_DIR = str(tmp_path / "var" / "metrics")
    return samples(client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode())


@pytest.mark.django_db
def test_the_summaries_a_backfill_stored_are_served_by_the_web_servers_metrics(tmp_path, client, settings):
    (tmp_path / "var" / "metrics").mkdir(parents=True)  # as `failbrief web` on this host made it
    with FakePrefect() as prefect:
        failed_run(prefect, "b", 40)
        done = backfill(tmp_path, prefect)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(": 1 summarized, 0 skipped, 0 failed"), done.stdout
    scraped = scraped_by_the_web_server(client, settings, tmp_path)
    assert value(scraped, STORED, summarizer="offline") == 2  # the run's two failed units


@pytest.mark.django_db
@pytest.mark.skipif(os.geteuid() != 0, reason="giving the directory to another user needs root")
def test_a_backfill_run_by_another_user_than_the_directorys_summarizes_and_says_its_counts_are_not_served(
    tmp_path, client, settings
):
    # Its files there might be unreadable to the web server, whose every scrape would then fail.
    folder = tmp_path / "var" / "metrics"
    folder.mkdir(parents=True)
    os.chown(folder, 65534, 65534)
    with FakePrefect() as prefect:
        failed_run(prefect, "b", 40)
        done = backfill(tmp_path, prefect)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(": 1 summarized, 0 skipped, 0 failed"), done.stdout
    assert "not served by /metrics" in done.stderr
    assert list(folder.iterdir()) == []
    assert value(scraped_by_the_web_server(client, settings, tmp_path), STORED, summarizer="offline") == 0
