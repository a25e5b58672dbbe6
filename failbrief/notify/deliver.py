"""Send one notification through its channel and record what happened. A channel that fails
never touches the summary or the other channels: each notification is its own task and row."""

from __future__ import annotations

import json
import logging
import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from failbrief.lib.deadline import within
from failbrief.lib.http import backoff_seconds
from failbrief.notify.channels.base import DeliveryError
from failbrief.notify.channels.registry import channel as channel_of
from failbrief.notify.compose import message_of
from failbrief.notify.destinations import BlockedDestination, Resolver, system_resolver
from failbrief.notify.models import Notification
from failbrief.notify.transport import GuardedTransport
from failbrief.orgs.models import Org
from failbrief.orgs.vault import VaultError, unseal

log = logging.getLogger(__name__)
Status = Notification.Status
# A sender holds its row for one send's deadline plus this, so a duplicate task does not send in
# parallel.
LOCK_MARGIN_SECONDS = 30.0
# An org at its cap of sends in flight: its next send is tried again this many seconds later
# (spread, so the waiting ones do not all come back at once). A send in flight ends by its deadline.
BUSY_RETRY_SECONDS = (1.0, 5.0)
# A waiting task is held unacknowledged by the broker until it runs (RabbitMQ drops a consumer that
# holds one past its consumer_timeout, Redis redelivers it after its visibility timeout), so a task
# comes back at most this much later; a longer wait (a 429's Retry-After) is kept in
# next_attempt_at, and a task that comes back before it waits again without sending.
LONGEST_COUNTDOWN_SECONDS = 600.0
# A Retry-After beyond this is taken as this, so a receiver cannot park a message for a year.
LONGEST_RETRY_AFTER_SECONDS = 86400.0
# A task back this much before its next_attempt_at is on time (it was scheduled for that moment).
EARLY_TOLERANCE_SECONDS = 1.0


@dataclass(frozen=True)
class Outcome:
    # sent | failed | retry | busy (the org is at its cap; not an attempt) | waiting (back before
    # its next attempt is due; not an attempt) | skipped
    status: str
    reason: str = ""
    retry_in: float | None = None


def http_client(resolver: Resolver = system_resolver) -> httpx.Client:
    """The client every channel sends with: it connects only to addresses the destination check
    passed (transport.py). It ignores HTTP(S)_PROXY: a proxy would resolve the name again itself."""
    return httpx.Client(
        timeout=settings.NOTIFY_TIMEOUT_SECONDS,
        follow_redirects=False,
        transport=GuardedTransport(resolver),
    )


def deliver(notification_id: int, http: httpx.Client) -> Outcome:
    """One attempt. Sent and failed are final; `retry` and `busy` say when to try again."""
    claim = _claim(notification_id)
    if claim == "busy":
        wait = random.uniform(*BUSY_RETRY_SECONDS)
        cap = settings.NOTIFY_ORG_CONCURRENCY
        return Outcome("busy", f"the org has {cap} sends in flight already", retry_in=wait)
    if claim == "skipped":
        return Outcome("skipped", "not pending, or another worker is sending it")
    if isinstance(claim, float):
        return Outcome("waiting", "its next attempt is not due yet", retry_in=claim)
    notification = Notification.objects.select_related("channel").get(pk=notification_id)
    channel = notification.channel
    if not channel.enabled:
        return _fail(notification, f"channel {channel.name} is disabled")
    try:
        config = json.loads(unseal(channel.config_sealed))
    except VaultError as exc:
        return _fail(notification, str(exc))
    try:
        with within(settings.NOTIFY_DEADLINE_SECONDS):
            channel_of(channel.kind).send(
                config, message_of(notification), http, str(notification.delivery_id)
            )
    except DeliveryError as exc:
        if exc.retryable and notification.attempts < settings.NOTIFY_MAX_ATTEMPTS:
            return _retry_later(notification, exc)
        return _fail(notification, _attempts_note(notification, exc))
    except BlockedDestination as exc:
        return _fail(notification, f"not sent: {exc}")
    except Exception as exc:
        log.exception("notification=%s channel=%s: unexpected error", notification.pk, channel.name)
        return _fail(notification, f"internal error: {type(exc).__name__}: {exc}")
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.SENT, sent_at=timezone.now(), reason="", locked_until=None, next_attempt_at=None
    )
    log.info(
        "notification=%s summary=%s channel=%s kind=%s sent attempts=%s repeat_count=%s",
        notification.pk,
        notification.summary_id,
        channel.name,
        channel.kind,
        notification.attempts,
        notification.repeat_count,
    )
    return Outcome("sent")


