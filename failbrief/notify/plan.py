"""Which channels get a completed summary, and when a repeat is held instead of sent.

Every enabled channel of the org gets one notification per summary (UNIQUE in the database, so a
redelivered task or the parent's and the subflow's webhooks never send twice). The same failure of
the same pipeline again within NOTIFY_REPEAT_WINDOW_SECONDS of the channel's last message is held;
when the window closes, the held ones become one "failing again (N×)" message (the latest of them),
which opens the next window. A failure that arrives after the window closed, before beat flushed
it, takes the held ones into its own message.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from failbrief.notify.compose import repeat_key, to_payload
from failbrief.notify.message import Message
from failbrief.notify.models import Notification, NotifyChannel
from failbrief.summarize.models import LlmSession

Status = Notification.Status
OPEN = (Status.PENDING, Status.SENT, Status.FAILED)  # messages that went out (or are going)


def plan_notifications(row: LlmSession, message: Message, pipeline: str) -> list[int]:
    """Create this summary's notifications; returns the ids to deliver now."""
    key = repeat_key(row, pipeline)
    due = []
    for channel in NotifyChannel.objects.filter(org=row.org, enabled=True):
        notification = _plan_one(channel, row, key, message)
        if notification is not None and notification.status == Status.PENDING:
            due.append(notification.pk)
    return due


def _plan_one(channel: NotifyChannel, row: LlmSession, key: str, message: Message) -> Notification | None:
    with transaction.atomic():
        # One planner per channel at a time, so two workers finishing the same failure at once
        # do not both find "no message yet" and send two.
        NotifyChannel.objects.select_for_update().filter(pk=channel.pk).first()
        if Notification.objects.filter(channel=channel, summary=row).exists():
            return None
        now = timezone.now()
        anchor = _anchor(channel, key)
        fields = {"channel": channel, "summary": row, "repeat_key": key, "payload": to_payload(message)}
        if anchor is not None and _window_open(anchor, now):
            return Notification.objects.create(
                **fields, status=Status.HELD, first_failed_at=message.failed_at
            )
        held = list(_held(channel, key))
        if anchor is None or not held:
            return Notification.objects.create(
                **fields, opened_at=now, first_failed_at=message.failed_at or now
            )
        notification = Notification.objects.create(
            **fields,
            opened_at=now,
            repeat_count=anchor.repeat_count + len(held) + 1,
            first_failed_at=anchor.first_failed_at,
        )
        _fold(held, notification)
        return notification


def flush_held(now: datetime | None = None) -> list[int]:
    """Beat: for every (channel, failure) whose window has closed with failures held, turn the
    latest held one into the "failing again (N×)" message; returns the ids to deliver."""
    now = now or timezone.now()
    groups = (
        Notification.objects.filter(status=Status.HELD).values_list("channel_id", "repeat_key").distinct()
    )
    due = []
    for channel_id, key in list(groups):
        with transaction.atomic():
            channel = NotifyChannel.objects.select_for_update().filter(pk=channel_id).first()
            if channel is None:
                continue
            anchor = _anchor(channel, key)
            if anchor is not None and _window_open(anchor, now):
                continue
            held = list(_held(channel, key))
            if not held:
                continue  # another beat flushed it
            *earlier, latest = held
            Notification.objects.filter(pk=latest.pk).update(
                status=Status.PENDING,
                opened_at=now,
                repeat_count=(anchor.repeat_count if anchor else 1) + len(held),
                first_failed_at=anchor.first_failed_at if anchor else held[0].first_failed_at,
            )
            _fold(earlier, latest)
            due.append(latest.pk)
    return due


def _anchor(channel: NotifyChannel, key: str) -> Notification | None:
    return (
        Notification.objects.filter(channel=channel, repeat_key=key, status__in=OPEN)
        .order_by("-opened_at", "-pk")
        .first()
    )


def _held(channel: NotifyChannel, key: str) -> list[Notification]:
    return list(
        Notification.objects.filter(channel=channel, repeat_key=key, status=Status.HELD).order_by(
            "created_at", "pk"
        )
    )


def _window_open(anchor: Notification, now: datetime) -> bool:
    window = settings.NOTIFY_REPEAT_WINDOW_SECONDS
    opened = anchor.opened_at or anchor.created_at
    return window > 0 and opened > now - timedelta(seconds=window)


def _fold(held: list[Notification], into: Notification) -> None:
    Notification.objects.filter(pk__in=[n.pk for n in held]).update(
        status=Status.FOLDED, folded_into=into, reason=f"reported in notification {into.pk}"
    )
