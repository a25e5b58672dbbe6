"""Line-level normalization: colour codes, log prefixes, stack frames. Pure: no Django.

The condenser keeps lines as they were logged (minus colour codes), so quotes stay verbatim; the
prefix split here is used to *match* lines: to tell a new log event from the continuation of the
previous one, and to build repeat templates that ignore timestamps and thread names.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import TypeVar

# No pattern of this module may tell one digit from another (no digit literal; every class takes
# all ten digits or none): results are remembered by line shape (see by_shape).

# ESC-led CSI sequences, and the bare `[32m`/`[0m` left when a paste lost its ESC bytes.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07|\[(?:\d{1,2}(?:;\d{1,3})*)?m(?=[\w\[\s]|$)")
# Its last alternative alone, for a line without ESC (nearly every line): the literal start lets the
# regex engine jump from one `[` to the next, where the whole pattern tests every position.
_BARE_ANSI = re.compile(r"\[(?:\d{1,2}(?:;\d{1,3})*)?m(?=[\w\[\s]|$)")

# One prefix token at the start of a log line: timestamps, levels, Airflow `{file.py:12}`, dbt
# `[MainThread]:`, Airbyte `source >`. Several tokens usually follow each other.
_PREFIX_TOKEN = re.compile(
    r"""(?:
      \[?\d{4}-\d{2}-\d{2}[T\ ]\d{2}:\d{2}(?::\d{2})?(?:[.,]\d+)?(?:Z|\ ?[+-]\d{2}:?\d{2}|\ UTC)?\]?
    | \d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?(?:\ ?[AP]M)?
    | [A-Z][a-z]{2}\ [\ \d]\d\ \d{2}:\d{2}:\d{2}
    | (?:source|destination|replication-orchestrator|orchestrator|platform|normalization)\ [>-](?=\s)
    | \[(?:trace|debug|info|warn(?:ing)?|error|fatal|critical)\s*\]
    | (?:TRACE|DEBUG|INFO|NOTICE|WARN(?:ING)?|ERROR|FATAL|CRITICAL|SEVERE)(?=[\s:\]|-])
    | \{[\w.\-]+:\d+\}
    )""",
    re.VERBOSE,
)
# Tokens that only make sense after a first prefix token (a dash, a thread name in brackets).
# Java loggers print "(thread) Logger(method):line -", e.g. "() LineGobbler(voidCall):82 -" or
# "i.a.w.g.DefaultReplicationWorker(run):123 -".
_TRAILING_TOKEN = re.compile(r"-(?=\s)|\[[\w\- ().]{1,40}\]:?|\||\(\)|[\w.$]{1,80}\([\w$]{0,40}\):\d+(?=\s)")
_SEPARATOR = re.compile(r"[ \t:|]*")
# The whole prefix in one match: a first token, then up to 8 more (leading or trailing kind), each
# after a separator taken whole (possessive, as the separate matches take it).
_PREFIX_RUN = re.compile(
    f"(?:{_PREFIX_TOKEN.pattern})(?:[ \\t:|]*+(?:{_PREFIX_TOKEN.pattern}|{_TRAILING_TOKEN.pattern})){{0,8}}",
    re.VERBOSE,
)
# A Java stack frame ("at com.example.Foo.bar(Foo.java:12)"); blocks.py cuts runs of them.
JAVA_FRAME = r"at\s+[\w$.<>/\-]+\("
_FRAME = re.compile(
    rf"\s*(?:{JAVA_FRAME}|File\s+\"|\.\.\.\s*\d+\s+(?:more|common frames)|Caused by:|Suppressed:)"
)
_CAUSE = re.compile(r"\s*(?:Caused by|Suppressed):")
_EXCEPTION_LINE = re.compile(
    r"(?:E\s+)?(?:(?:[a-z_][\w]*\.)+[A-Z]\w*|[A-Z]\w*(?:Error|Exception|Exit|Interrupt|Abort|Warning|Failure"
    r"|Fault|Failed|Timeout|Killed|Denied))(?::\s|:$|$)"
)
_CARET = re.compile(r"\s*[\^~]+\s*$")
_PREFECT_WRAPPER = re.compile(r"PID \d+ stream output:\s*$")
# The ASCII characters a _PREFIX_TOKEN can start with (a bracket or brace, a digit, an upper-case
# letter, the first letter of an Airbyte source name): a line starting with any other ASCII
# character, or blank, has no prefix. Most lines of a traceback start with a space.
PREFIX_FIRST = frozenset("[{0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZdnoprs")
CACHED_CHARS = 500
T = TypeVar("T")
_SPLITS: dict[str, tuple[int, int]] = {}
# A line's "shape": its UTF-8 bytes with every ASCII digit made 0 (bytes.translate costs a tenth of
# str.translate). Repeated log lines differ mostly in their timestamps and ids, so their shapes
# repeat; see by_shape.
_SHAPE_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_SHAPE_DIGITS_BUT_ZERO = bytes.maketrans(b"23456789", b"11111111")
_SPLITS_KEPT = 1024
_REMEMBERED: list[Callable[[], None]] = []


def strip_ansi(line: str) -> str:
    """`line` without terminal colour/cursor codes."""
    if "[" not in line:
        return line
    return (_ANSI if "\x1b" in line else _BARE_ANSI).sub("", line)


def strip_ansi_lines(text: str) -> list[str]:
    """The lines of `text`, each as strip_ansi gives it: without ESC, in one substitution (no
    bare code spans a newline, and the newline after one matches as `$` does at a line's end)."""
    if "\x1b" in text:
        return [strip_ansi(line) for line in text.split("\n")]
    return (_BARE_ANSI.sub("", text) if "[" in text else text).split("\n")


def remembered(size: int, *, short: bool = False) -> Callable[[Callable[[str], T]], Callable[[str], T]]:
    """A function of one line that remembers its results for the last `size` short lines.

    Error-heavy logs print the same traceback lines again and again, and a block's lines are looked
    at several times (to accept them, score and rank the block, key its repeats). Lines longer than
    CACHED_CHARS are not kept, so the memory stays small; `short` says the function is only given
    short texts, so none needs that check."""

    def decorate(function: Callable[[str], T]) -> Callable[[str], T]:
        cached = functools.lru_cache(maxsize=size)(function)
        _REMEMBERED.append(cached.cache_clear)
        if short:
            return cached

        @functools.wraps(function)
        def call(line: str) -> T:
            return cached(line) if len(line) <= CACHED_CHARS else function(line)

        return call

    return decorate


def shape(text: str) -> bytes:
    """The shape of `text` (see _SHAPE_DIGITS), as by_shape keys it."""
    return text.encode("utf-8", "surrogatepass").translate(_SHAPE_DIGITS)


def by_shape(
    size: int, *, longest: int = CACHED_CHARS, zero_apart: bool = False
) -> Callable[[Callable[[str], T]], Callable[[str], T]]:
    """A function of one line that gives all lines of one shape the same result (none of its
    patterns tells one digit from another: each \\d, \\w or class takes all ten or none, and
    nothing else looks at digits), remembered for the last `size` shapes of lines of at most
    `longest` characters (a plain dict, emptied when full). With `zero_apart`, shapes keep 0 apart
    from the other digits (made 1), for a function that also tells 0 from [1-9] ("exit code 0")."""
    digits = _SHAPE_DIGITS_BUT_ZERO if zero_apart else _SHAPE_DIGITS

    def decorate(function: Callable[[str], T]) -> Callable[[str], T]:
        known: dict[bytes, T] = {}
        _REMEMBERED.append(known.clear)

        @functools.wraps(function)
        def call(line: str) -> T:
            if len(line) > longest:
                return function(line)
            shape = line.encode("utf-8", "surrogatepass").translate(digits)
            result = known.get(shape)
            if result is None:
                result = function(line)
                if len(known) >= size:
                    known.clear()
                known[shape] = result
            return result

        return call

    return decorate


def forget() -> None:
    """Drop every remembered result: a finished scan frees that memory before the context is
    rendered (and the redaction rules are loaded), which keeps the peak RSS down."""
    _SPLITS.clear()
    for clear in _REMEMBERED:
        clear()


def split_prefix(line: str) -> tuple[int, int]:
    """(end of the last prefix token, start of the message); (0, 0) when there is no prefix.

    A block's lines are split several times (to accept them, rank the block, key its repeats), so
    the splits of recent short lines are kept, and those of their shapes (see by_shape), as a
    log's next line is mostly a known line with a new timestamp (a plain dict, emptied when full:
    this is the hottest call of an error-heavy log)."""
    first = line[:1]
    if first not in PREFIX_FIRST and first.isascii():  # a non-ASCII digit may start a timestamp
        return 0, 0
    known = _SPLITS.get(line)
    if known is not None:
        return known
    split = _split_by_shape(line)
    if len(line) > CACHED_CHARS:
        return split
    if len(_SPLITS) >= _SPLITS_KEPT:
        _SPLITS.clear()
    _SPLITS[line] = split
    return split


def _split_uncached(line: str) -> tuple[int, int]:
    match = _PREFIX_RUN.match(line)
    if match is None:
        return 0, 0
    token_end = match.end()
    return token_end, _SEPARATOR.match(line, token_end).end()  # type: ignore[union-attr]


_split_by_shape = by_shape(_SPLITS_KEPT)(_split_uncached)


def has_prefix(line: str) -> bool:
    """True when `line` starts a new log event (it carries a timestamp or level prefix)."""
    return split_prefix(line)[0] != 0  # split now, remembered: most lines asked about are split next


def inner_text(line: str) -> str:
    """The message part of a log line: everything after its prefix."""
    return line[split_prefix(line)[1] :]


def is_indented_after_prefix(line: str) -> bool:
    """True when the message after the prefix is itself indented (a nested or continued line)."""
    token_end, pos = split_prefix(line)
    gap = line[token_end:pos]
    return "\t" in gap or gap.endswith("   ")


def is_frame(text: str) -> bool:
    """A stack-trace frame: Java `at x.y(...)`, Python `File "..."`, `... 12 more`, `Caused by:`."""
    return _FRAME.match(text) is not None


def is_cause_line(text: str) -> bool:
    """Java's `Caused by: ...` / `Suppressed: ...`: part of the trace, but it carries an exception message."""
    return _CAUSE.match(text) is not None


def is_exception_line(text: str) -> bool:
    """`KeyError: 0`, `java.lang.OutOfMemoryError: ...`, `prefect.exceptions.Abort: ...` (pytest `E` ok)."""
    return _EXCEPTION_LINE.match(text) is not None


def is_caret_line(text: str) -> bool:
    """Python's `^^^^`/`~~~~` markers and SQL error position markers."""
    return _CARET.match(text) is not None and text.strip() != ""


def is_wrapper_line(text: str) -> bool:
    """Transport wrapper lines that carry no content (Prefect ShellOperation's `PID 1 stream output:`)."""
    return _PREFECT_WRAPPER.match(text) is not None


def is_indented(text: str) -> bool:
    """Starts with whitespace (and is not blank)."""
    return text[:1] in (" ", "\t") and text.strip() != ""


def lines_before(text: str, start: int, floor: int, count: int) -> list[str]:
    """The last `count` lines of `text[floor:start]`, where `start` begins a line (the first of
    them may be cut at `floor`)."""
    if count <= 0 or start <= floor:
        return []
    # One native split from the right, up to the newline that ends the line before `start`.
    return text[floor : start - 1].rsplit("\n", count)[-count:]