def due_for_requeue(limit: int = 500) -> list[int]:
    """Pending notifications no task is on: their publish failed, their retry was lost with a
    worker, or the broker dropped them (the embedded SQLite broker does not redeliver)."""
    now = timezone.now()
    grace = timedelta(seconds=60)
    lost_retry = Q(next_attempt_at__lt=now - grace)
    never_tried = Q(next_attempt_at__isnull=True, updated_at__lt=now - grace)
    unlocked = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    rows = (
        Notification.objects.filter(status=Status.PENDING).filter(lost_retry | never_tried).filter(unlocked)
    )
    return list(rows.order_by("pk").values_list("pk", flat=True)[:limit])


def _claim(notification_id: int) -> Literal["claimed", "busy", "skipped"] | float:
    """Take the row to send it, unless another worker has it or its org has NOTIFY_ORG_CONCURRENCY
    sends in flight already (rows held by a sender: `locked_until` ahead), across all workers. A
    float: its next attempt is not due yet; the seconds to wait (at most LONGEST_COUNTDOWN_SECONDS)."""
    now = timezone.now()
    lock = now + timedelta(seconds=settings.NOTIFY_DEADLINE_SECONDS + LOCK_MARGIN_SECONDS)
    unlocked = Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    with transaction.atomic():
        org_id = (
            Notification.objects.filter(pk=notification_id).values_list("channel__org_id", flat=True).first()
        )
        if org_id is None:
            return "skipped"
        # One claim per org at a time (PostgreSQL: the org's row lock; SQLite: its write lock), so
        # two workers cannot both count N-1 in flight and both start one.
        list(Org.objects.select_for_update().filter(pk=org_id).values_list("pk", flat=True))
        mine = Notification.objects.filter(pk=notification_id, status=Status.PENDING).filter(unlocked)
        due_at = mine.values_list("next_attempt_at", flat=True).first()
        if due_at is None and not mine.exists():
            return "skipped"
        if due_at is not None and due_at > now + timedelta(seconds=EARLY_TOLERANCE_SECONDS):
            return min((due_at - now).total_seconds(), LONGEST_COUNTDOWN_SECONDS)
        in_flight = Notification.objects.filter(
            channel__org_id=org_id, status=Status.PENDING, locked_until__gte=now
        ).count()
        if in_flight >= settings.NOTIFY_ORG_CONCURRENCY:
            # Not an attempt. Due now: beat sends it again if the task coming back for it is lost.
            mine.update(next_attempt_at=now)
            return "busy"
        mine.update(locked_until=lock, attempts=F("attempts") + 1, updated_at=now)
    return "claimed"


def _retry_later(notification: Notification, exc: DeliveryError) -> Outcome:
    delay = backoff_seconds(
        notification.attempts, exc.retry_after, base=5.0, cap=600.0, longest=LONGEST_RETRY_AFTER_SECONDS
    )
    Notification.objects.filter(pk=notification.pk).update(
        reason=_attempts_note(notification, exc),
        locked_until=None,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
    )
    log.warning(
        "notification=%s channel=%s attempt %s failed, retry in %.1f s: %s",
        notification.pk,
        notification.channel.name,
        notification.attempts,
        delay,
        exc.reason,
    )
    return Outcome("retry", exc.reason, retry_in=min(delay, LONGEST_COUNTDOWN_SECONDS))


def _fail(notification: Notification, reason: str) -> Outcome:
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.FAILED, reason=reason[:4000], locked_until=None, next_attempt_at=None
    )
    log.warning("notification=%s failed: %s", notification.pk, reason)
    return Outcome("failed", reason)


def _attempts_note(notification: Notification, exc: DeliveryError) -> str:
    return f"attempt {notification.attempts}: {exc.reason}"
