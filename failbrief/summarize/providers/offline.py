"""The offline summarizer as a provider: the condenser's own rule-based brief (condense/offline.py)."""

from __future__ import annotations

from failbrief.condense import offline
from failbrief.condense.brief import Brief, FailedUnitInfo
from failbrief.condense.condenser import Context
from failbrief.summarize.providers.base import Provider


class OfflineProvider(Provider):
    """Rule-based Brief: root cause, failing step, category, evidence, fix. No network, no model."""

    name = "offline"

    def write_brief(self, context: Context, unit: FailedUnitInfo) -> Brief:
        return offline.write_brief(context, unit)
