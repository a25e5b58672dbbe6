"""Every summarizer, at a glance. LLM providers join this registry in their own modules."""

from __future__ import annotations

from django.conf import settings

from failbrief.summarize.providers.base import Provider
from failbrief.summarize.providers.offline import OfflineProvider

PROVIDERS: dict[str, type[Provider]] = {"offline": OfflineProvider}


def provider_for() -> Provider:
    """The configured provider (LLM_PROVIDER, validated in settings)."""
    return PROVIDERS[settings.LLM_PROVIDER]()
