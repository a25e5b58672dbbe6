"""The interface every summarizer (offline rules, LLM providers) implements. Pure: no Django."""

from __future__ import annotations

from failbrief.condense.brief import Brief, FailedUnitInfo
from failbrief.condense.condenser import Context


class Provider:
    """Turns a condensed context into a Brief. One subclass per module under providers/."""

    name: str = ""

    def write_brief(self, context: Context, unit: FailedUnitInfo) -> Brief:
        raise NotImplementedError
