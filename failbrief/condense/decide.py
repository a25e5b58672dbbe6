"""Which evidence decides a failure's category, and how sure that makes us. Pure: no Django.

The most specific evidence decides, wherever it is in the failure:

1. A specific signal (evidence.SIGNALS: status code, SQLSTATE, vendor code, OAuth error, exit
   code or signal, exception class) in the error blocks, read whole: the exception chain,
   `Caused by:` lines, "The above exception was the direct cause" and JSON error bodies. It beats
   any wrapper line. The blocks are read in order: the one the root-cause line was found in, then
   the others by importance; the first block holding a specific signal decides, and within it the
   table's order ranks them (a 429 beats the timeouts after it, a failing test its wrapper).
   Confidence `high` if the calibration measured on the dev corpus grants that signal high
   (calibration.py), else `medium`.
2. A weaker signal (evidence rows with specific=False) in the blocks: `medium`.
3. A specific signal in the lines logged just before the main block ("Last lines before the
   failure": a `429` beside the wrapper that reports it): `high` if calibrated, else `medium`.
4. The keyword families of classify.py over the error lines: `medium`.
5. A signal elsewhere in the context (the last lines of the log, repeated and other lines;
   warnings skipped), specific or weaker: `medium`, since nothing ties it to the failure itself.
6. The unit's state message (a crash whose logs just stop): `medium`.
7. Nothing: `low`, category `unknown`.

A database or type error raised while an Airbyte destination or a Singer target writes is the
destination's write failure (destination_write), whatever SQLSTATE it carries.

Also used to give an LLM the deciding signal as a hint it may overrule (llm_common.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from failbrief.condense.blocks import message_lines
from failbrief.condense.calibration import may_say_high
from failbrief.condense.classify import classify
from failbrief.condense.evidence import SIGNALS, Signal, first_signal
from failbrief.condense.scoring import is_benign

_RANK = {signal.name: index for index, signal in enumerate(SIGNALS)}
_SKIPPED_SECTIONS = ("## What failed", "## Error blocks")
_LEAD_IN = "## Last lines before the failure"
_WARNING = re.compile(r"\b(?:WARN|WARNING)\b|\[warn\s*\]|\bWarning:")
# An Airbyte destination or a Singer/Meltano target writes the data.
_WRITE_CONTEXT = re.compile(
    r"(?i)\bdestination >|\bdestination - \d{4}-|failureOrigin\W+destination|Failure Origin: destination"
    r"|\bdestination-\w+|\bintegrations\.destination\.|\bdestination_[a-z]\w*/|\btarget-[\w-]+\s+\||\bdlt\.destinations\."
)
_WRITE_FAILURES = {"sql_error", "schema_mismatch", "code_bug"}
# A loader inserting or copying rows (not a dbt model building its own table): a value or key it
# writes that the table refuses is the destination's write failure. Airbyte's worker calls the
# destination its "target".
_LOAD_CONTEXT = re.compile(
    r"(?i)\binsert into\b|\.execute(?:many)?\([^)]*insert|\bexecutemany\b|\bcopy into\b|\bto_sql\b"
    r"|target process|DefaultAirbyteDestination|\bbulk[ _-]?(?:insert|load)"
)
# Rows a loader writes that the table refuses: a value that does not fit its column, a key that
# breaks a constraint.
_LOAD_FAILURES = frozenset({"value-does-not-fit", "constraint-violated"})
_DBT_RUN = re.compile(
    r"Running with dbt=|\b(?:Database|Runtime) Error in (?:model|seed|snapshot)\b|\bdbt\.adapters\."
)


@dataclass(frozen=True)
class Decision:
    """The category, how sure, and the evidence that decided it (None when no line did)."""

    category: str
    confidence: str  # high, medium or low
    rule: str  # the signal's or classify rule's name; "no-rule" when nothing decided
    signal: Signal | None = None
    line: str | None = None  # the verbatim line that carries the deciding signal
    block: str | None = None  # its error block; None for a line outside the blocks
    # A specific signal decided and nothing in its block disagreed: `high` if the calibration
    # (calibration.py, measured on the dev corpus) grants this signal high, else `medium`.
    eligible: bool = False


UNDECIDED = Decision("unknown", "low", "no-rule")


def decide(
    blocks: Sequence[str],
    context_text: str,
    error_lines: Sequence[tuple[str, str]] = (),
    state_message: str = "",
) -> Decision:
    """The deciding evidence of a failure.

    `blocks`: the error blocks to read, the one holding the root-cause line first. `context_text`:
    the whole condensed context (its other lines are read after the blocks). `error_lines`: (line,
    block) pairs for the keyword fallback, most important first.
    """
    return _as_write_failure(_decide(blocks, context_text, error_lines, state_message), context_text)


def _decide(
    blocks: Sequence[str], context_text: str, error_lines: Sequence[tuple[str, str]], state_message: str
) -> Decision:
    found = [
        (signal, line, block)
        for block in blocks
        for signal, line in _signals_in(_readable(block), block, context_text)
    ]
    specific = [hit for hit in found if hit[0].specific]
    if specific:
        first_block = specific[0][2]
        in_block = [hit for hit in specific if hit[2] == first_block]
        signal, line, block = min(in_block, key=lambda hit: _RANK[hit[0].name])  # the earliest among equals
        # Specific signals of the same block that point at different categories: the table's order
        # picks one, but the evidence disagrees with itself, so it is not certain.
        # An HTTP status is coarse (BigQuery answers a rate limit with 403): a finer signal refines it.
        agreed = (
            len({hit[0].category for hit in in_block if hit[0].kind != "HTTP status"} | {signal.category})
            == 1
        )
        return _specific(signal, line, block, eligible=agreed)
    if found:
        signal, line, block = found[0]
        return Decision(signal.category, "medium", signal.name, signal, line, block)
    lead_in = [hit for hit in _signals_in(lead_in_lines(context_text), "", context_text) if hit[0].specific]
    if lead_in:
        # The lines logged just before the failure, beside the wrapper that reported it.
        signal, line = min(lead_in, key=lambda hit: _RANK[hit[0].name])
        return _specific(signal, line, None, eligible=True)
    category, rule = classify(list(error_lines), context_text)
    if category != "unknown":
        return Decision(category, "medium", rule)
    # Anywhere else nothing ties a signal to the failure, so a weaker row reads as well as a specific one.
    outside = _signals_in(other_lines(context_text), "", context_text)
    if outside:
        signal, line = min(outside, key=lambda hit: _RANK[hit[0].name])
        return Decision(signal.category, "medium", signal.name, signal, line, None)
    return decide_state_message(state_message)


def _specific(signal: Signal, line: str, block: str | None, *, eligible: bool) -> Decision:
    confidence = "high" if eligible and may_say_high(signal.name) else "medium"
    return Decision(signal.category, confidence, signal.name, signal, line, block, eligible)


def decide_state_message(message: str) -> Decision:
    """The unit's final state message alone (a crash whose logs just stop): never more than medium."""
    message = message.strip()
    return decide_line(message) if message else UNDECIDED


