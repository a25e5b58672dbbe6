"""Organisations: who owns a failed run, who may read its summaries."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Org(models.Model):
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    # A single-team install marks one org default, so every run belongs somewhere without mapping.
    is_default = models.BooleanField(default=False)
    # sha256 of the org's own webhook key; a webhook signed with it belongs to this org.
    webhook_key_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # After a rotation the previous key keeps working until this moment (a grace period, so the
    # Prefect block can be updated); then only the current key does.
    webhook_key_previous_hash = models.CharField(max_length=64, blank=True, db_index=True)
    webhook_key_previous_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # LLM use is opt-in per org: until an org opts in, not one byte of its logs goes to an LLM.
    llm_optin = models.BooleanField(default=False)
    llm_optin_by = models.CharField(max_length=200, blank=True)
    llm_optin_at = models.DateTimeField(null=True, blank=True)
    llm_provider = models.CharField(max_length=50, blank=True)  # "" = the global LLM_PROVIDER
    llm_model = models.CharField(max_length=200, blank=True)  # "" = the global LLM_MODEL
    # Airbyte Config API for this org; "" = the global AIRBYTE_API_URL / AIRBYTE_API_TOKEN.
    airbyte_url = models.CharField(max_length=500, blank=True)
    airbyte_token_encrypted = models.TextField(blank=True)  # never shown back

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_org"
            )
        ]

    def __str__(self) -> str:
        return self.slug


class HashedToken(models.Model):
    """A Bearer token for the API. Only its sha256 is stored; the token is shown once."""

    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class ApiToken(HashedToken):
    """An org's own token: it reads and changes that org's rows only."""

    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="tokens")

    def __str__(self) -> str:
        return f"{self.org.slug}:{self.prefix}…"


class PlatformToken(HashedToken):
    """A token for a platform that serves many orgs (Dalgo's backend): it acts for the org each
    request names in X-Failbrief-Org (or x-dalgo-org), one org per request (docs/dalgo.md)."""

    platform = models.CharField(max_length=100)  # a slug: it labels the log line and metric of each use

    def __str__(self) -> str:
        return f"platform {self.platform}:{self.prefix}…"


class DeploymentOrg(models.Model):
    """An explicit Prefect deployment → org mapping, for runs that carry no org themselves."""

    deployment_id = models.CharField(max_length=64, unique=True)
    org = models.ForeignKey(Org, on_delete=models.CASCADE, related_name="deployments")

    def __str__(self) -> str:
        return f"{self.deployment_id} → {self.org.slug}"
