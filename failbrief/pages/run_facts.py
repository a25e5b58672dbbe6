"""The flow, deployment and state a new summary row is listed and filtered by on the pages.

Filled when the row is created, from what the webhook already told us (no Prefect call): the
robust template names the flow and the deployment; a raw Prefect event names them among its
related resources; Dalgo's sentence names only the flow run. A new version (regenerate) copies
them from the unit's first version."""

from __future__ import annotations

import json
from typing import Any

from django.db.models.signals import pre_save

from failbrief.events.models import FailureEvent
from failbrief.summarize.models import LlmSession

FIELDS = ("flow_name", "deployment_name", "run_state")


def connect() -> None:
    pre_save.connect(_fill, sender=LlmSession, dispatch_uid="pages.run_facts")


def _fill(sender: type[LlmSession], instance: LlmSession, raw: bool = False, **_: Any) -> None:
    if raw or not instance._state.adding or instance.flow_name or instance.deployment_name:
        return
    if instance.event_id is not None:
        event = FailureEvent.objects.filter(pk=instance.event_id).first()
        if event is not None:
            facts = facts_of(event)
            instance.flow_name, instance.deployment_name, instance.run_state = facts
            return
    first = (
        LlmSession.objects.filter(
            org_id=instance.org_id,
            flow_run_id=instance.flow_run_id,
            task_id=instance.task_id,
            session_type=instance.session_type,
        )
        .order_by("version")
        .values_list(*FIELDS)
        .first()
    )
    if first is not None:
        instance.flow_name, instance.deployment_name, instance.run_state = first


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
    return (flow or event.flow_run_name)[:500], deployment[:500], event.state_name[:100]


def _related_name(body: dict[str, Any], role: str) -> str:
    related = body.get("related")
    for resource in related if isinstance(related, list) else []:
        if isinstance(resource, dict) and resource.get("prefect.resource.role") == role:
            return _text(resource.get("prefect.resource.name"))
    return ""


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""
