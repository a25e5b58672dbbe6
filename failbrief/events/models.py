"""A webhook as we received it: stored before we answer, so nothing the sender told us is lost."""

from __future__ import annotations

from django.db import models

from failbrief.orgs.models import Org


class FailureEvent(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"  # stored; a worker has not finished it yet
        PROCESSING = "processing"
        DONE = "done"  # summaries stored (or already existed)
        IGNORED = "ignored"  # not a failure state; kept for the record
        UNMATCHED = "unmatched"  # no org could be found for the run
        FAILED = "failed"  # a permanent error; status_reason says which

    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    raw_body = models.TextField()
    shape = models.CharField(max_length=20)
    flow_run_id = models.CharField(max_length=64, db_index=True)
    flow_run_name = models.CharField(max_length=500, blank=True)
    state_name = models.CharField(max_length=100)
    state_type = models.CharField(max_length=40, blank=True)
    state_timestamp = models.DateTimeField(null=True, blank=True)
    state_message = models.TextField(blank=True)
    # NULL, not "": events without a Prefect id must not collide in the unique constraint.
    prefect_event_id = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    dedup_key = models.CharField(max_length=200)
    # The org whose own key signed the webhook (None: the global key, the reconciler, a backfill).
    # It does not own the run: the run names its org, and a signer only starts work for its own.
    signed_by = models.ForeignKey(
        "orgs.Org", null=True, blank=True, on_delete=models.SET_NULL, related_name="signed_events"
    )
    # Duplicates are judged per signer, so one key can neither hide another's webhook nor learn
    # its event id: "global" or "org-<pk>".
    signer = models.CharField(max_length=40, default="global")
    # The org the webhook itself names before Prefect is asked (an org:<slug> tag, a mapped
    # deployment); None: only Prefect can tell, and until it does the default org sees the event.
    # Once the run is read it becomes the org the run names (events/process.py): only a guess till then.
    named_org = models.ForeignKey(
        "orgs.Org", null=True, blank=True, on_delete=models.SET_NULL, related_name="named_events"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    status_reason = models.TextField(blank=True)
    # While a worker waits for Prefect: what went wrong last, in words, and when it tries again.
    retry_reason = models.TextField(blank=True)
    next_try_at = models.DateTimeField(null=True, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    enqueue_count = models.PositiveIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    # The Celery task processing it; a retry or redelivery of that same task may claim it again.
    worker_task_id = models.CharField(max_length=64, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "received_at"], name="event_status_received")]
        constraints = [
            models.UniqueConstraint(fields=["signer", "dedup_key"], name="event_once_per_signer"),
            models.UniqueConstraint(
                fields=["signer", "prefect_event_id"], name="prefect_event_once_per_signer"
            ),
        ]

    def __str__(self) -> str:
        return f"event {self.pk}: {self.flow_run_id} {self.state_name} ({self.status})"


def signer_of(org: Org | None) -> str:
    return "global" if org is None else f"org-{org.pk}"


class ReconcilerWatermark(models.Model):
    """How far the missed-webhook reconciler has looked: runs that ended before `seen_until` were
    checked. Persisted so a restart neither misses nor re-reads a window."""

    name = models.CharField(max_length=100, unique=True)
    seen_until = models.DateTimeField()
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name}: {self.seen_until.isoformat()}"
