"""Characters that change what a text shows without being seen, written out instead. Pure.

A log line, an API's error body or an LLM's answer can hold a bidi override (U+202E before
`hs.xif` shows it as `fix.sh`: a shown command reads otherwise than it runs), a zero-width
space splitting a word unseen, Unicode tag characters carrying hidden text, or control characters
(NUL, which no PostgreSQL text column holds). Each is replaced by its code point, `[U+202E]`, in
every text failbrief stores, shows, notifies or sends: redact() applies it (redact.py).

Kept as they are: tab, newline, carriage return, ESC (the condenser strips ANSI colours, whose
sequences start with it) and the zero-width joiners between two non-ASCII characters, which
Indic scripts and emoji need.
"""

from __future__ import annotations

import re

_HIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f"  # C0 and C1 controls
    "\u00ad\u061c\u180e\u200b\u200e\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff"
    "\U000e0000-\U000e007f]"  # tag characters
    "|(?<=[\x00-\x7f])[\u200c\u200d]|[\u200c\u200d](?=[\x00-\x7f])"
)


# Any character _HIDDEN may match, as one class: finding none is the common case, and a plain class
# is searched several times faster than _HIDDEN's alternatives.
_ANY = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1a\x1c-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u2069\ufeff\U000e0000-\U000e007f]"
)


def visible(text: str) -> str:
    """`text` with every hidden character written as `[U+XXXX]`. Idempotent."""
    if _ANY.search(text) is None:
        return text
    return _HIDDEN.sub(lambda found: f"[U+{ord(found.group(0)):04X}]", text)
