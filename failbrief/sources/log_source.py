"""Where a failed unit's log records come from: one interface, as notify has one for channels and
the brief writer one for providers. Prefect's logs of the failing run (prefect_logs.py), Airbyte's
logs of a sync's job attempt (airbyte_logs.py) and the baseline, the same task's logs in recent
successful runs (baseline.py), implement it; the unit pipeline (summarize/pipeline.py) reads logs
only through it, taking the first of the failing unit's sources that has logs."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar

from failbrief.condense.records import LogRecord


@dataclass
class UnitLogs:
    """The records to condense, and what the summary row should say about where they came from."""

    records: list[LogRecord]
    source: str  # prefect | airbyte | baseline
    note: str = ""  # said plainly in the summary, e.g. why a better source was not used
    preamble: str = ""  # goes ahead of the log lines in the context (e.g. Airbyte's failure summary)
    waited_seconds: float = 0.0
    row_fields: dict[str, object] = field(default_factory=dict)  # e.g. airbyte_job_id, attempt number
    # What the source tells of the unit besides its lines (FailedUnitInfo fields: an Airbyte
    # attempt's status and failure message).
    facts: dict[str, str] = field(default_factory=dict)


class NoLogs(Exception):
    """The source has no logs to give for the unit. `note` says why, for the reader of the summary
    ("" when the source does not apply to the unit); `row_fields` are stored all the same."""

    def __init__(self, note: str = "", row_fields: dict[str, object] | None = None) -> None:
        super().__init__(note or "no logs")
        self.note = note
        self.row_fields = row_fields or {}


class LogSource(ABC):
    """The logs of one unit, from one place. Made for the unit it reads."""

    name: ClassVar[str]

    @abstractmethod
    def read(self) -> UnitLogs:
        """The unit's records. Raises NoLogs when the source has none to give; a service that is
        down raises its client's error (an ApiUnavailable is retried by the task)."""
