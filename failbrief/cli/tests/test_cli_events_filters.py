"""failbrief events' filters and its first run, without a worker: what an operator types at 3 a.m.
(a duration, a date, a typo) is either a filter or one clear line, never a traceback."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from django.utils import timezone

from failbrief.cli import main
from failbrief.cli.tests.test_cli_orgs import failbrief as failbrief_process
from failbrief.events.models import FailureEvent


def failbrief(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "160"}).invoke(main, list(args))


def received(flow_run_id: str, hours_ago: float) -> None:
    event = FailureEvent.objects.create(
        raw_body="{}", shape="robust", flow_run_id=flow_run_id, state_name="Failed",
        dedup_key=flow_run_id, status="failed", status_reason="RunNotFound",
    )  # fmt: skip
    FailureEvent.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(hours=hours_ago))


def test_since_keeps_the_events_received_in_the_window(db):
    received("run-of-this-morning", hours_ago=2)
    received("run-of-last-week", hours_ago=24 * 7)

    done = failbrief("events", "--since", "12h", "--json")

    assert done.exit_code == 0, done.output
    assert [row["flow_run_id"] for row in json.loads(done.stdout)] == ["run-of-this-morning"]


@pytest.mark.parametrize(
    ("since", "says"),
    [
        ("yesterday", "'yesterday' is neither a duration back from now (30m, 12h, 7d, 2w) nor an ISO date"),
        ("2099-01-01", "2099-01-01 00:00:00 UTC is in the future"),
        ("99999999999w", "is further back than a date can be"),
    ],
)
def test_a_bad_since_is_one_clear_line(db, since, says):
    done = failbrief("events", "--since", since)

    assert done.exit_code == 2
    assert says in done.stderr
    assert "Traceback" not in done.output


def test_before_the_first_migrate_it_says_to_migrate(tmp_path: Path):
    """events only reads (it does not migrate), so on a fresh database it used to end in a
    traceback: 'no such table: events_failureevent'."""
    done = failbrief_process(tmp_path / "var", "events")

    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: the database has no tables yet (or lacks migrations): run 'failbrief migrate'"
    ]
