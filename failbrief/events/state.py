"""What a stored webhook event is doing, as a person reads it: its state and the last reason."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet

from failbrief.events.models import FailureEvent
from failbrief.orgs.models import Org

Status = FailureEvent.Status


@dataclass(frozen=True)
class EventState:
    state: str  # pending | processing | done | ignored | unmatched | failed
    reason: str  # in words; "" when there is nothing to say
    received_at: datetime


def state_of(event: FailureEvent) -> EventState:
    return EventState(event.status, event.status_reason, event.received_at)


def events_of(org: Org | None) -> QuerySet[FailureEvent]:
    """Every event, or an org's: signed with its own key, or summarized as its run."""
    events = FailureEvent.objects.all()
    if org is None:
        return events
    mine = Q(signed_by=org) | Q(pk__in=org.summaries.exclude(event=None).values("event_id"))
    return events.filter(mine)
