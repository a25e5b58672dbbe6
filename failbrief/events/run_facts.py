"""The flow, deployment and state a summary row is listed and filtered by on the pages, from what
the webhook already told us (no Prefect call): the robust template names the flow and the
deployment; a raw Prefect event names them among its related resources; Prefect's notification
text names the flow; Dalgo's sentence names only the flow run. The event's rows are created with
them; a new version (regenerate) takes them over from the one before."""

from __future__ import annotations

import json
from typing import Any

from failbrief.events.models import FailureEvent
from failbrief.events.notification_text import notification_fields


def listed_facts(event: FailureEvent) -> dict[str, str]:
    """The fields of a summary row the pages list and filter by, for the rows of `event`'s run."""
    flow, deployment, state = facts_of(event)
    return {"flow_name": flow, "deployment_name": deployment, "run_state": state}


def facts_of(event: FailureEvent) -> tuple[str, str, str]:
    """(flow name, deployment name, state name) as the event's body gives them; "" when unknown."""
    try:
        body = json.loads(event.raw_body)
    except ValueError:
        body = None
    flow, deployment = "", ""
    if isinstance(body, dict):
        if event.shape == "robust":
            flow, deployment = _text(body.get("flow_name")), _text(body.get("deployment_name"))
        elif event.shape == "raw_event":
            flow, deployment = _related_name(body, "flow"), _related_name(body, "deployment")
        elif event.shape == "notification":
            named = notification_fields(_text(body.get("body")))
            flow = (named or {}).get("flow_name") or ""
    return (flow or event.flow_run_name)[:500], deployment[:500], event.state_name[:100]


def _related_name(body: dict[str, Any], role: str) -> str:
    related = body.get("related")
    for resource in related if isinstance(related, list) else []:
        if isinstance(resource, dict) and resource.get("prefect.resource.role") == role:
            return _text(resource.get("prefect.resource.name"))
    return ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
