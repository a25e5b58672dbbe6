"""How good are the offline briefs on real logs we did not tune on? (issue 13)

    .venv/bin/python bench/brief_quality.py [--part dev|heldout|all] [--misses] [--by-signal] [--calibrate]

For each part, every case is condensed and summarized offline, exactly as `failbrief summarize
LOG --json` does, and scored against its labels:

- recall: the context keeps every `must_keep` string and fits the 4,000-token budget;
- root cause quoted: the brief's root cause contains one of the case's `must_keep` strings, or is
  a line of at least 20 characters that one of them contains (the cut-off line of a long log);
- category: the brief's category equals the label (judged from what fixed the failure);
- per confidence level (high / medium / low): how many briefs, and the share whose category is right.

`--misses` lists the dev cases scored wrong and `--by-signal` breaks the dev reliability down by
the rule that decided, with each specific signal's calibration record (briefs it decided with
nothing disagreeing, category right, and whether calibration.py lets it say `high`); `--calibrate`
writes those records to failbrief/condense/calibration_records.json. All three look only at the dev
part, never at the held-out cases one by one.

The reference printed beside them is the majority-class baseline (always the part's most common
category), measured on the same cases: a classifier must beat it to be worth anything.
The dev part is every testdata/corpus* directory; the held-out part is testdata/heldout, frozen and
never tuned on. Not part of the test suite.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from failbrief.condense import calibration  # noqa: E402
from failbrief.condense.brief import FailedUnitInfo  # noqa: E402
from failbrief.condense.condenser import condense, read_log_file  # noqa: E402
from failbrief.condense.offline import offline_decision, write_brief  # noqa: E402

TESTDATA = ROOT / "testdata"
PARTS = {
    "dev": sorted(TESTDATA.glob("corpus*")),
    "heldout": [TESTDATA / "heldout"],
}
TABLE = ROOT / "failbrief" / "condense" / calibration.TABLE_FILE
BUDGET = 4000
LEVELS = ("high", "medium", "low")


@dataclass(frozen=True)
class Scored:
    case_id: str
    label: str
    category: str
    confidence: str
    kept: bool
    quoted: bool
    root_cause: str
    rule: str
    signal: str | None  # the specific signal that decided with nothing disagreeing, if one did


def score(case_dir: Path) -> Scored:
    case = json.loads((case_dir / "case.json").read_text())
    context = condense(read_log_file(case_dir / "log.txt"), max_tokens=BUDGET)
    brief = write_brief(context, FailedUnitInfo())
    decision = offline_decision(context, FailedUnitInfo())
    must_keep: list[str] = case["must_keep"]
    root = " ".join((brief.root_cause or "").split())
    quoted = any(
        " ".join(m.split()) in root or (len(root) >= 20 and root in " ".join(m.split())) for m in must_keep
    )
    return Scored(
        case_id=case["id"],
        label=case["category"],
        category=brief.category or "unknown",
        confidence=brief.confidence or "low",
        kept=all(m in context.text for m in must_keep) and context.tokens <= BUDGET,
        quoted=quoted,
        root_cause=root,
        rule=f"{decision.rule} ({decision.confidence})",
        signal=decision.rule if decision.eligible else None,
    )


def records(scored: list[Scored]) -> dict[str, calibration.Record]:
    """The calibration records of the specific signals, from scored dev cases."""
    return calibration.measure((s.signal, s.category == s.label) for s in scored if s.signal is not None)


def share(n: int, of: int) -> str:
    return f"{n}/{of} ({100 * n / of:.0f}%)" if of else "0/0"


def report(name: str, scored: list[Scored], misses: bool, by_signal: bool = False) -> None:
    total = len(scored)
    majority, majority_n = Counter(s.label for s in scored).most_common(1)[0]
    print(f"\n== {name}: {total} cases")
    print(f"recall (every must_keep, <= {BUDGET} tokens): {share(sum(s.kept for s in scored), total)}")
    print(f"root cause quoted:                       {share(sum(s.quoted for s in scored), total)}")
    right = sum(s.category == s.label for s in scored)
    print(f"category right:                          {share(right, total)}"
          f"   reference, always {majority!r}: {share(majority_n, total)}")  # fmt: skip
    print("reliability (confidence: briefs, category right):")
    for level in LEVELS:
        at = [s for s in scored if s.confidence == level]
        print(f"  {level:<7} {len(at):>4}  {share(sum(s.category == s.label for s in at), len(at))}")
    if by_signal:
        print("by deciding rule (briefs, category right):")
        for rule, n in sorted(Counter(s.rule for s in scored).items()):
            print(f"  {rule:<48} {share(sum(s.category == s.label for s in scored if s.rule == rule), n)}")
        print("calibration of the specific signals (decided alone: briefs, category right, may say high):")
        for name, record in records(scored).items():
            granted = "high" if calibration.grants_high(name, record) else "medium"
            print(f"  {name:<32} {share(record.right, record.cases):<14} {granted}")
    if misses:
        for s in scored:
            if s.category != s.label or not s.quoted or not s.kept:
                flags = ("" if s.kept else " NOT KEPT") + ("" if s.quoted else " not quoted")
                said = f"{s.category}/{s.confidence} (label {s.label}){flags}"
                print(f"  - {s.case_id}: {said}: {s.root_cause[:90]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--part", choices=["dev", "heldout", "all"], default="all")
    parser.add_argument("--misses", action="store_true", help="list each dev case scored wrong")
    parser.add_argument("--by-signal", action="store_true", help="dev reliability per deciding rule")
    parser.add_argument("--calibrate", action="store_true", help=f"write {TABLE.name} from the dev part")
    args = parser.parse_args()
    if args.calibrate:
        TABLE.write_text(calibration.table_json(records([score(c) for c in cases_of("dev")])))
        print(f"wrote {TABLE.relative_to(ROOT)}; re-run to see the figures with it")
        return
    for name in PARTS:
        if args.part in (name, "all"):
            # The held-out part is only ever seen in aggregate: tuning rules on its cases would
            # make its score meaningless.
            dev = name == "dev"
            report(name, [score(c) for c in cases_of(name)], args.misses and dev, args.by_signal and dev)


def cases_of(part: str) -> list[Path]:
    return sorted(p.parent for d in PARTS[part] for p in d.glob("*/case.json"))


if __name__ == "__main__":
    main()
