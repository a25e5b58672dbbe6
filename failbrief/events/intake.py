"""Store a webhook, then hand it to Celery. The database row is the durable record; the broker
message is only a nudge, re-sent by beat when the broker was down."""

from __future__ import annotations

from datetime import timedelta
from functools import partial

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from failbrief.condense.redact import redact
from failbrief.events.models import FailureEvent, signer_of
from failbrief.events.parse import FailureNotice
from failbrief.orgs.models import Org
from failbrief.orgs.resolve import org_named_by_webhook
from failbrief.publish import publish

# events/tasks.py runs the event; it imports this module, so the task is named, not imported.
PROCESS_EVENT_TASK = "failbrief.events.tasks.process_event"
# A notice with no state time and no event id (Dalgo's sentence) cannot say which failure of its run
# it is about. Prefect re-sends a send-notification it could not deliver 3 times within about 200 ms
# (docs/prefect-behaviour.md §4) and two automations send one state change within a second; a run
# retried from Prefect's UI fails again only after a worker has picked it up and run it. So such a
# notice this soon after its twin is a repeat, and a later one the run's next failure.
REPEAT_WITHIN = timedelta(seconds=10)


def store_notice(
    raw: bytes, notice: FailureNotice, signed_by: Org | None, *, enqueue: bool = True
) -> tuple[FailureEvent, bool]:
    """Store the notice once per signer. Returns (event, duplicate); a duplicate does no new work.
    `signed_by` is the org whose own key signed it (None: the global key or our own reconciler and
    backfill). `enqueue=False` is for a caller that processes the event itself (backfill)."""
    signer = signer_of(signed_by)
    for _ in range(3):
        key = notice.dedup_key[:200]
        if notice.undated:
            earlier = _latest_undated(notice, signer)
            if earlier is not None and earlier.received_at > timezone.now() - REPEAT_WITHIN:
                return earlier, True
            key = _next_undated_key(key, earlier)
        try:
            with transaction.atomic():
                event = FailureEvent.objects.create(**_fields(raw, notice, signed_by, key))
        except IntegrityError:
            if not notice.undated and (existing := _duplicate_of(notice, signer)) is not None:
                return existing, True
            continue  # the row we collided with was rolled back, or a twin took this key: look again
        if enqueue and event.status == FailureEvent.Status.PENDING:
            transaction.on_commit(partial(enqueue_event, event.pk))
        return event, False
    raise RuntimeError(f"could not store the event for flow run {notice.flow_run_id}")


def _latest_undated(notice: FailureNotice, signer: str) -> FailureEvent | None:
    """The newest event of this signer for the same run and state that was undated too."""
    key = notice.dedup_key[:200]
    same = Q(dedup_key=key) | Q(dedup_key__startswith=f"{key[:190]}#")
    events = FailureEvent.objects.filter(same, signer=signer, flow_run_id=notice.flow_run_id)
    return events.order_by("-pk").first()


def _next_undated_key(key: str, earlier: FailureEvent | None) -> str:
    """The first such notice keeps the plain key; the run's next failures are numbered #2, #3, ..."""
    if earlier is None:
        return key
    number = earlier.dedup_key.rpartition("#")[2]
    return f"{key[:190]}#{int(number) + 1 if number.isdigit() else 2}"


def _fields(raw: bytes, notice: FailureNotice, signed_by: Org | None, dedup_key: str) -> dict[str, object]:
    ignored = not notice.starts_work
    return {
        # Prefect puts the state message (often an exception with a connection string) in the body.
        "raw_body": redact(raw.decode("utf-8", "replace")),
        "shape": notice.shape,
        "flow_run_id": notice.flow_run_id,
        "flow_run_name": redact(notice.flow_run_name)[:500],  # templated from parameters, as Prefect's
        "state_name": notice.state_name[:100],
        "state_type": (notice.state_type or "")[:40],
        "state_timestamp": notice.state_timestamp,
        "state_message": redact(notice.state_message),
        "prefect_event_id": notice.prefect_event_id,
        "dedup_key": dedup_key,
        "signed_by": signed_by,
        "signer": signer_of(signed_by),
        "named_org": None if signed_by else org_named_by_webhook(notice.deployment_id, notice.tags),
        "status": FailureEvent.Status.IGNORED if ignored else FailureEvent.Status.PENDING,
        "status_reason": f"state {notice.state_name!r} is not a failure state" if ignored else "",
    }


def _duplicate_of(notice: FailureNotice, signer: str) -> FailureEvent | None:
    same = Q(dedup_key=notice.dedup_key[:200])
    if notice.prefect_event_id:
        same |= Q(prefect_event_id=notice.prefect_event_id)
    return FailureEvent.objects.filter(same, signer=signer).order_by("pk").first()


def enqueue_event(event_id: int) -> bool:
    """Publish the event to Celery. A broker that is down is logged, not raised: the event is
    safe in the database and beat re-enqueues it (events_to_requeue)."""
    if not publish(PROCESS_EVENT_TASK, event_id):
        return False  # the event stays pending; beat re-enqueues it
    sent = FailureEvent.objects.filter(pk=event_id)
    sent.update(enqueued_at=timezone.now(), enqueue_count=F("enqueue_count") + 1)
    return True


def events_to_requeue(limit: int = 500) -> list[int]:
    """Pending events nobody has nudged lately, and processing ones whose worker went away."""
    now = timezone.now()
    quiet = now - timedelta(seconds=settings.REQUEUE_AFTER_SECONDS)
    stuck = now - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    pending = Q(status=FailureEvent.Status.PENDING, received_at__lt=quiet) & (
        Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=quiet)
    )
    abandoned = Q(status=FailureEvent.Status.PROCESSING, started_at__lt=stuck)
    ids = (
        FailureEvent.objects.filter(pending | abandoned).order_by("received_at").values_list("pk", flat=True)
    )
    return list(ids[:limit])
