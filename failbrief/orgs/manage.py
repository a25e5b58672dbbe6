"""Org and token management, shared by the CLI and `failbrief run`'s first-start bootstrap."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlparse

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction
from django.utils import timezone

from failbrief.lib.airbyte_url import is_public_api, public_api_refusal
from failbrief.lib.url_credentials import without_credentials
from failbrief.orgs.models import ApiToken, DeploymentOrg, Org, PlatformToken
from failbrief.orgs.secrets import new_secret, secret_hash
from failbrief.orgs.vault import seal


class OrgError(ValueError):
    """A management request that cannot be done; the message says why."""


def _valid_slug(slug: str, what: str = "slug") -> None:
    try:
        validate_slug(slug)
    except ValidationError:
        raise OrgError(f"{slug!r} is not a valid {what}: use letters, digits, '-' and '_'") from None


def add_org(slug: str, *, name: str = "", default: bool = False, webhook_key: str | None = None) -> Org:
    _valid_slug(slug)
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


_KEY_FIELDS = ["webhook_key_hash", "webhook_key_previous_hash", "webhook_key_previous_until"]


@dataclass(frozen=True)
class WebhookKeys:
    """An org's webhook keys as stored (hashes), to put back when a change did not go through."""

    current: str | None
    previous: str
    previous_until: datetime | None


def webhook_keys(org: Org) -> WebhookKeys:
    return WebhookKeys(org.webhook_key_hash, org.webhook_key_previous_hash, org.webhook_key_previous_until)


def set_webhook_key(org: Org, key: str, *, keep_current_for: timedelta = timedelta(0)) -> None:
    """`key` becomes the org's webhook key. The current one stops at once unless `keep_current_for`
    says otherwise; an older key still in a grace period (a rotation on the settings page) stops
    at once in any case: whoever sets a key means the ones before it to go."""
    keep = bool(org.webhook_key_hash and keep_current_for and org.webhook_key_hash != secret_hash(key))
    org.webhook_key_previous_hash = (org.webhook_key_hash or "") if keep else ""
    org.webhook_key_previous_until = timezone.now() + keep_current_for if keep else None
    org.webhook_key_hash = secret_hash(key)
    org.save(update_fields=_KEY_FIELDS)


def restore_webhook_keys(org: Org, keys: WebhookKeys) -> None:
    """Put back the keys `webhook_keys` read: a change that did not reach the sender is undone."""
    org.webhook_key_hash = keys.current
    org.webhook_key_previous_hash = keys.previous
    org.webhook_key_previous_until = keys.previous_until
    org.save(update_fields=_KEY_FIELDS)


def rotate_webhook_key(org: Org, grace: timedelta) -> str:
    """A new webhook key for the org, returned once; the current one keeps working for `grace`
    (0: not at all), so the Prefect block can be updated without losing a failure."""
    key = new_secret()
    with transaction.atomic():
        org.webhook_key_previous_hash = org.webhook_key_hash or ""
        org.webhook_key_previous_until = timezone.now() + grace if org.webhook_key_hash and grace else None
        org.webhook_key_hash = secret_hash(key)
        org.save(update_fields=_KEY_FIELDS)
    return key


def create_token(org: Org, label: str = "") -> str:
    """Make a Bearer token for the org. The token itself is returned once and never stored."""
    token = new_secret()
    ApiToken.objects.create(org=org, token_hash=secret_hash(token), prefix=token[:10], label=label)
    return token


def create_platform_token(platform: str, label: str = "") -> str:
    """Make a Bearer token for a platform that acts for any org it names per request (docs/dalgo.md).
    The token itself is returned once and never stored."""
    _valid_slug(platform, "platform name")
    token = new_secret()
    PlatformToken.objects.create(
        platform=platform, token_hash=secret_hash(token), prefix=token[:10], label=label
    )
    return token


def platform_for_token(token: str) -> str | None:
    """The platform name of a platform token, or None."""
    found = PlatformToken.objects.filter(token_hash=secret_hash(token)).values_list("platform", flat=True)
    return found.first()


@dataclass(frozen=True)
class TokenInfo:
    prefix: str
    owner: str  # "org:<slug>" or "platform:<name>"
    label: str
    created_at: datetime


def list_tokens() -> list[TokenInfo]:
    """Every API token, org and platform, oldest first; never the token itself."""
    found = [
        TokenInfo(t.prefix, f"org:{t.org.slug}", t.label, t.created_at)
        for t in ApiToken.objects.select_related("org")
    ]
    found += [
        TokenInfo(t.prefix, f"platform:{t.platform}", t.label, t.created_at)
        for t in PlatformToken.objects.all()
    ]
    return sorted(found, key=lambda t: (t.created_at, t.prefix))


def revoke_token(given: str) -> TokenInfo:
    """Delete the token `given` names: the whole token, or its prefix as `token list` shows it."""
    given = given.strip().removesuffix("…")
    matches: list[ApiToken | PlatformToken] = []
    for model in (ApiToken, PlatformToken):
        by_hash = model.objects.filter(token_hash=secret_hash(given))
        matches += list(by_hash if by_hash.exists() else model.objects.filter(prefix=given))
    if not matches:
        raise OrgError(f"no token {given[:10]!r}… (see 'failbrief token list')")
    if len(matches) > 1:
        raise OrgError(f"{len(matches)} tokens start with {given!r}: give the whole token")
    token = matches[0]
    owner = f"org:{token.org.slug}" if isinstance(token, ApiToken) else f"platform:{token.platform}"
    info = TokenInfo(token.prefix, owner, token.label, token.created_at)
    token.delete()
    return info


def map_deployment(org: Org, deployment_id: str) -> str:
    """Runs of the deployment belong to the org; returns the id as stored. Prefect's ids are UUIDs
    in lower case, and a run's is compared as it comes: anything else would never match."""
    try:
        canonical = str(uuid.UUID(deployment_id.strip()))
    except ValueError:
        raise OrgError(
            f"{deployment_id!r} is not a Prefect deployment id (a UUID, as 'prefect deployment ls' "
            "or the deployment's page shows it)"
        ) from None
    DeploymentOrg.objects.update_or_create(deployment_id=canonical, defaults={"org": org})
    return canonical


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
    """Per-org Airbyte Config API; the token is stored encrypted ("" removes it). A token needs the
    org's own URL: without one the global AIRBYTE_API_URL is read with the global token."""
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise OrgError(
                "--airbyte-url must be an http(s) URL such as http://airbyte:8000/api/v1, "
                f"not {without_credentials(url)!r}"
            )
        if is_public_api(url):
            raise OrgError(public_api_refusal("--airbyte-url", without_credentials(url)))
    if token and not (url if url is not None else org.airbyte_url):
        raise OrgError(
            "--airbyte-token needs the org's own --airbyte-url: without it the global AIRBYTE_API_URL "
            "is read with AIRBYTE_API_TOKEN, and this token would never be used"
        )
    if url is not None:
        org.airbyte_url = url.rstrip("/")
    if token is not None:
        org.airbyte_token_encrypted = seal(token) if token else ""
    org.save(update_fields=["airbyte_url", "airbyte_token_encrypted"])
