"""The held-out corpus stays frozen and apart from the dev parts, so its score means something."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

TESTDATA = Path(__file__).resolve().parents[3] / "testdata"
HELDOUT = TESTDATA / "heldout"
DEV_PARTS = sorted(TESTDATA.glob("corpus*"))  # every dev collection: corpus, corpus_extra, corpus_dev*


def repo_of(case_dir: Path) -> str:
    url = json.loads((case_dir / "case.json").read_text())["source_url"]
    match = re.match(r"https://github\.com/([^/]+/[^/]+)", url)
    return (match.group(1) if match else url).lower()


def cases(part: Path) -> list[Path]:
    return sorted(p.parent for p in part.glob("*/case.json"))


def test_no_held_out_file_changed_appeared_or_disappeared():
    lines = (HELDOUT / "MANIFEST.sha256").read_text().splitlines()
    manifest = {name: digest for digest, name in (line.split("  ", 1) for line in lines)}
    now = {
        f"./{path.relative_to(HELDOUT)}": hashlib.sha256(path.read_bytes()).hexdigest()
        for path in HELDOUT.rglob("*")
        if path.is_file() and path.name != "MANIFEST.sha256"
    }
    assert now == manifest


def test_no_source_repository_has_cases_on_both_sides():
    held = {repo_of(c) for c in cases(HELDOUT)}
    dev = {repo_of(c) for part in DEV_PARTS for c in cases(part)}
    assert len(cases(HELDOUT)) >= 50
    assert held & dev == set()


def test_every_must_keep_string_is_in_its_log_and_every_category_is_there():
    categories: dict[str, int] = {}
    for case_dir in [c for part in [HELDOUT, *DEV_PARTS] for c in cases(part)]:
        case = json.loads((case_dir / "case.json").read_text())
        log = (case_dir / "log.txt").read_text(encoding="utf-8")
        assert [m for m in case["must_keep"] if m not in log] == [], case_dir.name
        categories[case["category"]] = categories.get(case["category"], 0) + 1
    assert min(categories.values()) >= 8, categories
