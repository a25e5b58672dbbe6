"""failbrief backfill, invoked as a person would type it, against the loopback fake Prefect: the dry run
lists and writes nothing, the real run summarizes what is missing and ends with the counts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner, Result

from failbrief.cli import main
from failbrief.cli.when import moment
from failbrief.events.models import FailureEvent
from failbrief.orgs.manage import add_org
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_prefect import UUID_TEXT
from failbrief.testing.scenarios import captured


def failed_run(fake, prefix: str, minutes_ago: int, **changes: object) -> str:
    """A copy of a captured scenario under new ids, as if its flow run had ended minutes ago."""
    mapping = fake.clone_scenario(prefix)
    text = json.dumps(captured(f"{prefix}_flow_run.json"))
    run = json.loads(UUID_TEXT.sub(lambda m: mapping.get(m.group(0), m.group(0)), text))
    ended = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    run["end_time"] = run["state"]["timestamp"] = ended.isoformat().replace("+00:00", "Z")
    fake.add_flow_run(run | changes)
    return str(run["id"])


def failbrief(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def runs(db, fake_prefect, service_settings):
    """Two failed runs of the default org, one of acme's; and one from before the window."""
    add_org("demo", default=True)
    add_org("acme")
    return {
        "a": failed_run(fake_prefect, "a", 50),
        "b": failed_run(fake_prefect, "b", 40),
        "acme": failed_run(fake_prefect, "d", 30, tags=["org:acme"]),
        "old": failed_run(fake_prefect, "a2", 180),
    }


def test_the_dry_run_lists_the_runs_and_writes_nothing(runs):
    done = failbrief("backfill", "--since", "2h", "--dry-run")

    assert done.exit_code == 0, done.output
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["ended", "(UTC)", "status", "org", "flow", "run", "name", "note"]
    assert [(line.split()[2:5]) for line in lines[1:4]] == [
        ["to", "summarize", "demo"],
        ["to", "summarize", "demo"],
        ["to", "summarize", "acme"],
    ]
    assert [line.split()[5] for line in lines[1:4]] == [runs["a"], runs["b"], runs["acme"]]
    assert lines[-1].endswith("UTC: 3 to summarize")
    assert runs["old"] not in done.stdout
    assert FailureEvent.objects.count() == 0
    assert LlmSession.objects.count() == 0


def test_a_backfill_summarizes_the_missing_runs_and_ends_with_the_counts(runs):
    done = failbrief("backfill", "--since", "2h")

    assert done.exit_code == 0, done.output
    assert done.stdout.strip().endswith(": 3 summarized, 0 skipped, 0 failed")
    assert f"summarized {runs['a']}" in done.stderr
    assert set(LlmSession.objects.values_list("session_status", flat=True)) == {"completed"}
    summarized = set(LlmSession.objects.values_list("flow_run_id", flat=True))
    assert summarized == {runs["a"], runs["b"], runs["acme"]}

    again = failbrief("backfill", "--since", "2h")

    assert again.stdout.strip().endswith(": 0 summarized, 3 skipped, 0 failed")
    assert "3 already summarized" in again.stderr


def test_with_an_org_the_other_orgs_runs_are_skipped(runs):
    done = failbrief("backfill", "--since", "2h", "--org", "acme")

    assert done.exit_code == 0, done.output
    assert "1 to summarize, 2 other org" in done.stderr
    assert done.stdout.strip().endswith(": 1 summarized, 2 skipped, 0 failed")
    assert set(LlmSession.objects.values_list("flow_run_id", flat=True)) == {runs["acme"]}


def test_a_run_that_cannot_be_summarized_is_reported_and_the_exit_code_is_1(runs, fake_prefect):
    broken = failed_run(fake_prefect, "a", 20)
    # Prefect answers something we cannot use for this run's task runs.
    fake_prefect.add_task_runs([{"id": str(uuid.uuid4()), "flow_run_id": broken, "state": "garbage"}])

    done = failbrief("backfill", "--since", "2h")

    assert done.exit_code == 1
    assert done.stdout.strip().endswith(": 3 summarized, 0 skipped, 1 failed")
    assert f"failed     {broken}" in done.stderr
    assert "PrefectBadResponse" in FailureEvent.objects.get(flow_run_id=broken).status_reason


@pytest.mark.parametrize(
    ("text", "means"),
    [
        ("30m", datetime(2026, 11, 26, 11, 30, tzinfo=UTC)),
        ("12h", datetime(2026, 11, 26, 0, 0, tzinfo=UTC)),
        ("7d", datetime(2026, 11, 19, 12, 0, tzinfo=UTC)),
        ("2w", datetime(2026, 11, 12, 12, 0, tzinfo=UTC)),
        ("2026-11-19", datetime(2026, 11, 19, 0, 0, tzinfo=UTC)),
        ("2026-11-19T08:00Z", datetime(2026, 11, 19, 8, 0, tzinfo=UTC)),
        ("2026-11-19T08:00+05:30", datetime(2026, 11, 19, 2, 30, tzinfo=UTC)),
    ],
)
def test_the_window_is_a_duration_back_from_now_or_an_iso_date(text, means):
    assert moment(text, now=datetime(2026, 11, 26, 12, 0, tzinfo=UTC)) == means


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--since", "7 days"), "'7 days' is neither a duration back from now (30m, 12h, 7d, 2w) nor an ISO"),
        (("--since", "1h", "--until", "2h"), "is not before --until"),
        (("--since", "1h", "--org", "nobody"), "no org 'nobody'"),
        (("--since", "999999d"), "'999999d' is further back than a date can be"),
        (("--since", "99999999999w"), "'99999999999w' is further back than a date can be"),
        (("--since", "2099-01-01"), "2099-01-01 00:00:00 UTC is in the future"),
    ],
)
def test_a_bad_window_or_org_is_a_clear_usage_error(runs, args, says):
    done = failbrief("backfill", *args)

    assert done.exit_code == 2
    assert says in done.stderr
    assert FailureEvent.objects.count() == 0


def test_prefect_down_changes_nothing_and_says_so(runs, fake_prefect):
    fake_prefect.set_down(True)

    done = failbrief("backfill", "--since", "2h")

    assert done.exit_code == 1
    assert f"Prefect at {fake_prefect.url}" in done.stderr
    assert "nothing was changed" in done.stderr
    assert FailureEvent.objects.count() == 0
