"""Error blocks: an error line plus the lines that belong to the same log event. Pure: no Django.

A block opens on a strong line (see signals.BLOCK_START) and takes every following continuation
line: lines without a log prefix after a prefixed line (a traceback under an Airflow `ERROR -`
line, the detail under dbt's `Database Error in model ...`), stack frames even when each carries
an Airbyte `destination >` prefix, indented lines, and a Python traceback up to its exception
line. It closes at the next line that starts a new log event.

Blocks are kept verbatim, except: Java frame runs are cut to their first frames (the exception and
`Caused by` lines stay), and a block longer than MAX_BLOCK_LINES keeps its head and tail.
"""

from __future__ import annotations

import heapq
import re
from collections import deque
from dataclasses import dataclass, field

from failbrief.condense import lines as ln
from failbrief.condense.scoring import MAX_LINE_SCORE, ZERO_CONTEXTS, detail_and_generic, line_score
from failbrief.condense.templates import template

MAX_BLOCK_LINES = 200
HEAD_KEPT = 130
TAIL_KEPT = 60
JAVA_FRAMES_KEPT = 4
MAX_DISTINCT_BLOCKS = 64
_CHAIN = re.compile(r"The above exception|During handling of the above|Traceback \(most recent")
_TRACEBACK = "Traceback (most recent call last)"
# Where a traceback flattened onto one line breaks into its parts, and the exception that ends a
# frame's part ("... raise X(...) httpx.HTTPStatusError: Client error '409 Conflict' ...").
_FLAT_BREAK = re.compile(
    r"\s+(?=File \"|Traceback \(most recent call last\)|The above exception was|During handling of the above)"
)
_FLAT_EXCEPTION = re.compile(r"\s(?:[a-z_]\w*\.)*[A-Z]\w*(?:Error|Exception|Exit|Timeout|Failure)\w*: ")
_BOILERPLATE = re.compile(
    r"Traceback \(most recent call last\)|The above exception was|During handling of the above"
    r"|omitted by failbrief|^\s*\.\.\.\s*\d+ more|compiled code at|^\s*\.\.\.\s*$"
)
# Every match of _BOILERPLATE holds one of the gates in _is_boilerplate; most lines hold none.
_JAVA_FRAME = re.compile(rf"\s*{ln.JAVA_FRAME}")
# Found in a block's joined lines whenever one of them (or its message) is a Java frame.
_ANY_JAVA_FRAME = re.compile(ln.JAVA_FRAME)
# Importance counts at most this many detail lines (min(15, 5 * detail)).
_DETAIL_COUNTED = 3
# The statement a database driver or a tool prints after its error, under a label of its own line
# ("SQL:" in OHDSI's DatabaseConnector reports, "Query:", "Failed SQL:"): a person needs it to see
# what the database rejected.
_STATEMENT_LABEL = re.compile(r"(?i)(?:failed |failing |offending )?(?:SQL|query|statement)\s*:\s*$")


