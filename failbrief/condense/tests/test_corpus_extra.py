"""The held-out corpus (testdata/corpus_extra): real logs collected after the rules were written.

Same checks as test_corpus.py. A case whose case.json carries `known_gap` is expected to fail the
category check (no general rule can get it right); it stays in the corpus and is marked xfail with
its reason instead of being hidden.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from failbrief.condense.brief import FailedUnitInfo
from failbrief.condense.condenser import Context, condense, read_log_file
from failbrief.condense.offline import write_brief
from failbrief.condense.tests.conftest import REPO

EXTRA_DIR = REPO / "testdata" / "corpus_extra"
CASES = sorted(path.parent for path in EXTRA_DIR.glob("*/case.json"))
DEFAULT_BUDGET = 4000


def _case(case_dir: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads((case_dir / "case.json").read_text())
    return case


def _category_params() -> list[Any]:
    """One param per case; a `known_gap` case is xfail (not strict: a fix shows up as XPASS)."""
    params: list[Any] = []
    for case_dir in CASES:
        gap = _case(case_dir).get("known_gap")
        marks = [pytest.mark.xfail(reason=gap, strict=False)] if gap else []
        params.append(pytest.param(case_dir, marks=marks, id=case_dir.name))
    return params


def _context(case_dir: Path) -> Context:
    return condense(read_log_file(case_dir / "log.txt"))


def test_the_extra_corpus_is_there_and_well_formed():
    assert len(CASES) >= 12
    for case_dir in CASES:
        case = _case(case_dir)
        log = (case_dir / "log.txt").read_text()
        assert case["id"] == case_dir.name
        assert case["tool"] in {"airbyte", "dbt", "python"}
        assert case["lines"] == log.count("\n")
        assert 1 <= len(case["must_keep"]) <= 5
        assert all(m in log for m in case["must_keep"])


@pytest.mark.parametrize("case_dir", CASES, ids=lambda p: p.name)
def test_it_keeps_every_must_keep_string_of_the_extra_corpus_within_the_default_budget(case_dir):
    case = _case(case_dir)
    context = _context(case_dir)
    assert [m for m in case["must_keep"] if m not in context.text] == []
    assert context.tokens <= DEFAULT_BUDGET


@pytest.mark.parametrize("case_dir", _category_params())
def test_the_offline_category_matches_the_extra_corpus(case_dir):
    case = _case(case_dir)
    brief = write_brief(_context(case_dir), FailedUnitInfo())
    assert brief.category == case["category"]