def decide_line(line: str, whole: str = "") -> Decision:
    """One line read alone, with nothing around it to confirm it: never more than medium, and
    `unknown` (low) when neither a signal nor a keyword family reads it."""
    signal = first_signal(line, line, whole)
    if signal is not None:
        return Decision(signal.category, "medium", signal.name, signal, line, None)
    category, rule = classify([(line, line)], whole)
    if category != "unknown":
        return Decision(category, "medium", rule, None, line, None)
    return replace(UNDECIDED, line=line)


def _signals_in(lines: Sequence[str], block: str, whole: str) -> list[tuple[Signal, str]]:
    """Each line's first signal, in line order; benign lines and (outside blocks) warnings skipped."""
    out: list[tuple[Signal, str]] = []
    for line in lines:
        if is_benign(line) or (not block and _WARNING.search(line)):
            continue
        signal = first_signal(line, block or line, whole)
        if signal is not None:
            out.append((signal, line))
    return out


def _readable(block: str) -> list[str]:
    """A block's message lines, plus frame lines a paste glued a `Caused by:` onto."""
    lines = block.split("\n")
    messages = message_lines(lines)
    return messages + [line for line in lines if "Caused by:" in line and line not in messages]


def _as_write_failure(decision: Decision, whole: str) -> Decision:
    """A SQL, type or code error in a destination's or target's block is its write failure; so is a
    value that does not fit its column, or a key that breaks a constraint, while a loader writes rows
    (`whole`: the context)."""
    where = decision.block if decision.block is not None else decision.line
    if decision.category in _WRITE_FAILURES and where and _WRITE_CONTEXT.search(where):
        return replace(decision, category="destination_write")
    if decision.rule in _LOAD_FAILURES and _LOAD_CONTEXT.search(whole) and not _DBT_RUN.search(whole):
        return replace(decision, category="destination_write")
    return decision


def lead_in_lines(context_text: str) -> list[str]:
    """The context's "Last lines before the failure": the lines logged just before the main block."""
    return _section_lines(context_text, lambda title: title.startswith(_LEAD_IN))


def other_lines(context_text: str) -> list[str]:
    """The context's lines outside its header, error-block and lead-in sections, without `[xN]` counts."""
    return _section_lines(context_text, lambda title: not title.startswith((*_SKIPPED_SECTIONS, _LEAD_IN)))


def _section_lines(context_text: str, wanted: Callable[[str], bool]) -> list[str]:
    out: list[str] = []
    taking = False
    for line in context_text.split("\n"):
        if line.startswith("## "):
            taking = wanted(line)
            continue
        if taking and line.strip():
            out.append(line[line.index("] ") + 2 :] if line.startswith("[x") and "] " in line else line)
    return out
