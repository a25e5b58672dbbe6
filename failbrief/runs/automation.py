"""The Prefect side of failbrief: a Webhook block and an Automation that posts every failed flow run
to our webhook. Pure: no Django; the CLI passes settings and a `JsonApi` (`prefect_http`) in.

Prefect 3.4+ has no flow-run notification policies (404); an automation is the only way. Both
objects are found by name and updated in place, so running the setup twice leaves one block and
one automation. The shapes and their traps are in docs/prefect-behaviour.md §2.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib.resources import files
from typing import Any

from failbrief.lib.http import Backoff, JsonApi
from failbrief.runs.errors import PREFECT_ERRORS, PrefectBadResponse, PrefectError, RunNotFound
from failbrief.runs.states import FAILURE_EVENTS

WEBHOOK_PATH = "/webhooks/v1/notification/"
KEY_HEADER = "X-Notification-Key"
ACTION_FAILED = "prefect.automation.action.failed"
ACTION_EXECUTED = "prefect.automation.action.executed"  # carries the webhook's status_code
# Every UUID goes through `| string | tojson`: a bare `| tojson` on a UUID fails the action as
# soon as a deployed run fails, and Prefect never retries it (docs/prefect-behaviour.md §2.2).
PAYLOAD_TEMPLATE = files("failbrief.runs").joinpath("robust_payload.j2").read_text(encoding="utf-8")
KEY_PLACEHOLDER = "<webhook key>"


@dataclass(frozen=True)
class HookSpec:
    """What to install: where Prefect posts, with which key, and which runs it reports."""

    public_url: str  # failbrief's base URL as Prefect reaches it, e.g. https://failbrief.example.org
    webhook_key: str
    name: str = "failbrief"  # of both the block and the automation
    deployed_only: bool = False  # skip runs without a deployment (subflows, ad-hoc runs)
    tags: tuple[str, ...] = ()  # only runs carrying one of these tags

    @property
    def webhook_url(self) -> str:
        return self.public_url.rstrip("/") + WEBHOOK_PATH


@dataclass(frozen=True)
class Installed:
    """What `install()` did: the ids, and "created" or "updated" for each object."""

    block_id: str
    automation_id: str
    block: str
    automation: str
    removed_duplicates: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ActionFailure:
    occurred: str
    reason: str


@dataclass(frozen=True)
class Health:
    """What `check()` found. `problems` is empty when everything is in order."""

    reachable: bool
    version: str | None = None
    automation_id: str | None = None
    enabled: bool = False
    webhook_url: str | None = None
    failures: list[ActionFailure] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def automation_name(org_slug: str | None) -> str:
    """`failbrief`, or `failbrief-<org>` (block names allow lowercase letters, digits and dashes)."""
    if not org_slug:
        return "failbrief"
    return "failbrief-" + re.sub(r"[^a-z0-9-]+", "-", org_slug.lower()).strip("-")


def block_data(spec: HookSpec, *, show_key: bool = True) -> dict[str, Any]:
    key = spec.webhook_key if show_key else KEY_PLACEHOLDER
    return {
        "url": spec.webhook_url,
        "method": "POST",
        "headers": {"Content-Type": "application/json", KEY_HEADER: key},
        "allow_private_urls": True,  # failbrief often runs next to Prefect on a private network
        "verify": True,
    }


def trigger(spec: HookSpec) -> dict[str, Any]:
    return {
        "type": "event",
        "match": {"prefect.resource.id": "prefect.flow-run.*"},
        "match_related": _match_related(spec),
        "after": [],
        "expect": list(FAILURE_EVENTS),
        "for_each": ["prefect.resource.id"],
        "posture": "Reactive",
        "threshold": 1,
        # A window drops later states of the same run: always 0 for per-state notifications.
        "within": 0,
    }


def _match_related(spec: HookSpec) -> dict[str, Any] | list[dict[str, Any]]:
    wanted: list[dict[str, Any]] = []
    if spec.deployed_only:
        wanted.append({"prefect.resource.role": "deployment"})
    if spec.tags:
        tag_ids = [f"prefect.tag.{tag}" for tag in spec.tags]
        wanted.append({"prefect.resource.role": "tag", "prefect.resource.id": tag_ids})
    return wanted[0] if len(wanted) == 1 else (wanted or {})


def automation_body(spec: HookSpec, block_document_id: str) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": f"POST failed, crashed and timed-out flow runs to failbrief ({spec.webhook_url})",
        "enabled": True,
        "trigger": trigger(spec),
        "actions": [
            {"type": "call-webhook", "block_document_id": block_document_id, "payload": PAYLOAD_TEMPLATE}
        ],
        "actions_on_trigger": [],
        "actions_on_resolve": [],
    }


def dry_run(spec: HookSpec) -> dict[str, Any]:
    """The JSON `install()` would send, with the key and the block's id left as placeholders."""
    return {
        "block_document": {
            "name": spec.name,
            "block_type_slug": "webhook",
            "data": block_data(spec, show_key=False),
        },
        "automation": automation_body(spec, "<block document id>"),
    }


