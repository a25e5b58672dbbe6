"""`make test` runs independent tiers side by side and still fails when any of them fails."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from failbrief.testing.tiers import Tier, run_together

# Each side writes its own mark, then waits for the other's: both pass only if they run at once.
MEET = """
import os, time
from pathlib import Path

def test_meet():
    meet = Path(os.environ["MEET_DIR"])
    (meet / os.environ["ME"]).touch()
    deadline = time.monotonic() + 60
    while not (meet / os.environ["OTHER"]).exists():
        assert time.monotonic() < deadline, "the other tier never ran alongside"
        time.sleep(0.05)
    print("met", os.environ["OTHER"])
"""


def tier(tmp_path: Path, name: str, body: str, **env: str) -> Tier:
    test_file = tmp_path / f"test_{name}.py"
    test_file.write_text(body)
    args = ["-q", "-s", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(test_file)]
    return Tier(f"tier {name}", args, dict(os.environ) | env)


def test_tiers_run_side_by_side_and_each_output_is_printed_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = tier(tmp_path, "a", MEET, MEET_DIR=str(tmp_path), ME="a", OTHER="b")
    b = tier(tmp_path, "b", MEET, MEET_DIR=str(tmp_path), ME="b", OTHER="a")

    assert run_together([a, b]) == 0

    out = capsys.readouterr().out
    for name, other in (("a", "b"), ("b", "a")):
        heading = out.index(f"===== tier: tier {name} (")
        section = out[heading:].split("\n===== tier:", 1)[0]
        assert f"met {other}" in section
        assert "1 passed" in section


def test_one_failing_tier_fails_the_run_after_the_others_finish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    passing = tier(tmp_path, "ok", "def test_ok():\n    pass\n")
    failing = tier(tmp_path, "broken", "def test_broken():\n    assert 1 == 2, 'the broken tier'\n")

    assert run_together([failing, passing]) == 1

    out = capsys.readouterr().out
    assert "the broken tier" in out
    assert "===== tier: tier ok (" in out


def test_an_empty_selection_passes_only_where_the_tier_may_be_empty(tmp_path: Path) -> None:
    empty = tier(tmp_path, "empty", "def test_x():\n    pass\n")
    selecting_nothing = Tier(empty.label, [*empty.args, "-k", "nothing_matches"], empty.env)

    assert run_together([selecting_nothing]) == 1
    assert run_together([replace(selecting_nothing, may_be_empty=True)]) == 0


def test_a_tier_whose_services_do_not_answer_skips_or_fails_when_required(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    down = "Redis 127.0.0.1:6379 did not answer"
    optional = Tier("PostgreSQL + Redis", ["never-run"], {}, not_run=down)
    required = Tier("PostgreSQL + Redis", ["never-run"], {}, not_run=down, required=True)

    assert run_together([optional]) == 0
    assert f"PostgreSQL + Redis: skipped: {down}" in capsys.readouterr().out
    assert run_together([required]) == 1
    assert f"PostgreSQL + Redis: FAILED: {down}" in capsys.readouterr().out
