"""What an error line looks like: the shared vocabulary of the condenser and the offline summarizer.

Three layers, cheapest first:

1. `ANCHORS`: lowercase substrings searched over whole chunks of the log in one pass
   (`ANCHOR_FINDER`, Aho-Corasick in Rust). A line none of them hits is never looked at again except
   as tail or lead-in context. The list stays short: rarer words (CRITICAL, "timed out", Airbyte's
   internalMessage) ride along because their lines also carry one of these words, and once a block
   is open its continuation lines are taken whatever they say.
2. `line_score`: weighted patterns over one candidate line. A score of `BLOCK_START` or more opens
   an error block (the line plus its continuation lines); lower scores are "rest" lines.
3. Specificity (`is_generic`, `has_detail`): used to rank blocks and to choose the root-cause line;
   wrapper lines ("Bash command failed", "Completed with 1 error") are true but say nothing new.

Pure: no Django. Rules are general log vocabulary (Python, Java, dbt, Airbyte, Airflow, Prefect),
never strings from one particular log.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ahocorasick_rs import AhoCorasick, BytesAhoCorasick, MatchKind

from failbrief.condense.lines import by_shape, remembered

# Lowercase substrings that make a line worth a second look: one word per family; the rare variants
# ride along.
ANCHORS: tuple[str, ...] = (
    "error",  # also ERROR, [error], OperationalError, "Database Error in model"
    "exception",  # also SocketException, prefect.exceptions.Abort, Caused by: x.FooException
    "fail",  # failed, Failure in test, FAILED, failureOrigin
    "fatal",
    "traceback",
    "warn",
    "kill",  # Killed, OOMKilled, SIGKILL
    "timeout",  # TimeoutError, SocketTimeoutException, AirflowTaskTimeout
    "crash",  # Crashed, Crash detected
    "exit",  # exited with status code, exit code 137
    "does not",  # does not exist, does not match any enabled nodes, does not have permission
)
# The same words as one chunk-level sweep: an Aho-Corasick automaton (Rust, SIMD prefilter) finds
# every occurrence of any of them in one pass over the ASCII-lowered bytes of a chunk, at several
# GB/s. Leftmost-first matches never span a newline, so every line holding an anchor has a match.
ANCHOR_FINDER = BytesAhoCorasick(
    [anchor.encode("ascii") for anchor in ANCHORS], matchkind=MatchKind.LeftmostFirst
)

BLOCK_START = 55

# (weight, gates, pattern): a line's score is the highest weight whose pattern matches. A pattern
# only runs when one of its lowercase gate substrings occurs in the line: Python's regex engine is
# slow on alternations, `in` is not. These patterns, like the benign ones, may tell 0 from the other
# digits but not 1 to 9 from each other: line_score is remembered by shape (ZERO_CONTEXTS lists where
# they tell 0 apart).
_WEIGHTED: tuple[tuple[int, tuple[str, ...], re.Pattern[str]], ...] = tuple(
    (weight, tuple(gates.split("|")), re.compile(pattern))
    for weight, gates, pattern in (
        (90, "traceback|exception in thread", r"Traceback \(most recent call last\)|Exception in thread \""),
        (
            85,
            " error",
            r"\b(?:Database|Compilation|Runtime|Parsing|Dependency|Internal|Validation|Env(?:ironment)?"
            r"|Deps|Connection|Permission|Syntax|Catalog|Adapter) Error\b",
        ),
        (85, "failure in", r"\bFailure in (?:test|model|snapshot|seed|source|unit_test|operation|macro)\b"),
        (85, "got ", r"\bGot \d+ results?, configured to (?:fail|warn)"),
        (
            85,
            "failure|nalmessage",
            r"failureOrigin|failureType|failure_type|internalMessage|externalMessage|Failure reason",
        ),
        (85, "internal", r"internally failed|Internal error"),
        (80, "caused by", r"^\s*Caused by:"),
        # Exception classes: FooError, BarException, and the Timeout classes of HTTP clients
        # (httpx.ReadTimeout, requests ConnectTimeout) that end in neither.
        (80, "exception|error|timeout", r"\b[A-Z]\w*(?:Exception|Error|Timeout)\b(?::|$)"),
        # A class from an errors/exceptions module: psycopg.errors.UndefinedTable, sqlalchemy.exc.X,
        # google.api_core.exceptions.NotFound; the class name itself need not end in Error.
        (80, "errors.|exceptions.|exc.", r"\b(?:[a-z_]\w*\.)+(?:errors|exceptions|exc)\.[A-Z]\w*(?::\s|$)"),
        (75, "kill|memory", r"\b(?:OOMKilled|OutOfMemory\w*|SIGKILL|Killed\b|out of memory|Out of memory)"),
        (
            70,
            "error|fatal|critical|severe|failed",
            r"\b(?:ERROR|FATAL|CRITICAL|SEVERE|FAILED)\b(?!=)|\[error\s*\]|\bfatal:|\bFatal\b",
        ),
        (70, "crash", r"(?i)\b(?:crash detected|crashed|has crashed)\b"),
        # R reports an error as "Error in <call>:" (base R and rlang) on a line of its own.
        (65, "error", r"(?i)\berror:|\berror\b.*\b(?:occurred|encountered|while)\b|^Error in \S.{0,200}:"),
        (
            65,
            "exit|non-zero|return",
            r"(?i)\bexited with (?:status|return|exit)? ?code|non-zero (?:exit|status)|return(?:ed)? "
            r"(?:non-zero|code [1-9])|failed with (?:exit|return) code|exit (?:code|status):? [1-9]",
        ),
        (
            65,
            "failed|crashed|killed|timed out",
            r"(?i)\b(?:task|job|run|sync|step|command|process|attempt) (?:\S+ ){0,3}"
            r"(?:failed|crashed|was killed|timed out)",
        ),
        # A message that opens with "Failed to <verb>" is an error statement (Java and Python
        # libraries log it at any level); lines logged at WARN/INFO/DEBUG stay rest lines.
        (
            65,
            "failed to",
            r"^(?!.*\b(?:WARN|WARNING|INFO|DEBUG)\b).*\bFailed to [a-z]+",
        ),
        (
            65,
            "failed|encountered an",
            r"\b\d+ failed\b|\bEncountered an (?:error|exception)\b|failed with exception",
        ),
        (
            60,
            "timed out|timeout|deadline|abort",
            r"(?i)\b(?:timed out|timeout expired|deadline exceeded)\b|\bAbort(?:ed)?\b",
        ),
        (45, "denied|refused", r"(?i)permission denied|access denied|connection refused"),
        (40, "warn", r"\b(?:WARN|WARNING)\b|\[warn\s*\]|\bWarning:"),
        (35, "fail|error|exception", r"(?i)\bfail(?:ed|ure|ing|s)?\b|\berrors?\b|\bexception\b"),
        (20, "", r""),
    )
)

# No line scores higher: a block that reached it needs no more scoring.
MAX_LINE_SCORE = max(weight for weight, _, _ in _WEIGHTED)

# True but harmless: configuration dumps, telemetry, zero-error summaries, SQL test scaffolding.
_BENIGN_SUBSTRINGS: tuple[str, ...] = (
    "an error was encountered while trying to send",
    "an error was encountered while trying to flush",
    "sending event",
    "'warn_error",
    "warn_error_options",
    "should_warn",
    "should_error",
    "fail_calc",
    "error_if",
    "warn_if",
    "store_failures",
    "fail_fast",
    "on_error",
    "error=0",
    "fail=0",
    "errors=0",
    "failures=0",
    "failed=0",
    " 0 errors",
    " 0 error ",
    " 0 failures",
    " 0 failed",
    "completed successfully",
    'command_success": true',
    "__exit__",
    "exit_stack",
    "exitstack",
    "retry_on_failure",
    "failure_policy",
)
_BENIGN_PATTERN = re.compile(r"\bWARN=\d+ ERROR=0|\"level\": \"(?:info|debug)\"")
# Every context in which line_score tells 0 from the other digits (`exit code [1-9]`, `returned
# code [1-9]`, the zero-error summaries, `ERROR=0`), as found in a lowered ASCII line with its
# digits made 0: a line holding none of them scores as every line of its shape does.
ZERO_CONTEXTS: tuple[bytes, ...] = (
    b"exit code 0",
    b"exit code: 0",
    b"exit status 0",
    b"exit status: 0",
    b"return code 0",
    b"returned code 0",
    *(word.encode("ascii") for word in _BENIGN_SUBSTRINGS if "0" in word),
)

# Wrappers: report that something failed without saying what. Ranked below specific lines.
_GENERIC_GATES = (
    "non-zero", "return", "exit", "status code", "command", "task failed", "job", "marking",
    "finished in state", "completed with", "done.", " of ", "encountered", "crash", "did not succeed",
    "went wrong", "task run failed", "flow run", "marking all", "running sql", "rolling back",
    "runtime error", "database error", "compilation error", "adapter: http", "see the logs", "sync failed",
    "attempt", "failed", "to see where",
)  # fmt: skip
# Each wrapper pattern with the lowercase literal that every match of it holds: on ASCII text only
# the patterns whose literal is in the line run (one big case-insensitive alternation costs about
# 10 us a line, Python's regex engine tries every alternative at every position).
_GENERIC_ALTERNATIVES: tuple[tuple[str, str], ...] = (
    ("non-zero ", r"non-zero (?:exit|status)"),
    ("return", r"returned? (?:non-zero|code)"),
    ("exited with", r"exited with"),
    ("exit code", r"exit code"),
    ("status code", r"status code"),
    ("failed with return code", r"failed with return code"),
    ("command failed", r"command failed"),
    ("task failed with exception", r"Task failed with exception"),
    ("failed to execute job", r"failed to execute job"),
    ("marking task as failed", r"Marking task as FAILED"),
    ("finished in state", r"Finished in state"),
    ("completed with ", r"Completed with \d+ errors?"),
    ("done. pass=", r"Done\. PASS="),
    (" of ", r"\d of \d+ (?:ERROR|FAIL)"),  # (only whether a pattern matches counts: one digit will do)
    ("error creating", r"ERROR creating"),
    ("encountered an error", r"Encountered an error:?\s*$"),
    ("crash detected", r"Crash detected"),
    ("did not succeed", r"did not succeed"),
    ("something went wrong in the connector", r"Something went wrong in the connector"),
    ("task run failed with exception", r"Task run failed with exception"),
    ("flow run encountered an exception", r"Flow run encountered an exception"),
    ("encountered exception during execution", r"Encountered exception during execution"),
    ("reported flow run ", r"Reported flow run .* as crashed"),
    ("marking all children", r"Marking all children"),
    ("error running sql", r"Error running SQL"),
    ("rolling back", r"Rolling back"),
    ("runtime error", r"^\s*Runtime Error\s*$"),
    (" error", r"^\s*(?:Database|Compilation) Error\s*$"),
    ("bigquery adapter: http", r"BigQuery adapter: https?://"),
    ("see the logs for more details", r"See the logs for more details"),
    ("sync failed", r"Sync failed"),
    ("attempt ", r"Attempt \d+ failed"),
    ("job ", r"job \d+ failed"),
    ("command `", r"Command `[^`]*` failed"),
    ("to see where the error occurred", r"to see where the error occurred"),
)
_GENERIC = re.compile("(?i)" + "|".join(pattern for _, pattern in _GENERIC_ALTERNATIVES))


def _for_lowered(pattern: str) -> Callable[[str], re.Match[str] | None]:
    """The search for `(?i)pattern` in an ASCII text, as a case-sensitive search in the text
    lowered: it finds the same matches, and a literal start lets the regex engine jump to it (a
    case-insensitive search tries every position); a pattern anchored at the start is matched
    there only."""
    if re.search(r"\\[A-Z]", pattern):  # \S, \W, \D would change meaning
        raise ValueError(f"cannot lower {pattern!r}")
    compiled = re.compile(pattern.lower())
    return compiled.match if pattern.startswith("^") else compiled.search


_GENERIC_LOWER = tuple(_for_lowered(pattern) for _, pattern in _GENERIC_ALTERNATIVES)
_GENERIC_LITERALS = AhoCorasick([gate for gate, _ in _GENERIC_ALTERNATIVES])

# Lines that name the concrete problem: what is missing, denied, malformed or exhausted.
_DETAIL_WORDS: tuple[str, ...] = (
    "does not exist",
    "doesn't exist",
    "not found",
    "no such",
    "not exist",
    "denied",
    "forbidden",
    "unauthorized",
    "unauthorised",
    "refused",
    "reset by peer",
    "connection reset",
    "already exists",
    "unrecognized",
    "unrecognised",
    "invalid",
    "no module named",
    "cannot import",
    "out of memory",
    "heap space",
    "too many requests",
    "rate limit",
    "quota",
    "timed out",
    "timeout",
    "syntax error",
    "permission",
    "could not",
    "cannot",
    "can't",
    "unable to",
    "unexpected",
    "missing",
    "unsupported",
    "not supported",
    "incompatible",
    "mismatch",
    "duplicate",
    "violat",
    "overflow",
    "expected",
    "required",
    "failed to connect",
    "failed to resolve",
    "failed to authenticate",
    "authentication failed",
    "incorrect",
    "not allowed",
    "not permitted",
    "rejected",
    "undefined",
    "null value",
    "ambiguous",
    "conflict",
    "exceed",
    "limit",
)
_DETAIL = re.compile(r"(?i)\b429\b|got \d+ results?|no \S+ found|must (?:have|be|appear)")
# Whether _DETAIL matches an ASCII text, asked of the text lowered: every alternative starts with
# a letter or digit, so the regex engine skips to those instead of trying every position.
_DETAIL_LOWER = re.compile(r"429(?<!\w429)\b|got \d+ results?|no \S+ found|must (?:have|be|appear)")


class _Words:
    """Whether any of a fixed set of lowercase words occurs in a lowercased text: one native
    Aho-Corasick pass instead of one `in` test per word."""

    def __init__(self, words: tuple[str, ...]) -> None:
        self.words = words
        self._finder = AhoCorasick(words, matchkind=MatchKind.LeftmostFirst)

    def any_in(self, low: str) -> bool:
        try:
            return bool(self._finder.find_matches_as_indexes(low))
        except UnicodeEncodeError:  # a lone surrogate (a JSON "\ud83d" escape) has no UTF-8 form
            return any(word in low for word in self.words)


_ANCHOR_WORDS = _Words(ANCHORS)
_BENIGN_WORDS = _Words(_BENIGN_SUBSTRINGS)
_GENERIC_WORDS = _Words(_GENERIC_GATES)
_DETAIL_ANY = _Words(_DETAIL_WORDS)


@by_shape(2048, zero_apart=True)
def line_score(line: str) -> int:
    """How strongly `line` (colour codes stripped, prefix kept) signals an error; 0 if not at all.

    Remembered by shape: no pattern tells one digit of 1 to 9 from another."""
    low = line.lower()
    if not _ANCHOR_WORDS.any_in(low):
        return 0
    if _is_benign_lowered(line, low):
        return 5
    for weight, gates, pattern in _WEIGHTED:
        for gate in gates:
            if gate in low:
                if pattern.search(line):
                    return weight
                break
    return 0


def is_generic(text: str) -> bool:
    """A wrapper line that reports a failure without naming its cause."""
    low = text.lower()
    if not _GENERIC_WORDS.any_in(low):
        return False
    if not text.isascii():  # case-insensitive matching folds some non-ASCII letters: run them all
        return _GENERIC.search(text) is not None
    found = {index for index, _, _ in _GENERIC_LITERALS.find_matches_as_indexes(low, overlapping=True)}
    return any(_GENERIC_LOWER[index](low) is not None for index in found)


def has_detail(text: str) -> bool:
    """A line that names the concrete problem (missing object, denial, bad syntax, exhausted limit)."""
    low = text.lower()
    if _DETAIL_ANY.any_in(low):
        return True
    gated = "429" in low or "got " in low or " found" in low or "must " in low  # _DETAIL's literals
    return gated and _DETAIL.search(text) is not None


# Every word either test above looks for, for one pass over an ASCII line that answers both.
_RANK_WORDS: tuple[str, ...] = (
    *_GENERIC_GATES,
    *(literal for literal, _ in _GENERIC_ALTERNATIVES),
    *_DETAIL_WORDS,
)
# Over bytes: the str search converts offsets to characters, which costs more than the search.
_RANK_FINDER = BytesAhoCorasick([word.encode("ascii") for word in _RANK_WORDS], matchkind=MatchKind.Standard)
_FIRST_LITERAL = len(_GENERIC_GATES)
_FIRST_DETAIL = _FIRST_LITERAL + len(_GENERIC_ALTERNATIVES)


@remembered(2048)
def detail_and_generic(text: str) -> tuple[bool, bool]:
    """(has_detail(text), is_generic(text)), with one lowering and one word search on ASCII text:
    a block's rank asks both of each of its message lines (remembered: blocks repeat)."""
    if not text.isascii():
        return has_detail(text), is_generic(text)
    low = text.lower()
    detail = gate = False
    literals: set[int] = set()
    for index, _, _ in _RANK_FINDER.find_matches_as_indexes(low.encode("ascii"), overlapping=True):
        if index >= _FIRST_DETAIL:
            detail = True
        elif index >= _FIRST_LITERAL:
            literals.add(index - _FIRST_LITERAL)
        else:
            gate = True
    if not detail and ("429" in low or "got " in low or " found" in low or "must " in low):
        detail = _DETAIL_LOWER.search(low) is not None
    generic = gate and any(_GENERIC_LOWER[index](low) is not None for index in literals)
    return detail, generic


def is_benign(text: str) -> bool:
    """Error vocabulary that is routine noise (telemetry, config dumps, zero-error summaries)."""
    return _is_benign_lowered(text, text.lower())


def _is_benign_lowered(text: str, low: str) -> bool:
    if _BENIGN_WORDS.any_in(low):
        return True
    return ("warn=" in low or '"level"' in low) and _BENIGN_PATTERN.search(text) is not None
