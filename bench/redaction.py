"""Benchmark of secret redaction: throughput, leaks and lost evidence.

    .venv/bin/python bench/redaction.py [--size-mb 20] [--every 2000]

1. Start-up: the first `redact` call loads detect-secrets' plugins; its time is printed.
2. Throughput on the log corpus (every line of testdata/corpus and testdata/corpus_extra) and on
   a big synthetic log built as bench/condense.py builds it (real lines repeated with varied ids,
   `clean` noise), with one secret-corpus line seeded every --every lines. `redact` is timed per
   line (how the condenser calls it, on every kept line) and per 64 KiB chunk of whole lines (how
   it is called on a block or the LLM message). Next to it, in the same run, two references over
   the same text: one hand-written keyword regex substituted per line (what a single-pattern
   redactor costs) and `grep -E -i -c` with that pattern on the same file.
3. Leaks: secret-corpus kinds whose secret survives (any 8 characters of it in a row), the same
   for the secrets seeded into the big log, near misses altered, and log-corpus must_keep strings
   lost to redaction or to redaction + condensing; and the mean time `condense` takes a case.

Not part of the test suite. The generated file is deleted.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.condense import build_log  # noqa: E402
from failbrief.condense.condenser import condense, read_log_file  # noqa: E402

SECRETS = json.loads((ROOT / "testdata" / "secrets" / "secrets.json").read_text(encoding="utf-8"))
LOG_CASES = sorted(
    p.parent for c in ("corpus", "corpus_extra") for p in (ROOT / "testdata" / c).glob("*/case.json")
)
REFERENCE_PATTERN = (
    r"(password|passwd|secret|token|api_?key|access_?key)[\"']?[ \t]*[:=][ \t]*[\"']?[^ \t\"',;&]+"
)
_REFERENCE = re.compile(REFERENCE_PATTERN, re.IGNORECASE)
CHUNK = 64 * 1024


def main() -> None:
    args = _arguments()
    started = time.perf_counter()
    from failbrief.condense.redact import redact

    redact("warm-up: load the rules")
    elapsed = time.perf_counter() - started
    print(f"first redact call (imports detect-secrets, compiles the rules): {elapsed:.2f} s")
    corpus_lines = [
        line
        for case in LOG_CASES
        for line in (case / "log.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    ]
    _throughput("log corpus", corpus_lines, redact, None)
    folder = Path(tempfile.mkdtemp(prefix="failbrief-bench-"))
    path = folder / "big.log"
    try:
        seeded = _big_log(path, args.size_mb * 1_000_000, args.every)
        lines = path.read_text(encoding="utf-8").splitlines()
        _throughput(f"synthetic log ({args.size_mb} MB)", lines, redact, path)
        _seeded_leaks(lines, seeded, redact)
    finally:
        path.unlink(missing_ok=True)
        folder.rmdir()
    _corpus_leaks(redact)


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=20)
    parser.add_argument("--every", type=int, default=2000, help="seed a secret line every N lines")
    return parser.parse_args()


def _big_log(path: Path, size: int, every: int) -> list[list[str]]:
    """The big log with a secret-corpus line after every `every` lines; returns the seeded secrets."""
    build_log(path, size, "clean")
    lines = path.read_text(encoding="utf-8").splitlines()
    kinds = SECRETS["secrets"]
    out: list[str] = []
    seeded: list[list[str]] = []
    for index, line in enumerate(lines, 1):
        out.append(line)
        if index % every == 0:
            kind = kinds[len(seeded) % len(kinds)]
            out.append(kind["line"])
            seeded.append(kind["secrets"])
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return seeded


def _throughput(label: str, lines: list[str], redact: Callable[[str], str], path: Path | None) -> None:
    mb = sum(len(line) + 1 for line in lines) / 1e6
    chunks = _chunks(lines)
    per_line = _seconds(lambda: [redact(line) for line in lines])
    per_chunk = _seconds(lambda: [redact(chunk) for chunk in chunks])
    reference = _seconds(lambda: [_REFERENCE.sub("[REDACTED]", line) for line in lines])
    print(f"{label}: {len(lines):,} lines, {mb:.1f} MB")
    print(f"  redact per line: {len(lines) / per_line:>10,.0f} lines/s {mb / per_line:7.1f} MB/s")
    print(f"  redact per 64 KiB chunk: {len(lines) / per_chunk:>10,.0f} lines/s {mb / per_chunk:7.1f} MB/s")
    rate = f"{len(lines) / reference:,.0f} lines/s {mb / reference:.1f} MB/s"
    print(f"  reference, one keyword regex per line: {rate}")
    if path is not None:
        grep = _seconds(
            lambda: subprocess.run(
                ["grep", "-E", "-i", "-c", REFERENCE_PATTERN, str(path)],
                capture_output=True, env={**os.environ, "LC_ALL": "C"}, check=False,
            )
        )  # fmt: skip
        print(f"  reference, grep -E -i -c (LC_ALL=C) with that regex: {mb / grep:.0f} MB/s")


def _chunks(lines: list[str]) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        current.append(line)
        size += len(line) + 1
        if size >= CHUNK:
            chunks.append("\n".join(current))
            current, size = [], 0
    if current:
        chunks.append("\n".join(current))
    return chunks


def _seconds(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def _leaked(secret: str, text: str) -> bool:
    width = min(len(secret), 8)
    return any(secret[i : i + width] in text for i in range(len(secret) - width + 1))


def _seeded_leaks(lines: list[str], seeded: list[list[str]], redact: Callable[[str], str]) -> None:
    text = "\n".join(redact(chunk) for chunk in _chunks(lines))
    leaks = sum(any(_leaked(secret, text) for secret in secrets) for secrets in seeded)
    print(f"  seeded secret lines: {len(seeded)}, leaked after redaction: {leaks}")


def _corpus_leaks(redact: Callable[[str], str]) -> None:
    kinds = SECRETS["secrets"]
    leaked = [k["kind"] for k in kinds if any(_leaked(s, redact(k["line"])) for s in k["secrets"])]
    kept = [k["kind"] for k in kinds if any(keep not in redact(k["line"]) for keep in k["keep"])]
    altered = [line for line in SECRETS["near_misses"] if redact(line) != line]
    print(f"secret corpus: {len(kinds)} kinds, {len(leaked)} leaked {leaked or ''}")
    print(f"  key names / users / hosts lost: {len(kept)} {kept or ''}")
    print(f"  near misses altered: {len(altered)} of {len(SECRETS['near_misses'])}")
    lost_line = lost_context = total = 0
    condensing = 0.0
    for case in LOG_CASES:
        must_keep = json.loads((case / "case.json").read_text(encoding="utf-8"))["must_keep"]
        log = (case / "log.txt").read_text(encoding="utf-8", errors="replace").splitlines()
        started = time.perf_counter()
        context = condense(read_log_file(case / "log.txt")).text
        condensing += time.perf_counter() - started
        for keep in must_keep:
            total += 1
            lost_line += not any(keep in redact(line) for line in log if keep in line)
            lost_context += keep not in context
    print(f"log corpora ({len(LOG_CASES)} cases): must_keep strings {total}, lost to redaction {lost_line}, "
          f"missing from the condensed context {lost_context}")  # fmt: skip
    print(f"  condense (which redacts every kept line): {condensing / len(LOG_CASES) * 1000:.1f} ms a case")


if __name__ == "__main__":
    main()
