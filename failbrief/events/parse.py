"""Turns a webhook body into a FailureNotice. Pure: no Django.

Four body shapes reach us from real Prefect servers (docs/prefect-behaviour.md §2.1):
  dalgo         {"body": "Flow run <name> with id <uuid> entered state <State>"}  (send-notification)
  notification  {"body": "Flow run <flow>/<name> observed in state `<State>` at <time>. Flow run ID: <uuid>"}
                (send-notification with Prefect's own template: events/notification_text.py)
  robust        the JSON that robust_payload.j2 renders (call-webhook)
  raw_event     {{ event | tojson }}: event, id, resource, related, payload
Dalgo's own handler (DDP_backend ddpui/api/webhook_api.py) also takes a Prefect flow run as the
`body`, JSON-encoded in the string or as an object (shape dalgo_flow_run; docs/dalgo.md).
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from failbrief.events.notification_text import notification_fields
from failbrief.lib.storable import unstorable
from failbrief.runs.states import is_failure

# reconciler: events/reconcile.py; backfill: events/backfill.py (summarized, never announced)
Shape = Literal["dalgo", "dalgo_flow_run", "notification", "robust", "raw_event", "reconciler", "backfill"]

UNDATED = "-"  # the dedup key's end for a notice with neither a state timestamp nor an event id
# The run name is free text and may itself contain "with id ... entered state ...", so the
# last match is the one Prefect appended.
_DALGO_BODY = re.compile(r"with id (?P<id>\S+) entered state (?P<state>[A-Za-z_]\w*)")


class BadWebhook(ValueError):
    """The body cannot be a Prefect failure notification; the message says why."""


@dataclass(frozen=True)
class FailureNotice:
    shape: Shape
    flow_run_id: str
    state_name: str
    state_type: str | None = None
    state_timestamp: datetime | None = None
    prefect_event_id: str | None = None
    flow_run_name: str = ""
    state_message: str = ""
    deployment_id: str | None = None
    parent_task_run_id: str | None = None
    tags: list[str] = field(default_factory=list)

    @property
    def starts_work(self) -> bool:
        """True for the states we summarize (runs/states.py)."""
        return is_failure(self.state_type, self.state_name)

    @property
    def dedup_key(self) -> str:
        """Same run, same state, same state timestamp: the same notification sent twice. Without a
        timestamp, Prefect's event id names the state change; with neither (Dalgo's sentence) the
        key ends in "-" and only the intake can tell a repeat from a new failure (events/intake.py)."""
        stamp = self.state_timestamp.isoformat() if self.state_timestamp else self.prefect_event_id or UNDATED
        return f"{self.flow_run_id}|{self.state_name}|{stamp}"

    @property
    def undated(self) -> bool:
        """Nothing in the notice tells one state change of the run from another of the same name."""
        return self.state_timestamp is None and self.prefect_event_id is None


def parse_notice(raw: bytes) -> FailureNotice:
    """Parse a webhook body. Raises BadWebhook with a message fit for the sender."""
    try:
        # Strictly UTF-8: json.loads would also take UTF-16 and UTF-32, which we could not store.
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadWebhook(f"body is not UTF-8: {exc}") from None
    body = _json(text, "body")
    if not isinstance(body, dict):
        raise BadWebhook("body must be a JSON object")
    if "body" in body and "flow_run_id" not in body:
        return _dalgo(body["body"])
    if "flow_run_id" in body:
        return _robust(body)
    if isinstance(body.get("resource"), dict):
        return _raw_event(body)
    raise BadWebhook(
        "unknown body shape: expected Dalgo's {'body': 'Flow run ... with id <uuid> entered state <State>'}, "
        "the robust template's {'flow_run_id', 'state_name', ...}, or a raw Prefect event with 'resource'"
    )


def _json(text: str, what: str) -> Any:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadWebhook(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise BadWebhook(f"{what} is nested too deeply to be a Prefect notification") from None
    except ValueError:
        # Python's cap on integer digits (sys.get_int_max_str_digits()), raised past the decoder's
        # own errors: no Prefect field is such a number.
        raise BadWebhook(
            f"{what} holds a number of more than {sys.get_int_max_str_digits()} digits, which cannot be read"
        ) from None
    if why := unstorable(value):
        raise BadWebhook(f"{what} cannot be stored: {why}")
    return value


def _dalgo(message: object) -> FailureNotice:
    """Dalgo's `body`, read as its handler reads it: a flow run (an object, or a string holding one
    as JSON), else the send-notification sentence."""
    if isinstance(message, dict):
        return _flow_run(message)
    if not isinstance(message, str):
        raise BadWebhook("'body' must be a string or a Prefect flow run object")
    if message.lstrip().startswith("{"):
        return _flow_run(_json(message, "'body'"))
    return _sentence(message)


def _sentence(text: str) -> FailureNotice:
    matches = list(_DALGO_BODY.finditer(text))
    if not matches:
        return _notification(text)
    last = matches[-1]
    name = text[: last.start()].removeprefix("Flow run ").strip()
    return FailureNotice(
        shape="dalgo",
        flow_run_id=_uuid(last["id"], "flow run id"),
        state_name=last["state"],
        flow_run_name=name,
    )


# Where Prefect's notification text keeps each field, for the errors (see _RAW_EVENT_KEYS).
_NOTIFICATION_KEYS = {
    "flow_run_id": "Flow run ID",
    "state_name": "state",
    "state_type": "state type",  # the text has none: judged by the state's name, as Dalgo's
    "state_timestamp": "the state's time",
    "event_id": "event id",  # none either
    "flow_run_name": "flow run name",
    "state_message": "State message",
    "deployment_id": "Deployment ID",
    "parent_task_run_id": "parent task run",  # none either
}


def _notification(text: str) -> FailureNotice:
    fields = notification_fields(text)
    if fields is None:
        raise BadWebhook(
            "'body' is neither Dalgo's 'Flow run <name> with id <uuid> entered state <State>' nor Prefect's "
            "notification text ('Flow run <flow>/<name> observed in state `<State>` at <time>.' and a "
            "'Flow run ID: <uuid>' line)"
        )
    if fields["flow_run_id"] is None:
        raise BadWebhook("'body' is Prefect's notification text without its 'Flow run ID: <uuid>' line")
    named = {_NOTIFICATION_KEYS[key]: value for key, value in fields.items() if key in _NOTIFICATION_KEYS}
    return _notice("notification", named, _NOTIFICATION_KEYS)


def _flow_run(run: dict[str, Any]) -> FailureNotice:
    """A Prefect flow run as its API returns it. Dalgo's test for one: its state's
    `state_details.flow_run_id` is its own `id`."""
    state = run.get("state")
    details = state.get("state_details") if isinstance(state, dict) else None
    if not isinstance(state, dict) or not isinstance(details, dict) or "id" not in run:
        raise BadWebhook(
            "'body' is a JSON object but not a Prefect flow run: expected 'id' and "
            "'state': {'state_details': {'flow_run_id': <the same id>}, 'name', 'type', ...}"
        )
    run_id = _uuid(run["id"], "the flow run's id")
    if _optional_uuid(details.get("flow_run_id"), "state_details.flow_run_id") != run_id:
        raise BadWebhook("the flow run's state_details.flow_run_id is not its own id: not a flow run's state")
    state_type = _text(state, "type") or _text(run, "state_type")
    state_name = _text(state, "name") or _text(run, "state_name") or state_type.title()
    if not state_name:
        raise BadWebhook("the flow run's state has neither a name nor a type")
    # The same fields as the robust template's, read the same way (its key names in the errors).
    robust = {
        "flow_run_id": run_id,
        "state_name": state_name,
        "state_type": state_type,
        "state_timestamp": state.get("timestamp"),
        "flow_run_name": run.get("name"),
        "state_message": state.get("message"),
        "deployment_id": run.get("deployment_id"),
        "parent_task_run_id": run.get("parent_task_run_id"),
        "tags": run.get("tags"),
    }
    return _notice("dalgo_flow_run", robust)


# Where a body keeps each field; errors name the key of the body at hand. A raw event keeps them
# under its resource's labels, and four keys _raw_event fills from elsewhere in the event.
_RAW_EVENT_KEYS = {
    "flow_run_id": "resource id",
    "state_name": "prefect.state-name",
    "state_type": "prefect.state-type",
    "state_timestamp": "prefect.state-timestamp",
    "event_id": "id",
    "flow_run_name": "prefect.resource.name",
    "state_message": "prefect.state-message",
    "deployment_id": "deployment",
    "parent_task_run_id": "task-run",
}
# The robust template's keys are the fields' own names.
_ROBUST_KEYS = {field: field for field in _RAW_EVENT_KEYS}


def _robust(body: dict[str, Any]) -> FailureNotice:
    return _notice("robust", body)


def _raw_event(body: dict[str, Any]) -> FailureNotice:
    resource: dict[str, Any] = body["resource"]
    resource_id = str(resource.get("prefect.resource.id", ""))
    if not resource_id.startswith("prefect.flow-run."):
        raise BadWebhook(f"raw event is not about a flow run: resource id {resource_id[:80]!r}")
    related: list[Any] = body["related"] if isinstance(body.get("related"), list) else []
    fields = resource | {
        "resource id": resource_id.removeprefix("prefect.flow-run."),
        "id": body.get("id"),
        "event": body.get("event"),
        "deployment": _related_id(related, "deployment", "prefect.deployment."),
        "task-run": _related_id(related, "task-run", "prefect.task-run."),
        "tags": [t.removeprefix("prefect.tag.") for t in _related_ids(related, "tag")],
    }
    return _notice("raw_event", fields, _RAW_EVENT_KEYS, "raw event carries no state name")


def _notice(
    shape: Shape,
    body: dict[str, Any],
    keys: dict[str, str] = _ROBUST_KEYS,
    no_state_name: str = "'state_name' is missing",
) -> FailureNotice:
    """The notice from a body that keeps each field under `keys` (its tags under "tags")."""
    state_name = _text(body, keys["state_name"]) or _state_from_event_name(_text(body, "event"))
    if not state_name:
        raise BadWebhook(no_state_name)
    flow_run_id, event_id = keys["flow_run_id"], keys["event_id"]
    timestamp, deployment, parent = keys["state_timestamp"], keys["deployment_id"], keys["parent_task_run_id"]
    return FailureNotice(
        shape=shape,
        flow_run_id=_uuid(body.get(flow_run_id), flow_run_id),
        state_name=state_name,
        state_type=_text(body, keys["state_type"]) or None,
        state_timestamp=_timestamp(body.get(timestamp), timestamp),
        prefect_event_id=_optional_uuid(body.get(event_id), event_id),
        flow_run_name=_text(body, keys["flow_run_name"]),
        state_message=_text(body, keys["state_message"]),
        deployment_id=_optional_uuid(body.get(deployment), deployment),
        parent_task_run_id=_optional_uuid(body.get(parent), parent),
        tags=_tags(body.get("tags")),
    )


def _state_from_event_name(event: str) -> str:
    return event.removeprefix("prefect.flow-run.") if event.startswith("prefect.flow-run.") else ""


def _related_ids(related: list[Any], role: str) -> list[str]:
    return [
        str(r.get("prefect.resource.id", ""))
        for r in related
        if isinstance(r, dict) and r.get("prefect.resource.role") == role
    ]


def _related_id(related: list[Any], role: str, prefix: str) -> str | None:
    """The first related resource of `role`, its id without `prefix` (checked as a UUID by the caller)."""
    for rid in _related_ids(related, role):
        return rid.removeprefix(prefix)
    return None


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise BadWebhook(f"'{key}' must be a string")
    return str(value)


def _tags(value: object) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(t, str) for t in value):
        raise BadWebhook("'tags' must be a list of strings")
    return value


def _uuid(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise BadWebhook(f"{what} is missing or not a string")
    try:
        return str(uuid.UUID(value.strip()))
    except ValueError:
        raise BadWebhook(f"{what} is not a valid UUID: {value[:80]!r}") from None


def _optional_uuid(value: object, what: str) -> str | None:
    if value in (None, "", "None"):
        return None
    return _uuid(value, what)


def _timestamp(value: object, what: str) -> datetime | None:
    if value in (None, "", "None"):
        return None
    if not isinstance(value, str):
        raise BadWebhook(f"'{what}' must be an ISO 8601 string")
    try:
        # Prefect renders a bare timestamp with a space instead of "T" (docs/prefect-behaviour.md §2.2).
        stamp = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise BadWebhook(f"'{what}' is not an ISO 8601 timestamp: {value[:80]!r}") from None
    if stamp.tzinfo is None:
        raise BadWebhook(f"'{what}' has no time zone: {value[:80]!r}")
    try:
        stamp.astimezone(UTC)  # what the database stores; year 1 or 9999 with an offset overflows
    except OverflowError:
        raise BadWebhook(f"'{what}' is out of range: {value[:80]!r}") from None
    return stamp
