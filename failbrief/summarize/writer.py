"""Context in, brief out: which summarizer writes the brief for this org, and what the call cost."""

from __future__ import annotations

from dataclasses import dataclass, field

from failbrief.orgs.models import Org
from failbrief.summarize.condense import Context
from failbrief.summarize.providers.base import Brief, FailedUnitInfo
from failbrief.summarize.providers.registry import provider_for


@dataclass
class Written:
    brief: Brief
    summarizer: str
    row_fields: dict[str, object] = field(
        default_factory=dict
    )  # provider, model, tokens, latency, llm_error…


def write_brief(org: Org, context: Context, unit: FailedUnitInfo) -> Written:
    """The brief for this org's failure. Never raises for a provider's fault: it falls back to the
    offline brief and records why."""
    provider = provider_for()
    return Written(brief=provider.write_brief(context, unit), summarizer=provider.name)
