"""Which signals may say "confidence: high": measured on the dev corpus, not chosen by hand. Pure: no Django.

A specific signal (evidence.SIGNALS) that decided a brief *may* be right with near certainty; whether
it *is* is a measurement. For every signal, `calibration_records.json` holds how many dev briefs
it decided with nothing disagreeing (`cases`) and how many of those had the right category
(`right`). `bench/brief_quality.py --calibrate` writes that table from the dev part
(testdata/corpus*), and a test recomputes it, so it cannot drift from the rules.

The rule (`grants_high`): a signal may say `high` when

- its dev precision is at least MIN_PRECISION on at least MIN_SUPPORT cases, or
- it is certain by definition (CERTAIN_BY_DEFINITION: a code that exists for one kind of failure
  only, such as HTTP 429 or SQLSTATE 28P01) and no dev case contradicts it.

Every other signal decides the category with `medium` confidence and a hedged fix, however
specific it looks, until the dev data backs it. The held-out part is never used here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import resources

TABLE_FILE = "calibration_records.json"

MIN_PRECISION = 0.95
MIN_SUPPORT = 3

# Codes a system emits for one kind of failure only: the category follows from the code itself.
CERTAIN_BY_DEFINITION: frozenset[str] = frozenset(
    {
        "dbt-test-failed",  # "Got N results, configured to fail": the data violates the test
        "data-check-failed",  # Soda's "N/M checks FAILED": the data violates the check
        "oom-kill",  # OOMKilled, exit 137, SIGKILL: the kernel or orchestrator killed it for memory
        "out-of-memory",  # MemoryError, Java heap space, SQLSTATE 53200
        "statement-timeout",  # SQLSTATE 57014 statement timeout, execution_timeout
        "http-429",  # Too Many Requests
        "quota-or-rate-limit",  # rateLimitExceeded, quotaExceeded, RESOURCE_EXHAUSTED, throttling
        "login-rejected",  # SQLSTATE 28P01, "password authentication failed", Snowflake 390100
        "oauth-invalid-grant",  # OAuth invalid_grant: the refresh token or key was refused
    }
)


@dataclass(frozen=True)
class Record:
    """How one signal did on the dev part: briefs it decided alone, and how many were right."""

    cases: int
    right: int

    @property
    def precision(self) -> float:
        return self.right / self.cases if self.cases else 0.0


def grants_high(name: str, record: Record | None) -> bool:
    """May a brief decided by signal `name`, with this dev record, say `high`?"""
    if record is None or record.cases == 0:
        return False
    if name in CERTAIN_BY_DEFINITION:
        return record.right == record.cases
    return record.cases >= MIN_SUPPORT and record.precision >= MIN_PRECISION


def measure(outcomes: Iterable[tuple[str, bool]]) -> dict[str, Record]:
    """Per signal name, the dev record from (signal that decided, category right) pairs."""
    counts: dict[str, list[int]] = {}
    for name, right in outcomes:
        seen = counts.setdefault(name, [0, 0])
        seen[0] += 1
        seen[1] += int(right)
    return {name: Record(cases, right) for name, (cases, right) in sorted(counts.items())}


def table_json(records: Mapping[str, Record]) -> str:
    """calibration_records.json as `bench/brief_quality.py --calibrate` writes it: per signal,
    [dev briefs it decided with nothing disagreeing, of which category right]."""
    rows = [f"  {json.dumps(name)}: [{r.cases}, {r.right}]" for name, r in sorted(records.items())]
    return "{\n" + ",\n".join(rows) + "\n}\n"  # one signal a line: a regenerated table diffs well


def load_records(text: str) -> dict[str, Record]:
    return {str(name): Record(int(cases), int(right)) for name, (cases, right) in json.loads(text).items()}


# A data file, not code: the bench regenerates it and a test recomputes it from the dev corpus.
RECORDS: dict[str, Record] = load_records((resources.files("failbrief.condense") / TABLE_FILE).read_text())
HIGH_SIGNALS: frozenset[str] = frozenset(
    name for name, record in RECORDS.items() if grants_high(name, record)
)


def may_say_high(signal_name: str) -> bool:
    """The committed calibration's answer for one signal."""
    return signal_name in HIGH_SIGNALS
