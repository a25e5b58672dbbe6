"""Assemble the condensed context within an exact token budget. Pure: no Django.

Sections, in order and in priority: what failed; error blocks (most important first, verbatim);
repeated lines (template and count); the last lines before the failure and of the log; the rest by
score. Every piece is redacted, then counted with the same o200k_base counter that checks the
final text, so the result never exceeds `max_tokens`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from failbrief.condense import lines as ln
from failbrief.condense.blocks import Block
from failbrief.condense.redact import redact
from failbrief.condense.scanner import HEAD_LINES, PoolEntry, ScanState
from failbrief.condense.scoring import is_generic
from failbrief.condense.steps import find_failing_step
from failbrief.condense.templates import template
from failbrief.condense.tokens import count_tokens

REPEAT_MIN = 3
MAX_REPEATED = 12
_TIMESTAMP = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?|\d{2}:\d{2}:\d{2}"
)


@dataclass
class Piece:
    """One unit of output: a section heading, a block, or a line, with its token count."""

    text: str
    tokens: int
    log_lines: int = 0


@dataclass
class Budget:
    """Pieces added in priority order, never past the limit."""

    limit: int
    pieces: list[Piece] = field(default_factory=list)
    used: int = 0

    def room(self) -> int:
        return self.limit - self.used

    def add(self, text: str, log_lines: int = 0, tokens: int | None = None) -> bool:
        cost = count_tokens(text + "\n") if tokens is None else tokens
        if cost > self.room():
            return False
        self.pieces.append(Piece(text, cost, log_lines))
        self.used += cost
        return True

    def text(self) -> str:
        """The joined text, trimmed from the lowest-priority end until the exact count fits.

        Redacted once more as a whole: a secret split over two pieces (a key body under its
        BEGIN line) is only recognizable in the joined text."""
        while True:
            text = redact("\n".join(piece.text for piece in self.pieces))
            if count_tokens(text) <= self.limit or not self.pieces:
                return text
            self.pieces.pop()


@dataclass
class Rendered:
    """The context text and what went into it."""

    text: str
    tokens: int
    lines_kept: int
    error_blocks: list[str]
    last_lines: list[str]
    failing_step: str | None


class _Section:
    """A heading added lazily, just before the section's first piece."""

    def __init__(self, budget: Budget, heading: str) -> None:
        self.budget, self.heading, self.started = budget, heading, False

    def add(self, text: str, log_lines: int = 1, tokens: int | None = None) -> bool:
        cost = count_tokens(text + "\n") if tokens is None else tokens
        head_cost = 0 if self.started else count_tokens(self.heading + "\n")
        if cost + head_cost > self.budget.room():
            return False
        if not self.started:
            self.budget.add(self.heading, tokens=head_cost)
            self.started = True
        return self.budget.add(text, log_lines, cost)


def render(state: ScanState, header: str, max_tokens: int, baseline: set[str]) -> Rendered:
    """The context for `state` within `max_tokens` (see the module docstring for the order)."""
    budget = Budget(max_tokens)
    ranked = state.blocks.ranked()
    # Read from the raw lines: redacted like them, as a step's name can hold what a line does.
    step = find_failing_step([line for block in ranked[:8] for line in block.lines[:40]])
    step = redact(step) if step else None
    _what_failed(budget, header, state, step)
    shown: set[str] = set()
    blocks = _error_blocks(budget, ranked, shown)
    _repeated(budget, state.pool.values(), shown)
    last = _last_lines(budget, blocks[0].lead_in_lines() if blocks else [], list(state.tail), shown, baseline)
    _rest(budget, _rest_entries(state), shown | baseline)
    text = budget.text()
    kept = sum(piece.log_lines for piece in budget.pieces)
    block_texts = [redact("\n".join(block.lines)) for block in blocks]
    return Rendered(text, count_tokens(text), kept, [b for b in block_texts if b in text], last, step)


def _what_failed(budget: Budget, header: str, state: ScanState, step: str | None) -> None:
    budget.add("## What failed")
    if header.strip():
        text = redact(header.strip())
        if not budget.add(text) and budget.room() > 40:
            budget.add(text[: budget.room() * 2] + " ...")
    first = state.first_timestamp or _timestamp_of(state.head[:1])
    last = state.last_timestamp or _timestamp_of(list(state.tail)[-1:])
    facts = f"Log: {state.lines_in} lines from {', '.join(sorted(state.sources)) or 'nothing'}"
    facts += f"; first timestamp {first}; last timestamp {last}." if first or last else "."
    budget.add(facts)
    if step:
        budget.add(f"Failing step (from the log): {step}")


def _timestamp_of(rows: list[str]) -> str | None:
    for row in rows:
        match = _TIMESTAMP.search(ln.strip_ansi(row)[:60])
        if match:
            return match.group(0)
    return None