RETRIES = Backoff(retries=3, base=0.5, cap=2.0)  # a busy Prefect (SQLite) answers 503 now and then
# A diagnosis reports what it meets: retrying a host that black-holes would make a person wait
# four timeouts (and the backoffs) for the same verdict.
ONCE = Backoff(retries=0, base=0.5, cap=2.0)


def prefect_http(api_url: str, api_key: str | None, timeout: float, backoff: Backoff = RETRIES) -> JsonApi:
    """Prefect's API through the one JSON-API core, transient answers tried again as `backoff` says."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return JsonApi(api_url, headers=headers, errors=PREFECT_ERRORS, timeout=timeout, backoff=backoff)


def install(http: JsonApi, spec: HookSpec, block_written: Callable[[], None] | None = None) -> Installed:
    """Create or update the block, then the automation. Raises a PrefectError subclass.
    `block_written()` is called once Prefect holds the block: from then on it sends the spec's key."""
    block_id, block_action = _upsert_block(http, spec)
    if block_written is not None:
        block_written()
    found = _automations_named(http, spec.name)
    body = automation_body(spec, block_id)
    if found:
        automation_id = found[0]["id"]
        http.call("PUT", f"automations/{automation_id}", body)
        for extra in found[1:]:  # made by hand or by an older setup: one automation is the contract
            http.call("DELETE", f"automations/{extra['id']}")
        removed = [a["id"] for a in found[1:]]
        return Installed(block_id, automation_id, block_action, "updated", removed)
    created = http.call("POST", "automations/", body)
    return Installed(block_id, _id_of(created, "automation"), block_action, "created")


def _upsert_block(http: JsonApi, spec: HookSpec) -> tuple[str, str]:
    block_type = http.call("GET", "block_types/slug/webhook")
    schemas = http.call(
        "POST",
        "block_schemas/filter",
        {"block_schemas": {"block_type_id": {"any_": [block_type["id"]]}}},
    )
    if not isinstance(schemas, list) or not schemas:
        raise PrefectBadResponse("Prefect has no schema for the webhook block type")
    schema_id, data = schemas[0]["id"], block_data(spec)
    existing = _block_named(http, spec.name)
    if existing is not None:
        update = {"block_schema_id": schema_id, "data": data, "merge_existing_data": False}
        http.call("PATCH", f"block_documents/{existing}", update)
        return existing, "updated"
    body = {"name": spec.name, "block_type_id": block_type["id"], "block_schema_id": schema_id, "data": data}
    return _id_of(http.call("POST", "block_documents/", body), "block document"), "created"


def _block_named(http: JsonApi, name: str) -> str | None:
    try:
        found = http.call("GET", f"block_types/slug/webhook/block_documents/name/{name}")
    except RunNotFound:
        return None
    return _id_of(found, "block document")


