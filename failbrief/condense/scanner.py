"""The streaming pass of the condenser: finds candidate lines, assembles blocks, keeps bounded state.

Hot path per chunk of text: one ASCII `lower()` and one Aho-Corasick sweep for every anchor word
(signals.ANCHOR_FINDER), both in native code. Only lines an anchor hits are split out and scored
in Python; everything else is skipped except the few lines kept as log head, tail and lead-in
before each block. Memory is bounded by the
chunk size plus fixed-size stores (blocks, rest pool, tail). Pure: no Django.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from failbrief.condense import lines as ln
from failbrief.condense.blocks import Block, BlockStore, ShapeRanks
from failbrief.condense.scoring import ANCHOR_FINDER, BLOCK_START, line_score
from failbrief.condense.templates import template
from failbrief.condense.tokens import count_tokens

TAIL_LINES = 15
HEAD_LINES = 5
LEAD_IN_LINES = 6
_LEAD_IN_CHARS = 4000  # how far back the lead-in lines are looked for
POOL_LIMIT = 4000
REST_MIN_SCORE = 20
EXACT_TOKENS_CHARS = 256 * 1024
SCORE_CACHE = 8192
REPEATS_KEPT = 1024  # blocks remembered (see Scanner._repeat)
VARIANTS_KEPT = 16  # of them for one opening shape (a log's error line may head several kinds)
_REPEAT_CHARS = 8192  # longer blocks are not remembered
_CLOSERS_KEPT = 16


@dataclass(slots=True)
class PoolEntry:
    """A non-block line kept for the "rest by score" section; repeats folded into `count`."""

    line: str
    score: int
    line_no: int
    count: int = 1


@dataclass(slots=True)
class _Seen:
    """How the last block opened on a given shape of text went (see Scanner._repeat)."""

    rows: int  # lines taken after the opening line
    chars: int  # in the block's text after its opening line, up to the end of its last line
    shape: bytes  # of that text
    key: tuple[str, ...]
    # The block's state when its next line closed it (its lines blanked), for Block.take to test
    # the next line; a test that takes the line changes it, and the entry is dropped.
    probe: Block
    ranks: ShapeRanks | None = None  # once a block of this shape is stored again
    # Shapes of lines the probe refused: take tells no digit from another, and a refusal leaves
    # the probe as it was.
    closers: set[bytes] = field(default_factory=set)


@dataclass
class ScanState:
    """Everything the scan keeps: bounded, whatever the size of the log."""

    blocks: BlockStore = field(default_factory=BlockStore)
    pool: dict[bytes, PoolEntry] = field(default_factory=dict)
    head: list[str] = field(default_factory=list)
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=TAIL_LINES))
    lines_in: int = 0
    chars_in: int = 0
    exact_tokens: int = 0
    exact_chars: int = 0
    sources: dict[str, int] = field(default_factory=dict)
    first_timestamp: str | None = None
    last_timestamp: str | None = None
    baseline_dropped: int = 0


class Scanner:
    """Feed records in order with `feed`, then call `finish`; read the results from `state`."""

    def __init__(self, baseline: set[str] | None = None) -> None:
        self.state = ScanState()
        self.baseline = baseline or set()
        self.open: Block | None = None
        # Scores of recent non-block lines by repeat key: noisy logs repeat the same warnings.
        self._scores: dict[bytes, int] = {}
        # How blocks went, by the shape of their first frame and opening line (see _repeat).
        self._seen: dict[bytes, list[_Seen]] = {}
        self._seen_count = 0

    def feed(self, text: str, *, level: int | None, source: str, timestamp: str | None) -> None:
        """Scan one record. Records with source "file" are chunks of one continuous text."""
        state = self.state
        state.sources[source] = state.sources.get(source, 0) + 1
        if timestamp:
            state.first_timestamp = state.first_timestamp or timestamp
            state.last_timestamp = timestamp
        continuous = source == "file"
        if not continuous:
            text = _unwrap(text)
        self._count_input(text)
        base = state.lines_in
        if len(state.head) < HEAD_LINES:
            state.head.extend(text.split("\n", HEAD_LINES)[: HEAD_LINES - len(state.head)])
        if level is not None and level >= 40 and not continuous:
            state.lines_in += text.count("\n") + 1
            self._whole_record_block(text, base)
        else:
            state.lines_in = self._scan(text, base, continuous, level)
        self._update_tail(text)

    def finish(self) -> None:
        """Close a block still open at the end of the input; drop what only the scan needed."""
        if self.open is not None:
            self._close(self.open)
            self.open = None
        self._scores.clear()
        self._seen.clear()
        self._seen_count = 0
        ln.forget()

    def _count_input(self, text: str) -> None:
        state = self.state
        state.chars_in += len(text) + 1
        room = EXACT_TOKENS_CHARS - state.exact_chars
        if room <= 0:
            return
        if len(text) < room:
            state.exact_tokens += count_tokens(text + "\n")
            state.exact_chars += len(text) + 1
            return
        # A file chunk (1 MB) is larger than the sample: count its first lines up to the sample's
        # size, which the estimate scales from (tokenizing the rest would cost ~0.2 s a log).
        sample = text[: text.rfind("\n", 0, room) + 1 or room]
        state.exact_tokens += count_tokens(sample)
        state.exact_chars += len(sample)

    def _whole_record_block(self, text: str, base: int) -> None:
        """A record logged at ERROR or above is one event: keep its whole message as a block."""
        if self.open is not None:
            self._close(self.open)
            self.open = None
        rows = ln.strip_ansi_lines(text)
        block = Block(rows[:1], base + 1, headered=False, score=70, lead_in=list(self.state.tail)[-3:])
        for row in rows[1:]:
            block.add(row)
        block.in_traceback = False
        self.open = block

    def _scan(self, text: str, base: int, continuous: bool, level: int | None) -> int:
        """Find the blocks and rest lines of `text`, whose first line is line base + 1; the number
        of its last line."""
        pos = self._continue_open(text, record_start=not continuous)
        counter = _LineCounter(text, base)
        starts = _candidate_starts(text, pos)
        anchored: _Anchored | None = None
        scores, strip_ansi = self._scores, ln.strip_ansi
        for start in starts:
            if start < pos:
                continue
            end = _line_end(text, start)
            line = text[start:end]
            if "[" in line:  # (as strip_ansi: the call costs more)
                line = strip_ansi(line)
            key = _quick_key(line)
            score = scores.get(key)
            if score is None:
                score = self._score(line, key, level)
            if score >= BLOCK_START:
                if anchored is None:
                    anchored = _Anchored(starts, text.isascii())
                pos = self._open_block(text, start, end, line, score, counter, anchored)
            else:
                self._pool(line, key, score, counter, start)
                pos = end + 1
        return counter.line_no(len(text))

    def _score(self, line: str, key: bytes, level: int | None) -> int:
        """Score a line whose repeat key is not in the scores remembered (_scan looks first)."""
        score = max(line_score(line), 40 if level == 30 else 0)
        if len(self._scores) >= SCORE_CACHE:
            self._scores.clear()
        self._scores[key] = score
        return score

    def _continue_open(self, text: str, *, record_start: bool) -> int:
        """Feed the open block the leading lines of `text` that continue it; where they stop."""
        block = self.open
        pos = 0
        if block is None:
            return 0
        first = True
        while pos <= len(text):
            end = _line_end(text, pos)
            if not block.take(ln.strip_ansi(text[pos:end]), record_start=record_start and first):
                self._close(block)
                self.open = None
                return pos
            first = False
            pos = end + 1
        return pos

    def _open_block(
        self,
        text: str,
        start: int,
        end: int,
        line: str,
        score: int,
        counter: _LineCounter,
        anchored: _Anchored,
    ) -> int:
        line_no = counter.line_no(start)
        head_start, frames = _walk_back(text, start, line)
        opening = b""
        if not self.baseline and end - head_start <= _REPEAT_CHARS:
            opening = ln.shape(text[head_start:end])
            seen = self._repeat(text, end, self._seen.get(opening))
            if seen is not None:
                pos = end + seen.chars + 1
                if not self.state.blocks.add_repeat(seen.key):
                    # (a block of its shape opened alike, with or without a prefix: see _seen_block)
                    block = self._new_block(
                        text, head_start, line, score, frames, line_no, seen.probe.headered
                    )
                    if seen.rows:
                        block.extend(text[end + 1 : pos - 1])
                    self._store_again(block, seen)
                counter.skip(pos, line_no + 1 + seen.rows)
                return pos
        block = self._new_block(text, head_start, line, score, frames, line_no, ln.has_prefix(line))
        block.in_traceback = "Traceback (most recent call last)" in line
        self.open = block
        pos = end + 1
        size, take, strip_ansi = len(text), block.take, ln.strip_ansi
        starts, ascii_text = anchored.starts, anchored.ascii_text
        taken = 1  # lines, the first included
        while pos <= size:
            row_end = text.find("\n", pos)
            if row_end < 0:
                row_end = size
            row = text[pos:row_end]
            line = strip_ansi(row) if "[" in row else row  # (as strip_ansi: the call costs more)
            # The chunk's sweep saw every anchor word of the row as logged; stripping colour codes
            # or lowering non-ASCII letters may make one more, so such lines are scored anyway.
            if not take(line, anchored=pos in starts or line is not row or not (ascii_text or row.isascii())):
                seen = self._seen_block(text, head_start, end, pos, taken, block) if opening else None
                key = self._close(block)
                self.open = None
                if seen is not None and key is not None:
                    seen.key = key
                    self._remember(opening, seen)
                counter.skip(pos, line_no + taken)  # no need to count the newlines of the block
                return pos
            taken += 1
            pos = row_end + 1
        return pos

    def _new_block(
        self,
        text: str,
        head_start: int,
        line: str,
        score: int,
        frames: list[str],
        line_no: int,
        headered: bool,
    ) -> Block:
        """The block opened by `line` (at `line_no`, after the `frames` from `head_start` on)."""
        block = Block([*frames, line], line_no - len(frames), headered, score)
        if head_start >= _LEAD_IN_CHARS:  # within this chunk: read when the block is kept
            block.lead_in_source = (text, head_start, head_start - _LEAD_IN_CHARS, LEAD_IN_LINES)
        else:
            block.lead_in = self._lead_in(text, head_start)
        block.lead_in_logged = True
        return block

    def _repeat(self, text: str, end: int, variants: list[_Seen] | None) -> _Seen | None:
        """The block of `variants` (those that opened alike) that the block whose opening line
        ends at `end` repeats, taking as many lines and having its key; None when that is not known
        without reading it line by line.

        Block.take and Block.key tell no digit from another (see lines.by_shape), so a block whose
        text has the shape of one that opened alike takes the same lines and has the same key; its
        next line is then tested against that block's closing state."""
        if not variants:
            return None
        size = len(text)
        shaped = -1  # where the block ends that `shape` was taken for (blocks of one kind with
        # ids that change their shape are as long as each other)
        for seen in variants:
            # The newline after the block's last line: a text of one shape has one length (and
            # the shape keeps the newlines where they are).
            last = end + seen.chars
            if last < size and text[last] == "\n":
                if last != shaped:
                    row_end = text.find("\n", last + 1)
                    row_end = size if row_end < 0 else row_end
                    shape = ln.shape(text[end:row_end])  # the block's and its next line's
                    shaped = last
                if shape.startswith(seen.shape):
                    break
        else:
            return None
        closer = shape[len(seen.shape) + 1 :]
        if closer in seen.closers:
            return seen
        if seen.probe.take(ln.strip_ansi(text[last + 1 : row_end])):
            variants.remove(seen)
            self._seen_count -= 1
            return None
        if len(seen.closers) < _CLOSERS_KEPT and len(closer) <= ln.CACHED_CHARS:
            seen.closers.add(closer)
        return seen

    def _remember(self, opening: bytes, seen: _Seen) -> None:
        """Keep `seen` first among the blocks that opened with the shape `opening`."""
        if self._seen_count >= REPEATS_KEPT:
            self._seen.clear()
            self._seen_count = 0
        variants = self._seen.setdefault(opening, [])
        variants.insert(0, seen)
        self._seen_count += 1 - len(variants[VARIANTS_KEPT:])
        del variants[VARIANTS_KEPT:]

    def _store_again(self, block: Block, seen: _Seen) -> None:
        """Store `block`, of `seen`'s shape, whose key was evicted: it is new again, its lines and
        key are known, and its rank mostly too (ranking is most of the cost of a new block)."""
        if seen.ranks is None:
            seen.ranks = ShapeRanks(block.lines)
        seen.ranks.settle(block)
        self.state.blocks.add_new(block, seen.key)

    def _seen_block(
        self, text: str, head_start: int, end: int, pos: int, taken: int, block: Block
    ) -> _Seen | None:
        """What _repeat needs to know of `block`, whose opening line ends at `end`, closed by the
        line at `pos`."""
        if block.overflow is not None or pos - head_start > _REPEAT_CHARS:
            return None
        probe = Block([""] * len(block.lines), 0, block.headered, 0)
        probe.in_traceback, probe.in_statement = block.in_traceback, block.in_statement
        probe.blank_run = block.blank_run
        return _Seen(taken - 1, pos - 1 - end, ln.shape(text[end : pos - 1]), (), probe)

    def _lead_in(self, text: str, start: int) -> list[str]:
        """The lines logged just before `start` (near the start of a chunk, with the previous
        chunk's last lines), as logged (see Block.lead_in_logged)."""
        window = ln.lines_before(text, start, max(0, start - _LEAD_IN_CHARS), LEAD_IN_LINES)
        if len(window) < LEAD_IN_LINES and start < _LEAD_IN_CHARS:
            window = list(self.state.tail)[len(window) - LEAD_IN_LINES :] + window
        return window[-LEAD_IN_LINES:]

    def _close(self, block: Block) -> tuple[str, ...] | None:
        """Finish `block` and store it (or count it as a repeat); its key, None when dropped."""
        block.finish()
        if self.baseline and all(template(row) in self.baseline for row in block.lines[:8]):
            self.state.baseline_dropped += len(block.lines)
            return None
        return self.state.blocks.add(block)

    def _pool(self, line: str, key: bytes, score: int, counter: _LineCounter, start: int) -> None:
        """Keep a candidate line in the rest pool (its line number is counted only if it is new)."""
        if score < REST_MIN_SCORE:
            return
        if self.baseline and template(line) in self.baseline:
            self.state.baseline_dropped += 1
            return
        pool = self.state.pool
        entry = pool.get(key)
        if entry is not None:
            entry.count += 1
            return
        if len(pool) >= POOL_LIMIT:
            _prune(pool)
        pool[key] = PoolEntry(line, score, counter.line_no(start))

    def _update_tail(self, text: str) -> None:
        rows = text[-8000:].split("\n")
        if len(text) > 8000:
            rows = rows[1:]
        self.state.tail.extend(rows[-TAIL_LINES:])


