"""Text for chats that render Markdown (Discord embeds, Teams cards).

A log line, an API's error body or a run name templated from parameters may hold a Markdown link:
rendered, `[Rotate the password here](https://evil.example)` shows only its label, under
failbrief's name. Breaking the syntax with one space keeps every word and the URL readable (and a
bare URL still links, showing where it goes)."""

from __future__ import annotations

import dataclasses
import re

from failbrief.notify.message import Message

# `](` before a URL scheme (optionally inside `<>`): CommonMark allows no space between `]` and `(`.
_LINK = re.compile(r"\]\s*\(\s*(?=<?[A-Za-z][A-Za-z0-9+.-]*:)")
_OURS = {"run_url"}  # made by failbrief, not read from a log


def unlinked(text: str) -> str:
    return _LINK.sub("] (", text)


def without_links(message: Message) -> Message:
    """`message` with every text that came from Prefect, a log or an LLM unlinked."""
    changes: dict[str, object] = {}
    for field in dataclasses.fields(message):
        value = getattr(message, field.name)
        if field.name in _OURS:
            continue
        if isinstance(value, str):
            changes[field.name] = unlinked(value)
        elif isinstance(value, tuple):
            changes[field.name] = tuple(unlinked(item) if isinstance(item, str) else item for item in value)
        elif isinstance(value, dict):
            changes[field.name] = {key: unlinked(item) for key, item in value.items()}
    return dataclasses.replace(message, **changes)  # type: ignore[arg-type]
