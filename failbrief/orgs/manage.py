"""Org and token management, shared by the CLI and `failbrief run`'s first-start bootstrap."""

from __future__ import annotations

from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone

from failbrief.orgs.models import ApiToken, DeploymentOrg, Org
from failbrief.orgs.secrets import new_secret, secret_hash
from failbrief.orgs.vault import seal


class OrgError(ValueError):
    """A management request that cannot be done; the message says why."""


def add_org(slug: str, *, name: str = "", default: bool = False, webhook_key: str | None = None) -> Org:
    try:
        validate_slug(slug)
    except ValidationError:
        raise OrgError(f"{slug!r} is not a valid slug: use letters, digits, '-' and '_'") from None
    if Org.objects.filter(slug=slug).exists():
        raise OrgError(f"org {slug!r} already exists")
    with transaction.atomic():
        if default:
            Org.objects.filter(is_default=True).update(is_default=False)
        return Org.objects.create(
            slug=slug,
            name=name or slug,
            is_default=default,
            webhook_key_hash=secret_hash(webhook_key) if webhook_key else None,
        )


def get_org(slug: str) -> Org:
    org = Org.objects.filter(slug=slug).first()
    if org is None:
        raise OrgError(f"no org {slug!r} (see 'failbrief org list')")
    return org


def set_webhook_key(org: Org, key: str) -> None:
    org.webhook_key_hash = secret_hash(key)
    org.save(update_fields=["webhook_key_hash"])


def create_token(org: Org, label: str = "") -> str:
    """Make a Bearer token for the org. The token itself is returned once and never stored."""
    token = new_secret()
    ApiToken.objects.create(org=org, token_hash=secret_hash(token), prefix=token[:10], label=label)
    return token


def map_deployment(org: Org, deployment_id: str) -> None:
    DeploymentOrg.objects.update_or_create(deployment_id=deployment_id, defaults={"org": org})


def org_for_token(token: str) -> Org | None:
    found = ApiToken.objects.filter(token_hash=secret_hash(token)).select_related("org").first()
    return found.org if found else None


def set_llm(org: Org, *, provider: str | None = None, model: str | None = None) -> None:
    """Override the global LLM provider/model for this org ("" restores the global one)."""
    if provider and provider not in settings.LLM_PROVIDERS:
        raise OrgError(
            f"unknown LLM provider {provider!r}: choose one of {', '.join(sorted(settings.LLM_PROVIDERS))}"
        )
    if provider is not None:
        org.llm_provider = provider
    if model is not None:
        org.llm_model = model
    org.save(update_fields=["llm_provider", "llm_model"])


def set_llm_optin(org: Org, optin: bool, by: str) -> None:
    """Record who let (or stopped) this org's logs going to an LLM, and when."""
    if not by:
        raise OrgError("say who decides: --by EMAIL")
    org.llm_optin, org.llm_optin_by, org.llm_optin_at = optin, by, timezone.now()
    org.save(update_fields=["llm_optin", "llm_optin_by", "llm_optin_at"])


def set_airbyte(org: Org, *, url: str | None = None, token: str | None = None) -> None:
    """Per-org Airbyte Config API; the token is stored encrypted ("" removes it)."""
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise OrgError(
                f"--airbyte-url must be an http(s) URL such as http://airbyte:8000/api/v1, not {url!r}"
            )
    if url is not None:
        org.airbyte_url = url.rstrip("/")
    if token is not None:
        org.airbyte_token_encrypted = seal(token) if token else ""
    org.save(update_fields=["airbyte_url", "airbyte_token_encrypted"])
