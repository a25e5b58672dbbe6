"""Benchmark of the condenser: throughput and memory on a large log, quality over the corpus.

    .venv/bin/python bench/condense.py [--size-mb 256] [--noise clean|verbatim] [--keep-file]

1. Builds a log of about --size-mb MB (256 by default: the size the condenser's budgets are set
   for, see docs/condenser.md) from the real logs in testdata/ (corpus logs and Prefect
   payloads), repeated with varied ids and timestamps, with one real failure (a corpus case) in
   the middle. `--noise clean` (default) repeats the lines of those logs that the reference grep
   pattern does not match, plus their real warning lines: a long healthy run with one failure.
   `--noise verbatim` repeats the whole logs, failures included: every few hundred lines is an
   error, a worst case for any condenser.
2. Runs `condense` over it in a child process and prints MB/s and the child's peak RSS, next to
   `grep -E -i -c` with the equivalent error pattern on the same file.
3. Over the corpus: recall (cases whose context keeps every must_keep string), mean and max
   tokens, tokens out / tokens in, the same with a baseline, and offline category accuracy.
   The corpus has no successful runs, so each case's baseline is synthetic: the case's own log
   without the lines that hold a must_keep string and the 5 lines around each (what a healthy run
   of the same job would also print).

Not part of the test suite. The generated file is deleted unless --keep-file.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from failbrief.condense.brief import FailedUnitInfo  # noqa: E402
from failbrief.condense.condenser import condense, read_log_file  # noqa: E402
from failbrief.condense.offline import write_brief  # noqa: E402

CORPUS = Path(os.environ.get("FAILBRIEF_CORPUS_DIR", ROOT / "testdata" / "corpus"))
PREFECT = ROOT / "testdata" / "prefect"
FAILURE_CASE = "airbyte-zendesk-429-rate-limit-01"
GREP_PATTERN = (
    "error|exception|fail|fatal|traceback|warn|denied|refused|kill|timeout|timed out|crash|abort|"
    "exit|critical"
)
_GREP = re.compile(GREP_PATTERN, re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_HEX = re.compile(r"\b[0-9a-f]{8,}\b")
VARIANTS = 16

CHILD = """
import json, sys, time
from failbrief.condense.condenser import condense, read_log_file
started = time.perf_counter()
context = condense(read_log_file(sys.argv[1]))
elapsed = time.perf_counter() - started
must_keep = json.loads(sys.argv[2])
print(json.dumps({"elapsed": elapsed, "chars_in": context.chars_in, "lines_in": context.lines_in,
    "tokens": context.tokens, "blocks_found": context.blocks_found,
    "kept": all(m in context.text for m in must_keep)}))
