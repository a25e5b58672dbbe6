"""The moment a run's summaries are stored: plan each one's notifications and enqueue them.

Called by event processing (events/process.py), never by regenerate, a manual summary request or
a backfill: people are told about a failure once, when it happens."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from failbrief.notify.compose import compose
from failbrief.notify.models import NotifyChannel
from failbrief.notify.plan import plan_notifications
from failbrief.notify.tasks import deliver_notification
from failbrief.publish import publish
from failbrief.runs.errors import PrefectError
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.summarize.models import LlmSession

log = logging.getLogger(__name__)
QUIET_SHAPES = {"backfill"}  # events of past failures: summarized, not announced


class Occurrence(Protocol):
    """What a message says of the failure event that produced the summaries (events.models'
    FailureEvent, which calls this module: notify sits below events and does not import it)."""

    @property
    def shape(self) -> str: ...

    @property
    def flow_run_name(self) -> str: ...

    @property
    def state_timestamp(self) -> datetime | None: ...


def notify_summaries(
    event: Occurrence, top: FlowRun, rows: Iterable[LlmSession], client: PrefectClient
) -> list[int]:
    """Plan notifications for the event's completed root-cause summaries (cascades point at them and
    are not sent on their own); returns the ids published for delivery."""
    if event.shape in QUIET_SHAPES:
        return []
    wanted = [
        row
        for row in rows
        if row.session_status == LlmSession.Status.COMPLETED and not row.is_cascade and row.version == 1
    ]
    if not wanted or not NotifyChannel.objects.filter(org=wanted[0].org, enabled=True).exists():
        return []
    deployment = _deployment_name(client, top)
    pipeline = deployment or _flow_of(top)
    due: list[int] = []
    for row in wanted:
        message = compose(
            row,
            flow_run_name=top.name or event.flow_run_name,
            deployment=deployment,
            failed_at=event.state_timestamp or top.end_time,
        )
        due += plan_notifications(row, message, pipeline)
    for notification_id in due:
        publish(deliver_notification, notification_id)  # a failed publish is retried by beat
    return due


def _flow_of(run: FlowRun) -> str:
    """What repeats of a run without a deployment have in common: its flow. Not the run's name,
    which Prefect makes up anew for every run ("crimson-fox"), so no repeat would ever fold."""
    return f"flow:{run.flow_id}" if run.flow_id else run.name or run.id


def _deployment_name(client: PrefectClient, run: FlowRun) -> str:
    if not run.deployment_id:
        return ""
    try:
        return client.deployment(run.deployment_id).name
    except PrefectError as exc:
        # The message still goes out, named after the flow run.
        log.warning("deployment %s of %s not read for the notification: %s", run.deployment_id, run.id, exc)
        return ""