class _Anchored:
    """Where a chunk's lines holding an anchor word start (see _candidate_starts)."""

    def __init__(self, starts: list[int], ascii_text: bool) -> None:
        self.starts, self.ascii_text = frozenset(starts), ascii_text


class _LineCounter:
    """Line numbers of positions visited in increasing order, counting each newline once."""

    def __init__(self, text: str, base: int) -> None:
        self.text, self.pos, self.number = text, 0, base + 1

    def line_no(self, pos: int) -> int:
        self.number += self.text.count("\n", self.pos, pos)
        self.pos = pos
        return self.number

    def skip(self, pos: int, number: int) -> None:
        """Move on to `pos`, known to start line `number`."""
        self.pos, self.number = pos, number


def _quick_key(line: str) -> bytes:
    """A cheap repeat key (digits dropped) for the rest pool; render.py re-keys by template."""
    return line[:300].encode("utf-8", "surrogatepass").translate(None, b"0123456789")


def _unwrap(text: str) -> str:
    """Drop transport wrapper lines (Prefect ShellOperation `PID 12 stream output:`)."""
    first, _, rest = text.partition("\n")
    return rest if rest and ln.is_wrapper_line(first) else text


def _lowered(text: str) -> bytes:
    # ASCII lowering keeps offsets aligned with `text` (full Unicode lower() may change lengths).
    if text.isascii():
        return text.encode("ascii").lower()
    return text.encode("ascii", "replace").lower()


