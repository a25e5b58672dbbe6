"""Which org a failed flow run belongs to: the one its top-level run names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from failbrief.orgs.models import DeploymentOrg, Org
from failbrief.runs.failed_units import flow_run_lineage
from failbrief.runs.prefect import FlowRun, PrefectClient

ORG_TAG_PREFIX = "org:"


@dataclass(frozen=True)
class OrgMatch:
    org: Org | None
    how: str  # how it was found, or why nothing was


@dataclass(frozen=True)
class RunOwner:
    """Where a flow run sits and whose it is: `lineage` runs from its top-level run down to it
    ((run.id,) for a top-level run), `top` is that top-level run, `match` the org `top` names."""

    lineage: tuple[str, ...]
    top: FlowRun
    match: OrgMatch


def owner_of_run(client: PrefectClient, run: FlowRun, known: dict[str, FlowRun] | None = None) -> RunOwner:
    """The run's lineage, its top-level run, and the org that run names: a subflow carries no
    deployment or tags of its own, so it is its top-level run's. `known` (flow runs by id) saves
    reading a top-level run again; one read here is added to it. Raises the client's errors."""
    lineage = flow_run_lineage(client, run)
    top = run if len(lineage) == 1 else _flow_run(client, lineage[0], {} if known is None else known)
    return RunOwner(lineage, top, _org_named_by(top.parameters or {}, top.deployment_id, top.tags or []))


def _flow_run(client: PrefectClient, run_id: str, known: dict[str, FlowRun]) -> FlowRun:
    if run_id not in known:
        known[run_id] = client.flow_run(run_id)
    return known[run_id]


def _org_named_by(parameters: dict[str, Any], deployment_id: str | None, tags: list[str]) -> OrgMatch:
    """The org the run itself names, in order: Dalgo's parameters.config.org_slug, the deployment →
    org mapping, an `org:<slug>` tag, then the default org. Never whoever asked about the run: a
    webhook key or API token only ever reaches runs that resolve to its own org."""
    slug = _dalgo_slug(parameters)
    if slug and (org := Org.objects.filter(slug=slug).first()):
        return OrgMatch(org, "parameters.config.org_slug")
    if named := _mapped_or_tagged(deployment_id, tags):
        return named
    if default := Org.objects.filter(is_default=True).first():
        return OrgMatch(default, "the default org")
    return OrgMatch(None, _why_unmatched(slug, deployment_id, tags))


def org_named_by_webhook(deployment_id: str | None, tags: list[str]) -> Org | None:
    """The org a webhook's own fields name (a mapped deployment, an `org:<slug>` tag), before Prefect
    is asked; None when only the run's parameters or the default org could tell."""
    named = _mapped_or_tagged(deployment_id, tags)
    return named.org if named else None


def _mapped_or_tagged(deployment_id: str | None, tags: list[str]) -> OrgMatch | None:
    mapped = DeploymentOrg.objects.filter(deployment_id=deployment_id).select_related("org").first()
    if deployment_id and mapped:
        return OrgMatch(mapped.org, f"deployment {deployment_id} mapping")
    for tag in tags:
        if tag.startswith(ORG_TAG_PREFIX) and (
            org := Org.objects.filter(slug=tag[len(ORG_TAG_PREFIX) :]).first()
        ):
            return OrgMatch(org, f"tag {tag}")
    return None


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