@dataclass(slots=True)
class Block:
    """One error event. `lines` are colour-stripped log lines; `count` folds identical repeats."""

    lines: list[str]
    line_no: int
    headered: bool
    score: int
    lead_in: list[str] = field(default_factory=list)
    # The lead-in rows are as logged, colour codes included (see lead_in_lines): stripping them
    # waits until the context shows them, as most blocks of an error-heavy log are never shown.
    lead_in_logged: bool = False
    # Where to read the lead-in from, until the block is kept: (chunk, start, floor, count) for
    # lines.lines_before. Repeats never read it.
    lead_in_source: tuple[str, int, int, int] | None = None
    count: int = 1
    omitted: int = 0
    in_traceback: bool = False
    in_statement: bool = False
    blank_run: int = 0
    importance: int = 0
    overflow: deque[str] | None = None
    # Lines that may raise `score`, scored when the block is ranked (see settle_score): a repeat
    # is never ranked, and most blocks of an error-heavy log are repeats.
    to_score: list[str] | None = None

    def take(self, line: str, *, record_start: bool = False, anchored: bool = True) -> bool:
        """Add `line` when it continues this block rather than starting a new log event.

        A prefixed line continues it when its message is a stack frame or indented, or, inside a
        traceback, its exception line or chain marker. Without a prefix: at the start of a new
        record, an indented, frame or caret line; in a block opened by a prefixed line, any line;
        else see _accepts_bare. One split of the line serves both the test and the tracking.
        `anchored` False says no anchor word occurs in the line (see Block.add)."""
        first = line[:1]
        if first not in ln.PREFIX_FIRST and first.isascii():  # split_prefix's first test, inlined
            token_end = start = 0
        else:
            token_end, start = ln.split_prefix(line)
        stripped = line.strip()
        if token_end:
            text = line[start:]
            gap = line[token_end:start]
            if not (ln.is_frame(text) or "\t" in gap or gap.endswith("   ")) and not (
                self.in_traceback and (ln.is_exception_line(text) or _CHAIN.search(text) is not None)
            ):
                return False
        else:
            text = line
            if record_start:
                if not (ln.is_indented(line) or ln.is_frame(line) or ln.is_caret_line(line)):
                    return False
            elif not self.headered and not self._accepts_bare(line, stripped):
                return False
        self._append(line, text, stripped, anchored)
        return True

    def add(self, line: str, text: str | None = None, *, anchored: bool = True) -> None:
        """Append one continuation line (keeps head and tail once the block is too long); `text`
        is its message (the line without its prefix) when the caller has it. `anchored` False
        says the scan found no anchor word in the line, so it cannot raise the block's score: most
        lines of a traceback are not scored at all."""
        self._append(line, text, line.strip(), anchored)

    def extend(self, text: str) -> None:
        """Append the continuation lines of `text`, known to be taken, as many as a block that
        never reached MAX_BLOCK_LINES took (see Scanner._repeat); the block is closed next, so the
        state `take` tracks is not kept. Their scores wait for settle_score: an unanchored line
        scores 0."""
        rows = ln.strip_ansi_lines(text)
        self.lines += rows
        if self.score < MAX_LINE_SCORE:
            self.to_score = [row for row in rows if len(row) < 2000]

    def _append(self, line: str, text: str | None, stripped: str, anchored: bool) -> None:
        # Tracking and appending in one call: this runs for every line of every block.
        if stripped:
            self.blank_run = 0
            if stripped[-1] == ":" and _STATEMENT_LABEL.match(stripped):  # every label ends in ":"
                self.in_statement = True
        else:
            self.blank_run += 1
            self.in_statement = False
        if _TRACEBACK in line and _TRACEBACK in (text if text is not None else ln.inner_text(line)):
            self.in_traceback = True
        elif self.in_traceback:
            text = text if text is not None else ln.inner_text(line)
            # An indented or blank message is never the exception line that ends the traceback.
            if text[:1] not in " \t" and ln.is_exception_line(text):
                self.in_traceback = False
        if anchored and len(line) < 2000 and self.score < MAX_LINE_SCORE:
            if self.overflow is not None:  # a long block: score as it comes, holding no more lines
                self.settle_score()
                self.score = max(self.score, line_score(line))
            elif self.to_score is None:
                self.to_score = [line]
            else:
                self.to_score.append(line)
        if self.overflow is not None:
            self.omitted += len(self.overflow) == TAIL_KEPT
            self.overflow.append(line)
            return
        lines = self.lines
        lines.append(line)
        if len(lines) > MAX_BLOCK_LINES:
            extra = lines[HEAD_KEPT:]
            del lines[HEAD_KEPT:]
            self.omitted = max(0, len(extra) - TAIL_KEPT)
            self.overflow = deque(extra, maxlen=TAIL_KEPT)

    def _accepts_bare(self, line: str, stripped: str) -> bool:
        if not stripped:
            return self.blank_run < 1 or self.in_traceback
        # Indented (the line is not blank), a frame, a caret line, JSON, inside a traceback or
        # statement, a chain marker: the cheap tests first, and the regexes only where the first
        # character allows them.
        first = stripped[0]
        if line[:1] in " \t" or first in '{}[]"' or self.in_traceback or self.in_statement:
            return True
        if (first in "aF.CS" and ln.is_frame(line)) or (first in "^~" and ln.is_caret_line(line)):
            return True
        if _CHAIN.search(stripped):
            return True
        if self.blank_run <= 1 and _STATEMENT_LABEL.match(stripped):
            return True
        # A pasted message's second line (the request or statement behind an exception).
        return len(self.lines) < 3 and self.blank_run == 0

    def finish(self, *, java_frames: bool = True) -> None:
        """Close the block: settle the overflow, drop trailing blanks, shorten Java frame runs
        (False `java_frames` says it has none).

        Its importance is set when a BlockStore takes it as a new block (a repeat needs none)."""
        if self.overflow is not None:
            self.lines.append(f"... [{self.omitted} lines of this block omitted by failbrief] ...")
            self.lines.extend(self.overflow)
            self.overflow = None
        while self.lines and not self.lines[-1].strip():
            self.lines.pop()
        if java_frames:
            self.lines = compress_java_frames(self.lines)

    def lead_in_lines(self) -> list[str]:
        """The lines logged just before the block, as the context shows them."""
        if self.lead_in_logged:
            return [ln.strip_ansi(row) for row in self.lead_in]
        return self.lead_in

    def key(self) -> tuple[str, ...]:
        """Identity for folding repeats: the templates of its first lines."""
        if not self.lines:
            return ("0",)
        return (*_templates("\n".join(self.lines[:12])), str(len(self.lines)))

    def settle_score(self) -> None:
        """Raise `score` to that of the strongest line added (scoring waits for this call)."""
        if self.to_score is not None:
            for line in self.to_score:
                if self.score >= MAX_LINE_SCORE:
                    break
                self.score = max(self.score, line_score(line))
            self.to_score = None

    def rank(self) -> int:
        """Importance: signal strength, plus named detail, minus being only a wrapper."""
        self.settle_score()
        detail, generic = 0, True
        for line in message_lines(self.lines[:80]):
            if detail >= _DETAIL_COUNTED and not generic:
                break
            line_detail, line_generic = detail_and_generic(line)
            detail += line_detail and detail < _DETAIL_COUNTED
            generic = generic and line_generic
        return self.score + min(15, 5 * detail) - (25 if generic else 0)


