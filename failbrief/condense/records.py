"""The one shape every log source is turned into before condensing. Pure: no Django."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One log record from any source.

    `message` may hold many lines (a Python traceback, a dbt block). `level` uses Python's numbers
    (10 DEBUG, 20 INFO, 30 WARNING, 40 ERROR, 50 CRITICAL) and is None when the source has none,
    e.g. a raw line of a file. `timestamp` is ISO 8601 text, or None. `source` names where it came
    from: "prefect", "airbyte", "file".
    """

    message: str
    level: int | None = None
    timestamp: str | None = None
    source: str = "file"