def _candidate_starts(text: str, start: int) -> list[int]:
    """Start offsets of the lines from `start` on that contain an anchor word, in order."""
    low = _lowered(text)
    starts: list[int] = []
    next_line = start  # hits before this offset are in a line already taken (or before `start`)
    for _, hit, end in ANCHOR_FINDER.find_matches_as_indexes(low):
        if hit < next_line:
            continue
        starts.append(low.rfind(b"\n", 0, hit) + 1)
        newline = low.find(b"\n", end)
        if newline < 0:
            break
        next_line = newline + 1
    return starts


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end


def _walk_back(text: str, start: int, line: str) -> tuple[int, list[str]]:
    """For a bare exception line, the traceback frames printed right above it (pastes cut at the top)."""
    if not ln.is_exception_line(line) or ln.has_prefix(line):  # (the cheaper test first)
        return start, []
    frames: list[str] = []
    pos = start
    while pos > 0 and len(frames) < 40:
        prev = text.rfind("\n", 0, pos - 1) + 1
        row = ln.strip_ansi(text[prev : pos - 1])
        if not (ln.is_indented(row) or ln.is_frame(row) or row.startswith("Traceback (most recent")):
            break
        frames.insert(0, row)
        pos = prev
    return pos, frames


def _prune(pool: dict[bytes, PoolEntry]) -> None:
    """Keep the stronger half of the rest pool (ties: earlier lines)."""
    ranked = sorted(pool.items(), key=lambda item: (-item[1].score, item[1].line_no))
    pool.clear()
    pool.update(ranked[: POOL_LIMIT // 2])