@ln.by_shape(512, longest=4096)
def _templates(joined: str) -> tuple[str, ...]:
    """The templates of a block's first lines, given joined: remembered by the shape of them all,
    as a repeated block mostly differs from the first only in its timestamps and ids."""
    return tuple(map(template, joined.split("\n")))


def message_lines(lines: list[str]) -> list[str]:
    """The lines of a block that say something: not frames, source excerpts, markers or boilerplate.

    Java's `Caused by: x.FooException: message` continues a trace like a frame but states a cause,
    so it counts as a message line.
    """
    out: list[str] = []
    in_frame = False
    for line in lines:
        role = _role(line)
        if role == _FLATTENED:
            out += _flattened_traceback(ln.inner_text(line)) or ()
            in_frame = False
        elif role == _SILENT:
            continue
        elif role >= _FRAME:
            in_frame = role == _FILE_FRAME
        elif in_frame and role == _INDENTED:
            continue  # the source line Python prints under a `File "..."` frame
        else:
            in_frame = False
            out.append(line)
    return out


# What one line is to message_lines: a message (indented or not), nothing (blank, a caret marker,
# boilerplate), a frame (a Python `File "..."` frame apart), or a flattened traceback. Repeated
# blocks repeat their lines, with new timestamps and ids: the answer is remembered by line shape.
_SAYS, _INDENTED, _SILENT, _FRAME, _FILE_FRAME, _FLATTENED = range(6)


@ln.by_shape(2048)
def _role(line: str) -> int:
    text = ln.inner_text(line)
    if _is_flattened(text):
        return _FLATTENED
    stripped = text.strip()
    # The first character the regexes below would match after leading whitespace, tested first.
    if not stripped or (stripped[0] in "^~" and ln.is_caret_line(text)) or _is_boilerplate(text):
        return _SILENT
    if stripped[0] in "aF.CS" and ln.is_frame(text) and not ln.is_cause_line(text):
        return _FILE_FRAME if stripped.startswith("File ") else _FRAME
    return _INDENTED if text[:1] in " \t" else _SAYS


def _flattened_traceback(text: str) -> list[str] | None:
    """The message parts of a whole Python traceback on one line (a paste or a log shipper that
    joined its lines with spaces): the text before it and each exception line, verbatim
    substrings; None for an ordinary line."""
    if not _is_flattened(text):
        return None
    out: list[str] = []
    for piece in _FLAT_BREAK.split(text):
        if piece.startswith('File "'):
            exception = _FLAT_EXCEPTION.search(piece)
            if exception is None:
                continue
            piece = piece[exception.start() :]
        piece = (
            _CHAIN.sub("", piece).strip()
            if not piece.startswith(("Traceback", "The above", "During"))
            else ""
        )
        if piece:
            out.append(piece)
    return out


def _is_flattened(text: str) -> bool:
    return text.count('File "') >= 2 and _CHAIN.search(text) is not None


def _is_boilerplate(text: str) -> bool:
    # The gates spelled out: a generator over them costs more than the tests.
    gated = (
        "..." in text
        or "Traceback (most recent call last)" in text
        or "The above exception was" in text
        or "During handling of the above" in text
        or "omitted by failbrief" in text
        or "compiled code at" in text
    )
    return gated and _BOILERPLATE.search(text) is not None


