"""The collected dev corpus (testdata/corpus_dev*): recall within the budget, and the
brief quality the dev parts reach stays where it is (bench/brief_quality.py prints the same figures)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from failbrief.condense.brief import FailedUnitInfo
from failbrief.condense.condenser import condense, read_log_file
from failbrief.condense.offline import write_brief
from failbrief.condense.tests.conftest import REPO

TESTDATA = REPO / "testdata"
CASES = sorted(p.parent for p in TESTDATA.glob("corpus_dev*/*/case.json"))
DEV = sorted(p.parent for p in TESTDATA.glob("corpus*/*/case.json"))


def _case(case_dir: Path) -> dict[str, object]:
    case: dict[str, object] = json.loads((case_dir / "case.json").read_text())
    return case


@pytest.mark.parametrize("case_dir", CASES, ids=lambda p: p.name)
def test_it_keeps_every_must_keep_string_of_the_dev_corpus_within_the_default_budget(case_dir):
    must_keep = _case(case_dir)["must_keep"]
    assert isinstance(must_keep, list)
    context = condense(read_log_file(case_dir / "log.txt"))
    assert [m for m in must_keep if m not in context.text] == []
    assert context.tokens <= 4000


def test_the_dev_briefs_keep_their_category_accuracy_and_high_confidence_stays_reliable():
    right = high = high_right = 0
    for case_dir in DEV:
        brief = write_brief(condense(read_log_file(case_dir / "log.txt")), FailedUnitInfo())
        correct = brief.category == _case(case_dir)["category"]
        right += correct
        if brief.confidence == "high":
            high += 1
            high_right += correct
    assert len(DEV) >= 130
    # A regression floor, not a goal: 326/439 now (74%). Each new collection is labelled from its
    # fixes before any rule sees it and comes in near half right, so the share falls as the part
    # grows while no case that was right turns wrong (bench/brief_quality.py --misses shows them);
    # a blind reader of the logs alone agrees with 77% of the labels of the first 189 cases.
    assert right / len(DEV) >= 0.72
    assert high_right / high >= 0.95  # 59/59 now
