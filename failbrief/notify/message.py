"""What a notification says, whatever the channel. Pure: no Django, so channels and their tests
need no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

EVIDENCE_LINES = 3  # a message quotes at most this many log lines; the run page has the rest
# The "Logs used" line: enough for the reason to show, short of the whole error a note may quote
# (the run page has all of it).
LOGS_USED_CHARS = 200
_LOGS = {"prefect": "Prefect's logs", "airbyte": "Airbyte's logs"}


@dataclass(frozen=True)
class Message:
    """One failed run's summary as a channel shows it.

    `repeat_count` is 1 for a first failure. A repeat notice ("failing again (N×)") has
    `repeat_count` N ≥ 2: the same failure signature failed N times since the first message, and
    the fields describe the latest of those runs."""

    org: str
    flow_run_id: str
    flow_run_name: str
    deployment: str  # the deployment's name, or "" when the run has none
    failing_step: str  # the task (or subflow) that failed
    category: str
    root_cause: str  # "" = the logs do not show the cause
    suggested_fix: str
    run_url: str  # the run's page
    summary_id: int
    confidence: str = ""
    evidence: tuple[str, ...] = ()
    summarizer: str = ""  # offline | openai | anthropic | cascade | …
    failed_at: datetime | None = None
    repeat_count: int = 1
    first_failed_at: datetime | None = None  # of a repeat notice: when the first of the N failed
    # The team's note on this failure signature: "… — NAME, DATE" (failbrief/pages/notes.py)
    team_note: str = ""
    # One short line when the brief was not written from the unit's best logs, e.g. "Prefect's
    # logs, Airbyte could not be read (…": see logs_used_line.
    logs_used: str = ""
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def is_repeat(self) -> bool:
        return self.repeat_count > 1

    @property
    def title(self) -> str:
        what = self.deployment or self.flow_run_name or self.flow_run_id
        if self.is_repeat:
            return f"{what} failing again ({self.repeat_count}×)"
        return f"{what} failed"

    @property
    def root_cause_text(self) -> str:
        return self.root_cause or "Insufficient evidence: the logs do not show the cause of this failure."


def shorten(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with "…" when it was cut. Chat APIs reject
    (not truncate) an over-long field, so every channel cuts to its own limits first."""
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…" if limit > 0 else ""


def logs_used_line(log_source: str, source_note: str) -> str:
    """The summary's source note as one short line naming the logs the brief was written from,
    "" when there is no note (the brief rests on the unit's own logs)."""
    note = " ".join(source_note.split())
    if not note:
        return ""
    logs = _LOGS.get(log_source)
    return shorten(f"{logs}, {note}" if logs else note, LOGS_USED_CHARS)


def format_time(moment: datetime) -> str:
    """A moment as "2025-03-01 14:05 UTC" (a naive datetime is taken as UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def facts(message: Message) -> list[tuple[str, str]]:
    """The short labelled facts every channel shows under the title, empty ones left out."""
    rows = [
        ("Flow run", message.flow_run_name or message.flow_run_id),
        ("Failing step", message.failing_step),
        ("Category", message.category),
    ]
    if message.is_repeat and message.first_failed_at:
        rows.append(("First failed", format_time(message.first_failed_at)))
    elif message.failed_at:
        rows.append(("Failed at", format_time(message.failed_at)))
    # Shown next to the cause, not in a footer: a guessed cause must not read as a certain one.
    rows.append(("Confidence", message.confidence))
    # Beside the confidence, for the same reason: a brief from fallback logs (Prefect's "Job 4567
    # failed." instead of Airbyte's own) says less than it would have.
    rows.append(("Logs used", message.logs_used))
    rows.append(("Last time", message.team_note))
    return [(label, value) for label, value in rows if value]


def evidence_lines(message: Message) -> tuple[str, ...]:
    return tuple(line for line in message.evidence[:EVIDENCE_LINES] if line.strip())


def footer(message: Message) -> str:
    """ "summary #42 · summarizer: openai": which brief this is and who wrote it, since an LLM's
    fix reads as advice and the reader must be able to tell it from the rules' own."""
    parts = [f"summary #{message.summary_id}" if message.summary_id else ""]
    parts += [f"summarizer: {message.summarizer}" if message.summarizer else ""]
    return " · ".join(part for part in parts if part)


def plain_text(message: Message) -> str:
    """The whole message as plain text (an email's text part, a chat message's fallback)."""
    parts = [message.title, ""]
    parts += [f"{label}: {value}" for label, value in facts(message)]
    parts += ["", "Root cause:", message.root_cause_text]
    if message.suggested_fix:
        parts += ["", "Suggested fix:", message.suggested_fix]
    if evidence := evidence_lines(message):
        parts += ["", "Evidence:", *(f"    {line}" for line in evidence)]
    if message.run_url:
        parts += ["", f"Run: {message.run_url}"]
    return "\n".join(parts) + "\n"
