"""Tokens sent to the LLM per summary, and LLM calls saved by failure signatures.

    .venv/bin/python bench/llm_tokens.py [--size-mb 1.5] [--seed 7]

1. Over the corpus (testdata/corpus, or FAILBRIEF_CORPUS_DIR): the tokens of one request with the
   condensed context (the system prompt + what llm_common.user_message sends) against sending the
   whole log (Dalgo's approach: the same system prompt + every log line) and the last 200 lines.
2. Logs over 1 MB: the corpus logs are small (the largest is about 100 KB), so each case's real log
   is embedded in the middle of --size-mb of real noise, built as bench/condense.py builds its
   "clean" noise: the lines of every *other* corpus log and of the captured Prefect logs that do not
   match the grep error pattern (plus their warnings), repeated with varied ids and numbers. The
   condensed request must keep every must_keep string and be at most 1/20 of the whole log.
3. A corpus replay with repeats: each case fails 1 to 4 times (seeded), each recurrence with other
   timestamps, ids and durations, in shuffled order, all within the signature window. A summary
   whose signature was seen before reuses it; the share of LLM calls saved is printed, with any
   signature shared by two different cases (a wrong reuse) or a case split over several signatures.

Counts are o200k_base tokens (failbrief/condense/tokens.py), exact. No network, no database.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "failbrief.settings")

import django  # noqa: E402

django.setup()

from failbrief.condense.brief import FailedUnitInfo  # noqa: E402
from failbrief.condense.condenser import Context, condense, read_log_file  # noqa: E402
from failbrief.condense.offline import write_brief  # noqa: E402
from failbrief.condense.tokens import count_tokens  # noqa: E402
from failbrief.summarize.providers.llm_common import system_prompt, user_message  # noqa: E402
from failbrief.summarize.signature import failure_signature  # noqa: E402

CORPUS = Path(os.environ.get("FAILBRIEF_CORPUS_DIR", ROOT / "testdata" / "corpus"))
PREFECT = ROOT / "testdata" / "prefect"
GREP = re.compile(  # bench/condense.py's reference error pattern
    "error|exception|fail|fatal|traceback|warn|denied|refused|kill|timeout|timed out|crash|abort|"
    "exit|critical",
    re.IGNORECASE,
)
_DIGITS = re.compile(r"\d+")
_HEX = re.compile(r"\b[0-9a-f]{8,}\b")
_TIME = re.compile(r"\b\d{2}:\d{2}:\d{2}\b")
_DATE = re.compile(r"\b20\d{2}-\d{2}-\d{2}\b")
_DURATION = re.compile(r"\b\d+\.\d+(?=\s?s\b|\s?seconds\b)")
UNIT = FailedUnitInfo(flow_run_name="nightly", task_name="failed-task", state_name="Failed")
LAST_LINES = 200
GOAL = 1 / 20


@dataclass
class Case:
    id: str
    log: Path
    must_keep: list[str]

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=float, default=1.5)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    cases = _cases()
    if not cases:
        print(f"no corpus cases under {CORPUS}")
        return
    prompt_tokens = count_tokens(system_prompt())
    print(f"corpus: {CORPUS} ({len(cases)} cases); system prompt: {prompt_tokens} tokens\n")
    _corpus_tokens(cases, prompt_tokens)
    _big_log_tokens(cases, prompt_tokens, int(args.size_mb * 1_000_000), random.Random(args.seed))
    _replay(cases, random.Random(args.seed))


def _cases() -> list[Case]:
    found = []
    for path in sorted(CORPUS.glob("*/case.json")):
        case = json.loads(path.read_text(encoding="utf-8"))
        found.append(Case(case["id"], path.parent / "log.txt", list(case["must_keep"])))
    return found


def _request_tokens(context: Context, prompt_tokens: int) -> int:
    return prompt_tokens + count_tokens(user_message(context, UNIT))


def _corpus_tokens(cases: list[Case], prompt_tokens: int) -> None:
    print("1. corpus logs as they are (tokens per request, system prompt included)")
    print(f"   {'case':<48} {'whole':>7} {'last200':>7} {'ours':>6} {'ours/whole':>10} kept")
    totals = {"whole": 0, "last": 0, "ours": 0}
    for case in cases:
        text = case.text()
        context = condense(read_log_file(case.log))
        row = {
            "whole": prompt_tokens + count_tokens(text),
            "last": prompt_tokens + count_tokens("\n".join(text.splitlines()[-LAST_LINES:])),
            "ours": _request_tokens(context, prompt_tokens),
        }
        totals = {k: totals[k] + row[k] for k in totals}
        kept = all(m in context.text for m in case.must_keep)
        print(f"   {case.id:<48} {row['whole']:>7} {row['last']:>7} {row['ours']:>6} "
              f"{row['ours'] / row['whole']:>10.3f} {kept}")  # fmt: skip
    print(f"   total: ours/whole {totals['ours'] / totals['whole']:.3f}, "
          f"ours/last-200-lines {totals['ours'] / totals['last']:.3f}\n")  # fmt: skip


def _noise_lines(excluded: Case) -> list[str]:
    rows: list[str] = []
    for log in sorted(CORPUS.glob("*/log.txt")):
        if log != excluded.log:
            rows += log.read_text(encoding="utf-8", errors="replace").splitlines()
    for payload in sorted(PREFECT.glob("*logs*.json")):
        data = json.loads(payload.read_text(encoding="utf-8"))
        records = data if isinstance(data, list) else []
        rows += [
            line for r in records if isinstance(r, dict) for line in str(r.get("message", "")).splitlines()
        ]
    # Indented lines are continuations (traceback frames, JSON bodies): without the error line that
    # heads them they are not real noise, and an orphan traceback tail would swallow the next block.
    return [row for row in rows if (not GREP.search(row) or "warn" in row.lower()) and not row[:1].isspace()]


def _variant(text: str, rng: random.Random) -> str:
    text = _HEX.sub(lambda m: f"{rng.getrandbits(4 * len(m.group())):0{len(m.group())}x}", text)
    return _DIGITS.sub(lambda m: str(rng.randrange(10 ** len(m.group()))).zfill(len(m.group())), text)


def _big_log(case: Case, size: int, rng: random.Random) -> str:
    noise = "\n".join(_noise_lines(case)) + "\n"
    variants = [_variant(noise, rng) for _ in range(4)]
    half: list[str] = []
    while sum(map(len, half)) < size // 2:
        half.append(variants[len(half) % len(variants)])
    return "".join(half) + case.text().rstrip("\n") + "\n" + "".join(reversed(half))


def _big_log_tokens(cases: list[Case], prompt_tokens: int, size: int, rng: random.Random) -> None:
    print(f"2. each case's real log in the middle of at least {size / 1e6:.1f} MB of real, error-free noise")
    print(f"   {'case':<48} {'MB':>5} {'whole':>8} {'ours':>6} {'ratio':>7} kept")
    ratios, missed = [], []
    for case in cases:
        text = _big_log(case, size, rng)
        context = condense(text.splitlines())
        whole = prompt_tokens + count_tokens(text)
        ours = _request_tokens(context, prompt_tokens)
        lost = [m for m in case.must_keep if m not in context.text]
        ratios.append(ours / whole)
        missed += [f"{case.id}: {m!r}" for m in lost]
        print(
            f"   {case.id:<48} {len(text) / 1e6:>5.2f} {whole:>8} {ours:>6} 1/{whole / ours:<5.0f} {not lost}"
        )
    within = sum(ratio <= GOAL for ratio in ratios)
    print(f"   worst ratio 1/{1 / max(ratios):.0f}, median 1/{1 / statistics.median(ratios):.0f}; "
          f"at most 1/{1 / GOAL:.0f} in {within}/{len(ratios)} cases; every must_keep kept in "
          f"{len(cases) - len({m.split(':')[0] for m in missed})}/{len(cases)} cases")  # fmt: skip
    for miss in missed:
        print(f"   must_keep lost: {miss}")
    print()


def _recurrence(text: str, rng: random.Random) -> str:
    """The same failure on another night: other timestamps, run ids and durations."""
    text = _DATE.sub(lambda m: f"2025-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}", text)
    text = _TIME.sub(
        lambda m: f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}", text
    )
    text = _HEX.sub(lambda m: f"{rng.getrandbits(4 * len(m.group())):0{len(m.group())}x}", text)
    return _DURATION.sub(lambda m: f"{rng.uniform(0.1, 900):.2f}", text)


def _clock(rng: random.Random) -> str:
    return f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}"


def _replay(cases: list[Case], rng: random.Random) -> None:
    occurrences = [(case, n) for case in cases for n in range(1 + rng.randrange(4))]
    rng.shuffle(occurrences)
    seen: dict[str, str] = {}  # signature -> the case whose LLM summary it is
    signatures: dict[str, set[str]] = defaultdict(set)
    calls, wrong = 0, 0
    for case, n in occurrences:
        text = case.text() if n == 0 else _recurrence(case.text(), rng)
        signature = failure_signature(write_brief(condense(text.splitlines()), UNIT))
        signatures[case.id].add(signature)
        if not signature or signature not in seen:
            calls += 1
            seen.setdefault(signature, case.id) if signature else None
        elif seen[signature] != case.id:
            wrong += 1
    _print_replay(len(occurrences), len(cases), calls, wrong, signatures)


def _print_replay(total: int, distinct: int, calls: int, wrong: int, signatures: dict[str, Any]) -> None:
    split = [case for case, found in signatures.items() if len(found) > 1]
    unsigned = [case for case, found in signatures.items() if "" in found]
    print(f"3. replay of the corpus with repeats: {total} failures of {distinct} distinct cases")
    print(f"   LLM calls {calls} of {total}: {1 - calls / total:.0%} saved "
          f"(the most possible: {1 - distinct / total:.0%})")  # fmt: skip
    print(f"   wrong reuses (another case's summary): {wrong}; cases split over signatures: "
          f"{split or 'none'}; cases without a signature (always called): {unsigned or 'none'}")  # fmt: skip


if __name__ == "__main__":
    main()
