"""Org and token management, shared by the CLI and `failbrief run`'s first-start bootstrap."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_slug
from django.db import transaction

from failbrief.orgs.models import ApiToken, DeploymentOrg, Org
from failbrief.orgs.secrets import new_secret, secret_hash


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
