"""A completed summary → the Message every channel renders, stored with each notification."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import datetime
from typing import Any

from django.conf import settings

from failbrief.notify.message import Message, logs_used_line
from failbrief.notify.models import Notification
from failbrief.pages.notes import note_line, note_of
from failbrief.summarize.models import LlmSession

_DATES = ("failed_at", "first_failed_at")


def compose(row: LlmSession, *, flow_run_name: str, deployment: str, failed_at: datetime | None) -> Message:
    return Message(
        org=row.org.slug,
        flow_run_id=row.flow_run_id,
        flow_run_name=flow_run_name,
        deployment=deployment,
        failing_step=row.failing_step or row.task_name,
        category=row.category,
        root_cause=row.root_cause or "",
        suggested_fix=row.suggested_fix,
        run_url=run_url(row.org.slug, row.flow_run_id),
        summary_id=row.pk,
        confidence=row.confidence,
        evidence=tuple(str(line) for line in (row.evidence or [])[:3]),
        summarizer=row.summarizer,
        failed_at=failed_at,
        team_note=team_note(row),
        logs_used=logs_used_line(row.log_source, row.source_note),
    )


def team_note(row: LlmSession) -> str:
    """The org's note on this failure's signature, without its "Last time: " (the label says it)."""
    return note_line(note_of(row.org_id, row.signature)).removeprefix("Last time: ")


def run_url(org: str, flow_run_id: str) -> str:
    return settings.RUN_URL_TEMPLATE.format(
        prefect_ui=settings.PREFECT_UI_URL, flow_run_id=flow_run_id, org=org
    )


def repeat_key(row: LlmSession, pipeline: str) -> str:
    """The same failure of the same pipeline. Without a signature (no root-cause line was found)
    the category and failing step stand in for it, so an unexplained failure still folds."""
    failure = row.signature or f"{row.category}|{row.failing_step or row.task_name}"
    return hashlib.sha256(f"{pipeline}\x00{failure}".encode()).hexdigest()


def to_payload(message: Message) -> dict[str, Any]:
    data = dataclasses.asdict(message)
    data["evidence"] = list(message.evidence)
    for name in _DATES:
        moment = data[name]
        data[name] = moment.isoformat() if moment else None
    return data


def from_payload(data: dict[str, Any], **changes: Any) -> Message:
    """The stored message, with `changes` (e.g. repeat_count) applied. Unknown keys are ignored so
    rows written by an older version still send."""
    known = {f.name for f in dataclasses.fields(Message)}
    fields = {key: value for key, value in data.items() if key in known}
    fields["evidence"] = tuple(fields.get("evidence") or ())
    for name in _DATES:
        if fields.get(name):
            fields[name] = datetime.fromisoformat(fields[name])
    return Message(**(fields | changes))


def message_of(notification: Notification) -> Message:
    """What the notification sends: its stored message, as a repeat notice when it folds others."""
    return from_payload(
        notification.payload,
        repeat_count=notification.repeat_count,
        first_failed_at=notification.first_failed_at if notification.repeat_count > 1 else None,
    )
