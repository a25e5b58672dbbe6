"""What a stored webhook event is doing, as a person reads it: its state and the last reason, for the
read API, the Dalgo poll and `failbrief events`; and which events an org may see.

States: `pending` (stored; a worker has not finished it), `retrying` (Prefect did not answer; the
reason says how, when the next try comes and when it gives up), `done`, `ignored`, `unmatched`,
`failed` (the reason says why)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from failbrief.events.models import FailureEvent
from failbrief.orgs.models import Org
from failbrief.summarize.models import LlmSession

Status = FailureEvent.Status
STATES = ("pending", "retrying", "done", "ignored", "unmatched", "failed")
_WAITING = (Status.PENDING, Status.PROCESSING)


@dataclass(frozen=True)
class EventState:
    state: str  # one of STATES
    reason: str  # in words; "" when there is nothing to say
    received_at: datetime


def clock(moment: datetime) -> str:
    """`10:42 UTC`, or with the date when it is not today's."""
    moment = moment.astimezone(UTC)
    today = timezone.now().astimezone(UTC).date()
    return moment.strftime("%H:%M UTC" if moment.date() == today else "%Y-%m-%d %H:%M UTC")


def state_of(event: FailureEvent, now: datetime | None = None) -> EventState:
    now = now or timezone.now()
    if event.status in _WAITING and event.next_try_at is not None:
        wait = (event.next_try_at - now).total_seconds()
        when = f"next try in {math.ceil(wait)} s" if wait > 0 else "trying again now"
        deadline = event.received_at + timedelta(seconds=settings.RETRY_DEADLINE_SECONDS)
        return EventState(
            "retrying", f"{event.retry_reason}; {when}; giving up at {clock(deadline)}", event.received_at
        )
    if event.status == Status.PROCESSING:
        return EventState(
            "pending", "a worker is reading the run from Prefect and summarizing it", event.received_at
        )
    if event.status == Status.PENDING:
        if event.enqueued_at is None:
            reason = (
                "the task queue has not taken it yet (is the broker up? 'failbrief check'); "
                f"it is offered again every {settings.REQUEUE_AFTER_SECONDS:g} s"
            )
        else:
            reason = "waiting for a worker"
        return EventState("pending", reason, event.received_at)
    return EventState(event.status, event.status_reason, event.received_at)


def in_state(events: QuerySet[FailureEvent], state: str) -> QuerySet[FailureEvent]:
    if state == "retrying":
        return events.filter(status__in=_WAITING, next_try_at__isnull=False)
    if state == "pending":
        return events.filter(status__in=_WAITING, next_try_at__isnull=True)
    return events.filter(status=state)


def visible_events(org: Org | None) -> QuerySet[FailureEvent]:
    """Every event (None), or those an org may see: signed with its own key; else named its by the
    webhook (an org:<slug> tag, a mapped deployment) until Prefect tells whose run it is, then by the
    run itself, or summarized as its run. An event that names no
    org and that Prefect never answered for is the default org's, as its run would be."""
    events = FailureEvent.objects.all()
    if org is None:
        return events
    summarized = org.summaries.exclude(event=None).values("event_id")
    mine = Q(signed_by=org) | Q(signed_by=None, named_org=org) | Q(pk__in=summarized)
    if org.is_default:
        summarized_at_all = LlmSession.objects.exclude(event=None).values("event_id")
        unresolved = Q(status__in=[*_WAITING, Status.FAILED]) & ~Q(pk__in=summarized_at_all)
        mine |= Q(signed_by=None, named_org=None) & unresolved
    return events.filter(mine)