def _error_blocks(budget: Budget, ranked: list[Block], shown: set[str]) -> list[Block]:
    section = _Section(budget, "\n## Error blocks (verbatim, most important first)")
    reserve = budget.limit // 10
    kept: list[Block] = []
    for block in ranked:
        if kept and _is_echo(block, shown):
            continue
        title = _block_title(len(kept) + 1, block)
        body = redact("\n".join(block.lines))
        cost = count_tokens(f"{title}\n{body}\n")
        if kept and cost > budget.room() - reserve:
            continue
        if not kept and cost > budget.room() - count_tokens(section.heading + "\n"):
            block.lines = _head_and_tail(block.lines, budget.room() - 40 - count_tokens(title))
            body = redact("\n".join(block.lines))
            cost = count_tokens(f"{title}\n{body}\n")
        if section.add(f"{title}\n{body}", len(block.lines), cost):
            kept.append(block)
            shown.update(template(line) for line in block.lines)
    return kept


def _block_title(number: int, block: Block) -> str:
    seen = f", seen {block.count} times" if block.count > 1 else ""
    return f"--- block {number}: line {block.line_no}{seen} ---"


def _is_echo(block: Block, shown: set[str]) -> bool:
    """A block already shown in substance: dbt repeats each error under "Marking all children ..."
    and in its end-of-run summary. Its detail lines were all shown and its first line was shown
    too or only wraps them."""
    keys = [template(line) for line in block.lines if line.strip()]
    if not keys:
        return True
    if any(key not in shown for key in keys[1:]):
        return False
    return keys[0] in shown or (len(keys) > 1 and is_generic(block.lines[0]))


def _head_and_tail(lines: list[str], room: int) -> list[str]:
    """A block too large for the whole budget: its first and last lines, with a marker between."""
    head: list[str] = []
    used = 0
    for line in lines:
        cost = count_tokens(redact(line) + "\n")
        if used + cost > room * 0.6:
            break
        head.append(line)
        used += cost
    tail: list[str] = []
    for line in reversed(lines[len(head) :]):
        cost = count_tokens(redact(line) + "\n")
        if used + cost > room * 0.95:
            break
        tail.insert(0, line)
        used += cost
    omitted = len(lines) - len(head) - len(tail)
    return [*head, f"... [{omitted} lines of this block omitted to fit the budget] ...", *tail]


def _repeated(budget: Budget, entries: Iterable[PoolEntry], shown: set[str]) -> None:
    section = _Section(budget, "\n## Repeated lines (count x first occurrence)")
    repeats = sorted((e for e in entries if e.count >= REPEAT_MIN), key=lambda e: (-e.score, e.line_no))
    for entry in repeats[:MAX_REPEATED]:
        key = template(entry.line)
        if key not in shown and section.add(f"[x{entry.count}] {redact(entry.line)}"):
            shown.add(key)


def _last_lines(
    budget: Budget, lead_in: list[str], tail: list[str], shown: set[str], baseline: set[str]
) -> list[str]:
    kept: list[str] = []
    for heading, rows in (
        ("\n## Last lines before the failure", lead_in),
        ("\n## Last lines of the log", tail),
    ):
        section = _Section(budget, heading)
        for text, key in _collapse(rows):
            if key in shown or key in baseline:
                continue
            if section.add(redact(text)):
                kept.append(redact(text))
                shown.add(key)
    return kept


def _collapse(rows: list[str]) -> list[tuple[str, str]]:
    """Non-blank rows with consecutive same-template runs folded into one row and a count."""
    out: list[tuple[str, str, int]] = []
    for row in rows:
        text = ln.strip_ansi(row).rstrip()
        if not text.strip():
            continue
        key = template(text)
        if out and out[-1][1] == key:
            out[-1] = (out[-1][0], key, out[-1][2] + 1)
        else:
            out.append((text, key, 1))
    return [(text if n == 1 else f"[x{n}] {text}", key) for text, key, n in out]


def _rest_entries(state: ScanState) -> list[PoolEntry]:
    head = [PoolEntry(ln.strip_ansi(row), 15, number + 1) for number, row in enumerate(state.head)]
    return [*state.pool.values(), *head[:HEAD_LINES]]


def _rest(budget: Budget, entries: list[PoolEntry], shown: set[str]) -> None:
    section = _Section(budget, "\n## Other lines by score")
    room = budget.room() - count_tokens(section.heading + "\n")
    chosen: list[tuple[PoolEntry, str, int]] = []
    for entry in sorted(entries, key=lambda e: (-e.score, e.line_no)):
        key = template(entry.line)
        if key in shown or not entry.line.strip():
            continue
        text = redact(entry.line if entry.count == 1 else f"[x{entry.count}] {entry.line}")
        cost = count_tokens(text + "\n")
        if cost <= room:
            chosen.append((entry, text, cost))
            shown.add(key)
            room -= cost
    for _entry, text, cost in sorted(chosen, key=lambda item: item[0].line_no):
        section.add(text, tokens=cost)
