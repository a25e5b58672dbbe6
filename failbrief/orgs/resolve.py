"""Which org a failed flow run belongs to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from failbrief.orgs.models import DeploymentOrg, Org

ORG_TAG_PREFIX = "org:"


@dataclass(frozen=True)
class OrgMatch:
    org: Org | None
    how: str  # how it was found, or why nothing was


def org_for_run(parameters: dict[str, Any], deployment_id: str | None, tags: list[str]) -> OrgMatch:
    """The org the run itself names, in order: Dalgo's parameters.config.org_slug, the deployment →
    org mapping, an `org:<slug>` tag, then the default org. Never whoever asked about the run: a
    webhook key or API token only ever reaches runs that resolve to its own org."""
    slug = _dalgo_slug(parameters)
    if slug and (org := Org.objects.filter(slug=slug).first()):
        return OrgMatch(org, "parameters.config.org_slug")
    mapped = DeploymentOrg.objects.filter(deployment_id=deployment_id).select_related("org").first()
    if deployment_id and mapped:
        return OrgMatch(mapped.org, f"deployment {deployment_id} mapping")
    for tag in tags:
        if tag.startswith(ORG_TAG_PREFIX) and (
            org := Org.objects.filter(slug=tag[len(ORG_TAG_PREFIX) :]).first()
        ):
            return OrgMatch(org, f"tag {tag}")
    if default := Org.objects.filter(is_default=True).first():
        return OrgMatch(default, "the default org")
    return OrgMatch(None, _why_unmatched(slug, deployment_id, tags))


def _dalgo_slug(parameters: dict[str, Any]) -> str | None:
    config = parameters.get("config")
    slug = config.get("org_slug") if isinstance(config, dict) else None
    return slug if isinstance(slug, str) and slug else None


def _why_unmatched(slug: str | None, deployment_id: str | None, tags: list[str]) -> str:
    seen = [f"org_slug {slug!r} is not a known org" if slug else "no parameters.config.org_slug"]
    seen.append(f"deployment {deployment_id} is not mapped" if deployment_id else "no deployment")
    org_tags = [t for t in tags if t.startswith(ORG_TAG_PREFIX)]
    seen.append(f"tags {org_tags} name no known org" if org_tags else "no org:<slug> tag")
    return (
        "no org for this run: " + "; ".join(seen) + "; and no default org (failbrief org add SLUG --default)"
    )
