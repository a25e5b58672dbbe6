"""Repeat templates: a line with its varying parts (numbers, ids, timestamps) masked. Pure: no Django.

Two lines with the same template are "the same line" for collapsing repeats, for folding repeated
error blocks, and for the baseline diff against successful runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from failbrief.condense.lines import by_shape, inner_text, remembered, strip_ansi

# Any run of hex-ish characters holding a digit: numbers, times, dates, versions, uuids, hashes,
# pointers. One leading character class keeps the regex engine on its fast path.
_VARYING = re.compile(r"[0-9a-fA-Fx]*\d[0-9a-fA-F.:\-]*")
# The same matches on ASCII text (where \d is [0-9]), found faster: possessive runs do not
# backtrack, so a run of hex letters without a digit fails at once, and the leading character
# class lets the regex engine skip to the next hex-ish character instead of trying every position.
# (A digit needs nothing before it; a hex letter, the rest of its run and then a digit.)
_VARYING_ASCII = re.compile(
    r"[0-9a-fA-Fx](?:(?<=[0-9])|[a-fA-Fx]*+[0-9])(?:[a-fA-Fx]*+[0-9])*+[0-9a-fA-F.:\-]*+"
)
_PREFECT_FINAL = re.compile(r"Finished in state (\w+)\('(?:Task|Flow) run encountered an exception:? ?")
MAX_TEMPLATE_CHARS = 300


@by_shape(8192)
def template(line: str) -> str:
    """The repeat key of one line: prefix dropped, varying tokens masked, whitespace squeezed.

    No step tells one digit from another and every digit is masked, so a line's repeats with new
    timestamps and ids share its template: it is remembered by shape."""
    text = inner_text(strip_ansi(line))
    # Prefect echoes the same failure from the task and from the flow; fold both into one key.
    if "Finished in state" in text:
        text = _PREFECT_FINAL.sub(r"Finished in state \1('", text)
    return _masked(text[:MAX_TEMPLATE_CHARS])


@remembered(2048, short=True)
def _masked(text: str) -> str:
    """A message with its varying tokens masked: remembered apart from the line, because a
    repeated message usually comes with a fresh timestamp."""
    text = (_VARYING_ASCII if text.isascii() else _VARYING).sub("#", text)
    return " ".join(text.split()).rstrip(".:")  # whitespace runs squeezed, ends stripped


def template_set(lines: Iterable[str], limit: int = 200_000) -> set[str]:
    """Templates of `lines`, at most `limit` of them (bounded memory for large baselines)."""
    seen: set[str] = set()
    for line in lines:
        key = template(line)
        if key:
            seen.add(key)
            if len(seen) >= limit:
                break
    return seen
