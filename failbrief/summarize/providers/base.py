"""The interface every summarizer (offline rules, LLM providers) implements. Pure: no Django."""

from __future__ import annotations

from dataclasses import dataclass

from failbrief.condense.brief import Brief, FailedUnitInfo
from failbrief.condense.condenser import Context


@dataclass(frozen=True)
class Answer:
    """A provider's brief and what it cost: the model that wrote it and its tokens (none for rules)."""

    brief: Brief
    model: str = ""
    tokens_in: int | None = None
    tokens_out: int | None = None
    requests: int = 0  # LLM requests: 1, or 2 after a repair request (retries of one are not counted)


class Provider:
    """Turns a condensed context into a Brief. One subclass per module under providers/. The writer
    (summarize/writer.py) calls `answer` on every provider, the offline rules included."""

    name: str = ""

    def write_brief(self, context: Context, unit: FailedUnitInfo) -> Brief:
        raise NotImplementedError

    def answer(self, context: Context, unit: FailedUnitInfo, org_name: str = "") -> Answer:
        """The brief with what it cost. Raises the provider's own errors (an LLM's: LlmError)."""
        return Answer(self.write_brief(context, unit))

    def secrets(self) -> tuple[str, ...]:
        """What must never show in a stored error message (an LLM provider's API key)."""
        return ()
