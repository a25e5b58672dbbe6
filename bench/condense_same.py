"""Digests of the condenser's output, to show a speed change leaves it the same.

    .venv/bin/python bench/condense_same.py OUT.json [LOG ...]
    cmp before.json after.json

Condenses every log of testdata/corpus*/ (as is, with the synthetic baseline bench/condense.py
uses, and within 800 tokens) and every Prefect log payload of testdata/prefect/, plus the LOGs
given (such as the 64 MB logs `bench/condense.py --keep-file` leaves), with the failbrief of the
checkout this script is in, and writes the digest of each context (text, error blocks, tokens,
blocks found, lines, tokens in) to OUT.json. Run it in two checkouts and compare the files.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.condense import _synthetic_baseline  # noqa: E402
from failbrief.condense.condenser import Context, condense, read_log_file  # noqa: E402

TESTDATA = ROOT / "testdata"


def main() -> None:
    out, extra = Path(sys.argv[1]), [Path(name) for name in sys.argv[2:]]
    digests: dict[str, dict[str, Any]] = {}
    for log in sorted(TESTDATA.glob("corpus*/*/log.txt")):
        case = json.loads((log.parent / "case.json").read_text(encoding="utf-8"))
        name = _name(log)
        digests[name] = _digest(condense(read_log_file(log)))
        baseline = _synthetic_baseline(log, case.get("must_keep", []))
        digests[name + " (baseline)"] = _digest(condense(read_log_file(log), baseline=baseline))
        digests[name + " (800 tokens)"] = _digest(condense(read_log_file(log), max_tokens=800))
    for log in [*sorted(TESTDATA.glob("prefect/*logs*")), *extra]:
        digests[_name(log)] = _digest(condense(read_log_file(log)))
    out.write_text(json.dumps(digests, indent=1, sort_keys=True), encoding="utf-8")
    print(f"{len(digests)} contexts digested into {out}")


def _name(log: Path) -> str:
    """The log's path inside the checkout (the same in both), or as given."""
    return str(log.relative_to(ROOT)) if log.is_relative_to(ROOT) else str(log)


def _digest(context: Context) -> dict[str, Any]:
    return {
        "text": _sha(context.text),
        "error_blocks": _sha("\x00".join(context.error_blocks)),
        "tokens": context.tokens,
        "blocks_found": context.blocks_found,
        "lines_in": context.lines_in,
        "lines_kept": context.lines_kept,
        "tokens_in": context.tokens_in,
        "baseline_lines_dropped": context.baseline_lines_dropped,
        "failing_step": context.failing_step,
    }


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


if __name__ == "__main__":
    main()
