"""The secret corpus (testdata/secrets/secrets.json): every kind of secret seeded into a realistic
log line is gone after redaction, the names, users and hosts around it stay, ordinary log lines
that only look like secrets are untouched, and no must-keep line of either log corpus is lost."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from failbrief.condense.condenser import condense, read_log_file
from failbrief.condense.redact import REDACTED, redact
from failbrief.condense.tests.conftest import REPO

SECRETS = json.loads((REPO / "testdata" / "secrets" / "secrets.json").read_text(encoding="utf-8"))
KINDS: list[dict[str, Any]] = SECRETS["secrets"]
NEAR_MISSES: list[str] = SECRETS["near_misses"]
LOG_CASES = sorted(
    path.parent
    for corpus in ("corpus", "corpus_extra")
    for path in (REPO / "testdata" / corpus).glob("*/case.json")
)


def leaked(secret: str, text: str) -> bool:
    """Any 8 characters of the secret in a row (all of it when shorter): a partial redaction that
    leaves a password's tail behind counts as a leak."""
    width = min(len(secret), 8)
    return any(secret[i : i + width] in text for i in range(len(secret) - width + 1))


def test_the_corpus_has_at_least_60_kinds_each_secret_in_its_line():
    assert len({kind["kind"] for kind in KINDS}) == len(KINDS) >= 60
    for kind in KINDS:
        assert kind["secrets"], kind["kind"]
        assert all(secret in kind["line"] for secret in kind["secrets"] + kind["keep"]), kind["kind"]
    assert len(NEAR_MISSES) >= 30


@pytest.mark.parametrize("kind", KINDS, ids=[kind["kind"] for kind in KINDS])
def test_no_secret_of_this_kind_survives_redaction(kind):
    out = redact(kind["line"])
    assert [s for s in kind["secrets"] if leaked(s, out)] == []
    assert REDACTED in out


def test_the_whole_corpus_leaks_nothing():
    leaks = [kind["kind"] for kind in KINDS if any(leaked(s, redact(kind["line"])) for s in kind["secrets"])]
    assert leaks == []


@pytest.mark.parametrize("kind", [k for k in KINDS if k["keep"]], ids=lambda k: k["kind"])
def test_the_key_name_user_and_host_around_the_secret_stay(kind):
    out = redact(kind["line"])
    assert [keep for keep in kind["keep"] if keep not in out] == []


def test_redaction_is_idempotent_on_the_corpus():
    for line in [kind["line"] for kind in KINDS] + NEAR_MISSES:
        once = redact(line)
        assert redact(once) == once


@pytest.mark.parametrize("line", NEAR_MISSES)
def test_a_line_that_only_looks_like_a_secret_is_untouched(line):
    assert redact(line) == line


@pytest.mark.parametrize("case_dir", LOG_CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_must_keep_string_of_the_log_corpora_is_lost_to_redaction(case_dir: Path):
    must_keep = json.loads((case_dir / "case.json").read_text())["must_keep"]
    log = (case_dir / "log.txt").read_text(encoding="utf-8", errors="replace")
    holding = [line for line in log.splitlines() if any(m in line for m in must_keep)]
    assert [m for m in must_keep if not any(m in redact(line) for line in holding)] == []
    context = condense(read_log_file(case_dir / "log.txt"))
    assert [m for m in must_keep if m not in context.text] == []


@pytest.mark.parametrize("case_dir", LOG_CASES[::4], ids=lambda p: f"{p.parent.name}/{p.name}")
def test_secrets_seeded_into_a_failing_log_never_reach_its_context(case_dir: Path, tmp_path):
    lines = (case_dir / "log.txt").read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
    seeded = "".join(f"ERROR {kind['line']}\n" for kind in KINDS)
    polluted = tmp_path / "log.txt"
    polluted.write_text("".join(lines[: len(lines) // 2]) + seeded + "".join(lines[len(lines) // 2 :]))
    context = condense(read_log_file(polluted), max_tokens=60_000)
    assert REDACTED in context.text
    leaks = [kind["kind"] for kind in KINDS if any(leaked(s, context.text) for s in kind["secrets"])]
    assert leaks == []
