"""The condenser: a failed run's logs in, a bounded, redacted context out. Pure: no Django.

`condense` streams its input once (memory stays bounded whatever the log size), finds error blocks
and scored lines (scanner.py), and assembles them within an exact token budget (render.py). The
CLI, the Celery task and the benchmark all call this same function. See docs/condenser.md.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from failbrief.condense.readers import (
    read_log_file,
    read_log_stream,
    records_from_lines,
    records_from_prefect,
)
from failbrief.condense.records import LogRecord
from failbrief.condense.render import render
from failbrief.condense.scanner import Scanner, ScanState
from failbrief.condense.templates import template_set

__all__ = [
    "Context",
    "condense",
    "read_log_file",
    "read_log_stream",
    "records_from_lines",
    "records_from_prefect",
]

DEFAULT_MAX_TOKENS = 4000
TOKENS_IN_METHOD_EXACT = "exact (o200k_base over the whole input)"
TOKENS_IN_METHOD_ESTIMATE = "estimate (o200k_base over the first 256 KiB, scaled by characters)"


@dataclass
class Context:
    """The condensed context of one failed unit, plus statistics about how it was made.

    `text` holds at most `max_tokens` o200k_base tokens and is already redacted. `error_blocks`
    are the verbatim (redacted) blocks shown in `text`, most important first. `tokens_in` is exact
    when `tokens_in_method` says so, otherwise scaled from the first 256 KiB of the input.
    """

    text: str
    tokens: int
    max_tokens: int
    lines_in: int
    lines_kept: int
    chars_in: int
    tokens_in: int | None
    tokens_in_method: str
    error_blocks: list[str] = field(default_factory=list)
    last_lines: list[str] = field(default_factory=list)
    failing_step: str | None = None
    blocks_found: int = 0
    baseline_lines_dropped: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    first_timestamp: str | None = None
    last_timestamp: str | None = None
    elapsed_seconds: float = 0.0

    def stats(self) -> dict[str, Any]:
        """Everything but the text and blocks, for printing next to the context."""
        data = asdict(self)
        for key in ("text", "error_blocks", "last_lines"):
            data.pop(key)
        return data


def condense(
    records: Iterable[LogRecord | str],
    max_tokens: int = DEFAULT_MAX_TOKENS,
    *,
    baseline: Iterable[LogRecord | str] | None = None,
    header: str = "",
) -> Context:
    """Condense `records` into a Context of at most `max_tokens` tokens.

    `records` are LogRecords (Prefect, Airbyte, or chunks of a file) or raw lines of a file.
    `baseline` holds log lines of recent successful runs of the same unit: lines whose template
    also occurs there are normal noise and are dropped first. `header` is the "what failed"
    preamble (flow, task, state message); it goes first.
    """
    started = time.perf_counter()
    known_noise = _baseline_templates(baseline)
    scanner = Scanner(known_noise)
    for record in _as_records(records):
        scanner.feed(record.message, level=record.level, source=record.source, timestamp=record.timestamp)
    scanner.finish()
    rendered = render(scanner.state, header, max_tokens, known_noise)
    return _context(scanner.state, rendered, max_tokens, time.perf_counter() - started)


def _context(state: ScanState, rendered: Any, max_tokens: int, elapsed: float) -> Context:
    tokens_in, method = _tokens_in(state)
    return Context(
        text=rendered.text,
        tokens=rendered.tokens,
        max_tokens=max_tokens,
        lines_in=state.lines_in,
        lines_kept=rendered.lines_kept,
        chars_in=state.chars_in,
        tokens_in=tokens_in,
        tokens_in_method=method,
        error_blocks=rendered.error_blocks,
        last_lines=rendered.last_lines,
        failing_step=rendered.failing_step,
        blocks_found=state.blocks.total,
        baseline_lines_dropped=state.baseline_dropped,
        sources=dict(state.sources),
        first_timestamp=state.first_timestamp,
        last_timestamp=state.last_timestamp,
        elapsed_seconds=round(elapsed, 6),
    )


def _tokens_in(state: ScanState) -> tuple[int | None, str]:
    if state.exact_chars >= state.chars_in:
        return state.exact_tokens, TOKENS_IN_METHOD_EXACT
    if not state.exact_chars:
        return None, TOKENS_IN_METHOD_ESTIMATE
    return round(state.exact_tokens * state.chars_in / state.exact_chars), TOKENS_IN_METHOD_ESTIMATE


def _as_records(items: Iterable[LogRecord | str]) -> Iterator[LogRecord]:
    """Records as given; runs of raw lines grouped into file chunks."""
    lines: list[str] = []
    for item in items:
        if isinstance(item, str):
            lines.append(item)
            if len(lines) >= 4096:
                yield from records_from_lines(lines)
                lines = []
            continue
        if lines:
            yield from records_from_lines(lines)
            lines = []
        yield item
    if lines:
        yield from records_from_lines(lines)


def _baseline_templates(baseline: Iterable[LogRecord | str] | None) -> set[str]:
    if baseline is None:
        return set()
    return template_set(_baseline_lines(baseline))


def _baseline_lines(baseline: Iterable[LogRecord | str]) -> Iterator[str]:
    for record in _as_records(baseline):
        yield from record.message.split("\n")