def compress_java_frames(lines: list[str]) -> list[str]:
    """Runs of Java `at ...` frames cut to their first JAVA_FRAMES_KEPT frames."""
    if _ANY_JAVA_FRAME.search("\n".join(lines)) is None:
        return lines
    out: list[str] = []
    run = 0
    for line in lines:
        if _JAVA_FRAME.match(ln.inner_text(line)) or _JAVA_FRAME.match(line):
            run += 1
            if run <= JAVA_FRAMES_KEPT:
                out.append(line)
            continue
        _flush_run(out, run)
        run = 0
        out.append(line)
    _flush_run(out, run)
    return out


def _flush_run(out: list[str], run: int) -> None:
    if run > JAVA_FRAMES_KEPT:
        out.append(f"\t... {run - JAVA_FRAMES_KEPT} more frames omitted by failbrief")


class ShapeRanks:
    """The ranks of blocks of one shape (see lines.by_shape), remembered: such blocks rank alike
    when their lines are ASCII, hold no "429" (the only digits detail looks at), and have the same
    opening score and the same digits 0 where line_score tells 0 apart (scoring.ZERO_CONTEXTS)."""

    _KEPT = 16

    def __init__(self, lines: list[str]) -> None:
        """For blocks with the shape of one whose lines (all of them, before `finish`) are `lines`."""
        joined = "\n".join(lines)
        self.ascii = joined.isascii()
        self.places = _zero_places(ln.shape(joined).lower()) if self.ascii else ()
        # Whether a Java frame is in the text tells no digit from another either.
        self.java_frames = _ANY_JAVA_FRAME.search(joined) is not None
        self._known: dict[tuple[int | bool, ...], tuple[int, int]] = {}

    def settle(self, block: Block) -> None:
        """Finish `block`, of this shape, and set its importance (and its score)."""
        joined = "\n".join(block.lines)
        key = None
        if self.ascii and "429" not in joined:
            key = (block.score, *(joined[place] == "0" for place in self.places))
        block.finish(java_frames=self.java_frames)
        known = self._known.get(key) if key is not None else None
        if known is not None:
            block.score, block.importance = known
            block.to_score = None
            return
        block.importance = block.rank()
        if key is not None and len(self._known) < self._KEPT:
            self._known[key] = (block.score, block.importance)


def _zero_places(low_shape: bytes) -> tuple[int, ...]:
    """Where the digits of scoring.ZERO_CONTEXTS are in the lowered shape of a text."""
    places: set[int] = set()
    for context in ZERO_CONTEXTS:
        start = low_shape.find(context)
        while start >= 0:
            places.update(start + index for index, byte in enumerate(context) if byte == ord("0"))
            start = low_shape.find(context, start + 1)
    return tuple(sorted(places))


class BlockStore:
    """Distinct blocks in first-seen order; repeats folded into a count. Bounded memory.

    When full, a new block evicts the weakest stored one (least important; among equals the latest,
    then the first stored), found on a heap rather than by scanning every block."""

    def __init__(self, limit: int = MAX_DISTINCT_BLOCKS) -> None:
        self.limit = limit
        self._blocks: dict[tuple[str, ...], Block] = {}
        self._weakest: list[tuple[int, int, int, tuple[str, ...]]] = []
        self._stored = 0
        self.total = 0

    def add(self, block: Block) -> tuple[str, ...]:
        """Store a finished block (ranking it), or count it as a repeat of one already stored; its
        key."""
        key = block.key()
        if self.add_repeat(key):
            block.lead_in_source = block.to_score = None
            return key
        block.importance = block.rank()
        self.add_new(block, key)
        return key

    def add_new(self, block: Block, key: tuple[str, ...]) -> None:
        """Store a finished and ranked block whose key is not stored (the weakest block makes room)."""
        self.total += 1
        if block.lead_in_source is not None:
            block.lead_in = ln.lines_before(*block.lead_in_source)
            block.lead_in_source = None
        if len(self._blocks) >= self.limit:
            del self._blocks[heapq.heappop(self._weakest)[3]]
        self._blocks[key] = block
        self._stored += 1
        heapq.heappush(self._weakest, (block.importance, -block.line_no, self._stored, key))

    def add_repeat(self, key: tuple[str, ...]) -> bool:
        """Count one more repeat of the stored block with this key, as `add` would for a block with
        this key; False when none is stored."""
        known = self._blocks.get(key)
        if known is None:
            return False
        self.total += 1
        known.count += 1
        return True

    def ranked(self) -> list[Block]:
        """Most important first; among equals, the earliest (the first error is usually the cause)."""
        return sorted(self._blocks.values(), key=lambda b: (-b.importance, b.line_no))
