"""Would a classifier learned from the dev corpus pick categories better than the rules? (issue 13)

    .venv/bin/python bench/learned_reference.py

The offline brief decides its category with hand-written rules (failbrief/condense/evidence.py,
classify.py). The obvious alternative is to learn the mapping from the labelled dev corpus. This
script measures that alternative the same way the rules are measured, so the choice rests on a
figure, not a taste:

- a multinomial naive Bayes over the words and 3-to-5-digit codes of what the brief reads (its root
  cause line and the condensed error blocks), binary features, Laplace smoothing 0.1;
- dev: 10-fold cross-validation grouped by source repository (a repository's cases never sit on
  both sides), against the rules on the same cases (the rules were written on dev: their dev
  figure is optimistic, their held-out figure is the honest one);
- held-out: trained on the whole dev part, scored on testdata/heldout in aggregate only, beside
  the rules on the same cases.

Pure Python, no model library: it is a reference, not a candidate for the product. Not part of
the test suite.
"""

from __future__ import annotations

import json
import math
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from failbrief.condense.brief import FailedUnitInfo  # noqa: E402
from failbrief.condense.condenser import condense, read_log_file  # noqa: E402
from failbrief.condense.offline import write_brief  # noqa: E402

TESTDATA = ROOT / "testdata"
BUDGET = 4000
FOLDS = 10
ALPHA = 0.1
BLOCK_CHARS = 3000
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{2,}|\b\d{3,5}\b")


@dataclass(frozen=True)
class Case:
    repo: str
    label: str
    rules_said: str
    words: frozenset[str]


def read_case(case_dir: Path) -> Case:
    case = json.loads((case_dir / "case.json").read_text())
    context = condense(read_log_file(case_dir / "log.txt"), max_tokens=BUDGET)
    brief = write_brief(context, FailedUnitInfo())
    text = (brief.root_cause or "") + "\n" + "\n".join(context.error_blocks)[:BLOCK_CHARS]
    return Case(
        repo=case.get("source_repo") or case["id"],
        label=case["category"],
        rules_said=brief.category or "unknown",
        words=frozenset(w.lower() for w in WORD.findall(text)),
    )


class NaiveBayes:
    """Multinomial naive Bayes on binary word features."""

    def __init__(self, cases: Sequence[Case]) -> None:
        seen = Counter(w for c in cases for w in c.words)
        self.vocabulary = {w for w, n in seen.items() if n >= 2}
        self.prior = Counter(c.label for c in cases)
        self.counts: dict[str, Counter[str]] = defaultdict(Counter)
        for c in cases:
            self.counts[c.label].update(c.words & self.vocabulary)
        self.totals = {label: sum(words.values()) for label, words in self.counts.items()}
        self.size = len(cases)

    def predict(self, words: frozenset[str]) -> str:
        known = words & self.vocabulary
        width = len(self.vocabulary)

        def log_p(label: str) -> float:
            denominator = math.log(self.totals[label] + ALPHA * width)
            counts = self.counts[label]
            fit = sum(math.log(counts[w] + ALPHA) - denominator for w in known)
            return math.log(self.prior[label] / self.size) + fit

        return max(self.prior, key=log_p)


def grouped_folds(cases: Sequence[Case]) -> list[list[int]]:
    """FOLDS folds of case indexes; a repository's cases all in one fold (largest repositories
    first, each into the smallest fold so far)."""
    by_repo: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(cases):
        by_repo[c.repo].append(i)
    folds: list[list[int]] = [[] for _ in range(FOLDS)]
    for members in sorted(by_repo.values(), key=len, reverse=True):
        min(folds, key=len).extend(members)
    return folds


def share(n: int, of: int) -> str:
    return f"{n}/{of} ({100 * n / of:.0f}%)" if of else "0/0"


def main() -> None:
    parts = sorted(TESTDATA.glob("corpus*"))
    dev = [read_case(p.parent) for d in parts for p in sorted(d.glob("*/case.json"))]
    learned_right = 0
    for fold in grouped_folds(dev):
        held = set(fold)
        model = NaiveBayes([c for i, c in enumerate(dev) if i not in held])
        learned_right += sum(model.predict(dev[i].words) == dev[i].label for i in fold)
    rules_right = sum(c.rules_said == c.label for c in dev)
    print(f"== dev: {len(dev)} cases, {len({c.repo for c in dev})} repositories, {FOLDS} grouped folds")
    print(f"category right, learned (cross-validated): {share(learned_right, len(dev))}")
    print(f"category right, rules (written on dev):    {share(rules_right, len(dev))}")

    # Aggregates only: the held-out cases are never looked at one by one.
    heldout = [read_case(p.parent) for p in sorted((TESTDATA / "heldout").glob("*/case.json"))]
    model = NaiveBayes(dev)
    learned_right = sum(model.predict(c.words) == c.label for c in heldout)
    print(f"== held-out: {len(heldout)} cases (trained on all of dev)")
    print(f"category right, learned: {share(learned_right, len(heldout))}")
    print(f"category right, rules:   {share(sum(c.rules_said == c.label for c in heldout), len(heldout))}")


if __name__ == "__main__":
    main()
