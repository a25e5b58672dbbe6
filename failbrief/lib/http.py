"""Small helpers shared by our HTTP clients (Prefect, Airbyte). Pure: no Django, no settings."""

from __future__ import annotations

import email.utils
import random
from datetime import UTC, datetime

import httpx


def excerpt(content: bytes, limit: int = 200) -> str:
    """The start of a response body on one line, for error messages."""
    text = " ".join(content.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[:limit] + "..."


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Retry-After as seconds (a number of seconds or an HTTP date; OpenAI-style APIs also send
    retry-after-ms); None when absent or unreadable."""
    millis, value = headers.get("retry-after-ms"), headers.get("retry-after")
    try:
        if millis:
            return max(0.0, float(millis) / 1000)
        if value:
            return max(0.0, float(value))
    except ValueError:
        pass
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def backoff_seconds(attempt: int, retry_after: float | None, base: float, cap: float) -> float:
    """Exponential backoff with full jitter, or the server's Retry-After, never more than `cap`."""
    if retry_after is not None:
        return max(0.0, min(retry_after, cap))
    return random.uniform(0.0, min(cap, base * 2**attempt))
