"""Every summarizer, at a glance, and which one (with which model) an org's failures go to."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from failbrief.orgs.models import Org
from failbrief.summarize.providers.anthropic import AnthropicProvider
from failbrief.summarize.providers.base import Provider
from failbrief.summarize.providers.links import host_of
from failbrief.summarize.providers.llm_common import LlmConfig, LlmProvider
from failbrief.summarize.providers.offline import OfflineProvider
from failbrief.summarize.providers.openai import OpenAIProvider

OFFLINE = "offline"
PROVIDERS: dict[str, type[Provider]] = {
    OFFLINE: OfflineProvider,
    "openai": OpenAIProvider,
    "anthropic": AnthropicProvider,
}
LLM_PROVIDERS: dict[str, type[LlmProvider]] = {"openai": OpenAIProvider, "anthropic": AnthropicProvider}


@dataclass(frozen=True)
class Choice:
    """The provider and model an org's logs go to."""

    provider: str
    model: str


def choice_for(org: Org) -> Choice | None:
    """The org's provider (its override, else LLM_PROVIDER) and model (its override; else LLM_MODEL
    when that belongs to the same provider; else the provider's default). None = offline: the org
    has not opted in, or the provider is offline."""
    name = provider_name_for(org)
    if not org.llm_optin or name not in LLM_PROVIDERS:
        return None
    return Choice(name, model_for(name, org.llm_model))


def provider_name_for(org: Org) -> str:
    """The org's provider override, else LLM_PROVIDER (whether or not the org has opted in)."""
    return org.llm_provider or str(settings.LLM_PROVIDER)


def model_for(provider: str, org_model: str) -> str:
    if org_model:
        return org_model
    if provider == settings.LLM_PROVIDER and settings.LLM_MODEL:
        return str(settings.LLM_MODEL)
    kind = LLM_PROVIDERS.get(provider)
    return kind.default_model if kind else ""


def known_hosts(org: Org) -> tuple[str, ...]:
    """The hosts an LLM's text may link to besides documentation sites (providers/links.py): the
    Prefect UI, failbrief's pages and the run links' host, and the org's own Airbyte (not the
    operator's shared one, whose address an org is never shown)."""
    run_url = str(settings.RUN_URL_TEMPLATE).format(
        prefect_ui=settings.PREFECT_UI_URL, flow_run_id="x", org="x"
    )
    urls = (settings.PREFECT_UI_URL, settings.PUBLIC_URL, run_url, org.airbyte_url)
    return tuple(dict.fromkeys(host for url in urls if (host := host_of(str(url or "")))))


def provider(name: str, model: str = "", hosts: tuple[str, ...] = ()) -> Provider:
    """The provider `name` (with `model`, for an LLM), configured from settings (keys stay in
    settings); `hosts` are the org's `known_hosts`."""
    kind = PROVIDERS[name]
    if not issubclass(kind, LlmProvider):
        return kind()
    keys = {
        "openai": (settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL),
        "anthropic": (settings.ANTHROPIC_API_KEY, settings.ANTHROPIC_BASE_URL),
    }
    api_key, base_url = keys[name]
    return kind(
        LlmConfig(
            model=model,
            api_key=api_key,
            base_url=base_url,
            timeout_seconds=settings.LLM_TIMEOUT_SECONDS,
            deadline_seconds=settings.LLM_DEADLINE_SECONDS,
            max_retries=settings.LLM_MAX_RETRIES,
            max_concurrency=settings.LLM_MAX_CONCURRENCY,
            known_hosts=hosts,
        )
    )