"""


def main() -> None:
    args = _arguments()
    print(f"building a {args.size_mb} MB log ({args.noise} noise) ...", flush=True)
    folder = Path(tempfile.mkdtemp(prefix="failbrief-bench-"))
    path = folder / "big.log"
    try:
        must_keep = build_log(path, args.size_mb * 1_000_000, args.noise)
        _throughput(path, must_keep)
    finally:
        if not args.keep_file:
            path.unlink(missing_ok=True)
            folder.rmdir()
        else:
            print(f"kept {path}")
    _corpus_figures()


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=256)
    parser.add_argument("--noise", choices=("clean", "verbatim"), default="clean")
    parser.add_argument("--keep-file", action="store_true")
    return parser.parse_args()


def _real_lines() -> list[str]:
    rows: list[str] = []
    for log in sorted(CORPUS.glob("*/log.txt")):
        if log.parent.name != FAILURE_CASE:
            rows += log.read_text(encoding="utf-8", errors="replace").splitlines()
    for payload in sorted(PREFECT.glob("*logs*.json")):
        data = json.loads(payload.read_text(encoding="utf-8"))
        if isinstance(data, list):
            rows += [
                line
                for rec in data
                if isinstance(rec, dict)
                for line in str(rec.get("message", "")).splitlines()
            ]
    return rows


def _noise(kind: str) -> list[str]:
    rows = _real_lines()
    if kind == "verbatim":
        return rows
    return [row for row in rows if not _GREP.search(row) or "warn" in row.lower()]


def _variant(rows: list[str], rng: random.Random) -> str:
    text = "\n".join(rows) + "\n"
    text = _HEX.sub(lambda m: f"{rng.getrandbits(4 * len(m.group())):0{len(m.group())}x}", text)
    return _DIGITS.sub(lambda m: str(rng.randrange(10 ** len(m.group()))).zfill(len(m.group())), text)


def build_log(path: Path, size: int, kind: str) -> list[str]:
    """Write the big log; returns the must_keep strings of the failure placed in its middle."""
    rng = random.Random(7)
    variants = [_variant(_noise(kind), rng).encode() for _ in range(VARIANTS)]
    case = json.loads((CORPUS / FAILURE_CASE / "case.json").read_text(encoding="utf-8"))
    failure = (CORPUS / FAILURE_CASE / "log.txt").read_bytes()
    written, index, inserted = 0, 0, False
    with open(path, "wb") as out:
        while written < size:
            if not inserted and written >= size // 2:
                out.write(failure if failure.endswith(b"\n") else failure + b"\n")
                inserted = True
            chunk = variants[index % VARIANTS]
            out.write(chunk)
            written += len(chunk)
            index += 1
    return list(case["must_keep"])


def _throughput(path: Path, must_keep: list[str]) -> None:
    size = path.stat().st_size
    started = time.perf_counter()
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), json.dumps(must_keep)],
        capture_output=True, text=True, check=True, cwd=ROOT,
    )  # fmt: skip
    wall = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = json.loads(child.stdout)
    grep_s = _grep_seconds(path)
    mb = size / 1e6
    print(f"file: {mb:.0f} MB, {result['lines_in']:,} lines; failure in the middle kept: {result['kept']}")
    rate = mb / result["elapsed"]
    print(f"condense: {rate:.0f} MB/s ({result['elapsed']:.1f} s; {mb / wall:.0f} MB/s wall "
          f"with interpreter start), peak RSS {peak_mb:.0f} MB, {result['blocks_found']} blocks, "
          f"{result['tokens']} tokens out")  # fmt: skip
    print(f"grep -E -i -c (LC_ALL=C, same pattern family): {mb / grep_s:.0f} MB/s ({grep_s:.1f} s)")


def _grep_seconds(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["grep", "-E", "-i", "-c", GREP_PATTERN, str(path)], capture_output=True,
                   env={**os.environ, "LC_ALL": "C"}, check=False)  # fmt: skip
    return time.perf_counter() - started


def _cases() -> list[tuple[Path, dict[str, Any]]]:
    return [
        (case.parent, json.loads(case.read_text(encoding="utf-8")))
        for case in sorted(CORPUS.glob("*/case.json"))
    ]


def _synthetic_baseline(log: Path, must_keep: list[str]) -> list[str]:
    rows = log.read_text(encoding="utf-8", errors="replace").splitlines()
    hot = {i for i, row in enumerate(rows) if any(m in row for m in must_keep)}
    near = {j for i in hot for j in range(i - 5, i + 6)}
    return [row for i, row in enumerate(rows) if i not in near]


def _corpus_figures() -> None:
    rows = [_case_figures(folder, case) for folder, case in _cases()]
    if not rows:
        print("no corpus cases found")
        return
    for label, suffix in (("without baseline", ""), ("with synthetic baseline", "_b")):
        tokens = [r["tokens" + suffix] for r in rows]
        recall = sum(r["kept" + suffix] for r in rows)
        ratio = sum(tokens) / sum(r["tokens_in"] for r in rows)
        print(f"corpus {label}: recall {recall}/{len(rows)}, tokens mean {sum(tokens) / len(rows):.0f} "
              f"max {max(tokens)}, tokens out/in {ratio:.3f}")  # fmt: skip
    accuracy = sum(r["category_ok"] for r in rows)
    print(f"offline category accuracy: {accuracy}/{len(rows)}")
    for r in rows:
        if not (r["kept"] and r["kept_b"] and r["category_ok"]):
            print(f"  {r['id']}: kept={r['kept']} kept_with_baseline={r['kept_b']} category={r['category']}")


def _case_figures(folder: Path, case: dict[str, Any]) -> dict[str, Any]:
    log = folder / "log.txt"
    plain = condense(read_log_file(log))
    based = condense(read_log_file(log), baseline=_synthetic_baseline(log, case["must_keep"]))
    brief = write_brief(plain, FailedUnitInfo())
    return {
        "id": case["id"],
        "tokens": plain.tokens,
        "tokens_b": based.tokens,
        "tokens_in": plain.tokens_in or 1,
        "kept": all(m in plain.text for m in case["must_keep"]),
        "kept_b": all(m in based.text for m in case["must_keep"]),
        "category": brief.category,
        "category_ok": brief.category == case["category"],
    }


if __name__ == "__main__":
    main()
