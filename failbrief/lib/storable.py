"""Text no database column can hold. Pure: no Django.

PostgreSQL refuses NUL characters in text, and neither PostgreSQL nor SQLite can encode a lone
UTF-16 surrogate (JSON's "\\ud800"): such a value reaching a query is a 500 for the caller and, for
a webhook, an event we could not store. Inputs are checked with this before they get that far."""

from __future__ import annotations

from typing import Any

MAX_DEPTH = 64  # deeper JSON is no webhook or API body we know, and recursion has a limit


def unstorable(value: Any, depth: int = 0) -> str | None:
    """Why `value` (a decoded JSON value) cannot be stored, or None when it can."""
    if depth > MAX_DEPTH:
        return f"it is nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, str):
        return unstorable_text(value)
    if isinstance(value, dict):
        items: list[Any] = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        if why := unstorable(item, depth + 1):
            return why
    return None


def unstorable_text(text: str) -> str | None:
    if "\x00" in text:
        return "it contains a NUL character (\\u0000)"
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "it contains an unpaired UTF-16 surrogate (e.g. \\ud800)"
    return None