def _automations_named(http: JsonApi, name: str) -> list[dict[str, Any]]:
    found = http.call("POST", "automations/filter", {"automations": {"name": {"any_": [name]}}})
    if not isinstance(found, list):
        raise PrefectBadResponse("POST /automations/filter did not answer a list")
    # Older servers ignore the name filter; compare again so we never touch someone else's.
    return sorted((a for a in found if a.get("name") == name), key=lambda a: str(a.get("created", "")))


def check(http: JsonApi, name: str, *, since: timedelta = timedelta(hours=24)) -> Health:
    """Is Prefect reachable, which version, is our automation there and enabled, where does its block
    post, and which of its webhook calls failed within `since`. Never raises a PrefectError."""
    try:
        version = str(http.call("GET", "admin/version"))
    except PrefectError as exc:
        return Health(reachable=False, problems=[f"Prefect API did not answer: {exc}"])
    try:
        return _check_automation(http, name, version, since)
    except PrefectError as exc:
        return Health(reachable=True, version=version, problems=[f"Prefect answered badly: {exc}"])


def _check_automation(http: JsonApi, name: str, version: str, since: timedelta) -> Health:
    found = _automations_named(http, name)
    if not found:
        problem = f"no automation named {name!r}: run 'failbrief setup-prefect'"
        return Health(reachable=True, version=version, problems=[problem])
    automation = found[0]
    failures = action_failures(http, automation["id"], since)
    problems = [] if automation.get("enabled") else [f"automation {name!r} is disabled"]
    hours = f"{since.total_seconds() / 3600:g} h"
    problems += [f"{len(failures)} webhook call(s) failed in the last {hours}"] if failures else []
    return Health(
        reachable=True,
        version=version,
        automation_id=automation["id"],
        enabled=bool(automation.get("enabled")),
        webhook_url=_block_url(http, automation),
        failures=failures,
        problems=problems,
    )


def _block_url(http: JsonApi, automation: dict[str, Any]) -> str | None:
    block_ids = [
        a.get("block_document_id") for a in automation.get("actions", []) if a.get("type") == "call-webhook"
    ]
    if not block_ids or not block_ids[0]:
        return None
    block = http.call("GET", f"block_documents/{block_ids[0]}", params={"include_secrets": "true"})
    url = (block.get("data") or {}).get("url") if isinstance(block, dict) else None
    return str(url) if url else None


def action_failures(http: JsonApi, automation_id: str, since: timedelta) -> list[ActionFailure]:
    """The automation's failed webhook calls within `since`, newest first: Prefect's
    `action.failed` events (no answer, a template error) and its `action.executed` events whose
    webhook answered an error status. Prefect's call-webhook never fails on a status, so a 401 after
    a key rotation, a 413 or a 500 shows only there. Of the executed ones, the newest page is read."""
    start = (datetime.now(UTC) - since).isoformat()
    body = {
        "filter": {
            "event": {"name": [ACTION_FAILED, ACTION_EXECUTED]},
            "resource": {"id": [f"prefect.automation.{automation_id}"]},
            "occurred": {"since": start},
            "order": "DESC",
        },
        "limit": 50,
    }
    answer = http.call("POST", "events/filter", body)
    events = answer.get("events", []) if isinstance(answer, dict) else []
    found = [_failure(e) for e in events if isinstance(e, dict)]
    return [failure for failure in found if failure is not None]


def _failure(event: dict[str, Any]) -> ActionFailure | None:
    raw = event.get("payload")
    payload: dict[str, Any] = raw if isinstance(raw, dict) else {}
    occurred = str(event.get("occurred", ""))
    if event.get("event") != ACTION_EXECUTED:
        return ActionFailure(occurred, str(payload.get("reason", "")))
    status = payload.get("status_code")
    if not isinstance(status, int) or status < 300:
        return None  # delivered, or an action that is no webhook call
    said = " ".join(str(payload.get("response_body") or "").split())[:300]
    return ActionFailure(occurred, f"the webhook answered HTTP {status}: {said}".rstrip(": "))


def _id_of(record: Any, what: str) -> str:
    if not isinstance(record, dict) or not record.get("id"):
        raise PrefectBadResponse(f"Prefect's answer has no {what} id")
    return str(record["id"])
