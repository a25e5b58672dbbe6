"""Summaries. `LlmSession` keeps the name and fields of Dalgo's table so its webapp reads ours."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.db import models
from django.db.models import Q
from django.db.models.expressions import DatabaseDefault
from django.db.models.functions import Now
from django.utils import timezone

# The pages' failures list: its partial indexes, by org and by each filter (migration 0008).
LIST_INDEXES = {
    "summary_failed": ["org"],
    "summary_failed_category": ["org", "category"],
    "summary_failed_deployment": ["org", "deployment_name"],
    "summary_failed_flow": ["org", "flow_name"],
    "summary_failed_state": ["org", "run_state"],
}


def failure_time(unit_ended: datetime | None, state_time: datetime | None, stored: datetime) -> datetime:
    """When a failure happened: Prefect's end time of the failed unit, else the time of the state
    the webhook reported, else when failbrief stored it."""
    return unit_ended or state_time or stored


class LlmSession(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running"
        COMPLETED = "completed"
        FAILED = "failed"

    LOG_SUMMARIZATION = "log_summarization"

    # --- Dalgo's fields ---
    request_uuid = models.UUIDField(editable=False, unique=True, default=uuid.uuid4)
    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="summaries")
    orguser = models.CharField(max_length=200, null=True, blank=True)  # noqa: DJ001  (Dalgo: NULL = nobody)
    flow_run_id = models.CharField(max_length=64)
    task_id = models.CharField(max_length=64)
    airbyte_job_id = models.BigIntegerField(null=True, blank=True)
    session_type = models.CharField(max_length=100, default=LOG_SUMMARIZATION)
    session_status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    response = models.JSONField(null=True, blank=True)  # [{"prompt": ..., "response": ...}]
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # --- ours ---
    version = models.PositiveIntegerField(default=1)  # regenerate adds a version, keeps the old
    event = models.ForeignKey(
        "events.FailureEvent", null=True, blank=True, on_delete=models.SET_NULL, related_name="summaries"
    )
    task_name = models.CharField(max_length=500, blank=True)
    unit_kind = models.CharField(max_length=20, default="task_run")  # task_run | flow_run
    position = models.PositiveIntegerField(default=0)  # 0 = the root failure of the run
    is_cascade = models.BooleanField(default=False)
    cascade_reason = models.TextField(blank=True)
    category = models.CharField(max_length=50, blank=True)
    root_cause = models.TextField(null=True, blank=True)  # noqa: DJ001  (NULL = insufficient evidence)
    failing_step = models.CharField(max_length=500, null=True, blank=True)  # noqa: DJ001  (NULL = unknown)
    evidence = models.JSONField(default=list, blank=True)
    suggested_fix = models.TextField(blank=True)
    explanation = models.TextField(blank=True)
    confidence = models.CharField(max_length=20, blank=True)
    summarizer = models.CharField(max_length=50, blank=True)
    context_tokens = models.PositiveIntegerField(null=True, blank=True)
    log_lines = models.PositiveIntegerField(null=True, blank=True)
    # The condensed, redacted context the brief was written from (what the LLM or the offline rules
    # read; at most CONTEXT_MAX_TOKENS). "" for a cascade, and for summaries stored before it was kept.
    context = models.TextField(blank=True, default="")
    timings = models.JSONField(default=dict, blank=True)  # seconds per step
    error_reason = models.TextField(blank=True)
    # The Celery task working on the row. A redelivered task (same id) may take it over; another may not.
    worker_task_id = models.CharField(max_length=64, blank=True)

    # --- where the logs came from ---
    log_source = models.CharField(max_length=20, blank=True)  # prefect | airbyte | file
    source_note = models.TextField(
        blank=True
    )  # e.g. "Airbyte is not configured: summarized from Prefect's logs"
    airbyte_connection_id = models.CharField(max_length=64, blank=True)
    airbyte_attempt_number = models.IntegerField(null=True, blank=True)

    # --- the LLM call, when there was one ---
    provider = models.CharField(max_length=50, blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_version = models.CharField(max_length=50, blank=True)
    tokens_in = models.PositiveIntegerField(null=True, blank=True)
    tokens_out = models.PositiveIntegerField(null=True, blank=True)
    llm_latency_seconds = models.FloatField(null=True, blank=True)
    cost_estimate_usd = models.FloatField(null=True, blank=True)
    llm_error = models.TextField(blank=True)  # why the offline fallback was stored instead

    # --- failure signature: the same failure again reuses a stored summary ---
    signature = models.CharField(max_length=64, blank=True, db_index=True)
    reused_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reuses"
    )
    reuse_count = models.PositiveIntegerField(default=0)

    # --- what the pages list and filter by (from the webhook: events/run_facts.py) ---
    flow_name = models.CharField(max_length=500, blank=True)
    deployment_name = models.CharField(max_length=500, blank=True)
    run_state = models.CharField(max_length=100, blank=True)  # Prefect's state name: Failed, Crashed, …
    # When the unit's failure ended (Prefect's end time). A flow run retried from Prefect's UI keeps
    # its id: a flow-run unit that ends again later is a new failure with a row of its own.
    unit_ended_at = models.DateTimeField(null=True, blank=True)
    # When the failure happened, as the pages list, order and date-filter it: the unit's end time,
    # else the webhook's state time, else when the row was stored (failure_time). Not created_at: a
    # backfill stores last week's failures today. The database's now() covers a row inserted by a
    # process older than this column (during an upgrade), so the list never meets a NULL.
    failed_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            # A manual request and the webhook for the same Airbyte attempt share one summary.
            models.UniqueConstraint(
                fields=["org", "airbyte_job_id", "airbyte_attempt_number", "version"],
                condition=Q(airbyte_job_id__isnull=False),
                name="one_summary_per_airbyte_attempt",
            ),
            models.UniqueConstraint(
                fields=["org", "flow_run_id", "task_id", "session_type", "version"],
                name="one_summary_per_unit",
            ),
        ]
        indexes = [
            models.Index(fields=["session_status", "updated_at"], name="summary_status_updated"),
            # The pages' failures list: newest first, one row per run's root failure (position 0,
            # first version), by itself and by each filter. Partial indexes: exactly those rows.
            # Ordered by the failure's time, then id; a date range is a range of the same index.
            *(
                models.Index(
                    fields=[*columns, "-failed_at", "-id"], name=name, condition=Q(position=0, version=1)
                )
                for name, (columns) in LIST_INDEXES.items()
            ),
            models.Index(fields=["org", "signature", "version", "-id"], name="summary_org_signature"),
            models.Index(fields=["created_at"], name="summary_created"),
            # "seen N×": runs counted by signature. Small (a signature is stored once for all its
            # runs, PostgreSQL's deduplication), so counting reads a few pages per signature.
            models.Index(fields=["org", "signature"], name="summary_seen", condition=Q(version=1)),
        ]

    def __str__(self) -> str:
        return f"summary {self.pk}: {self.flow_run_id}/{self.task_id} v{self.version} ({self.session_status})"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and isinstance(self.failed_at, DatabaseDefault | None):
            self.failed_at = failure_time(self.unit_ended_at, self._event_time(), timezone.now())
        super().save(*args, **kwargs)

    def _event_time(self) -> datetime | None:
        # The event comes with the row (fields=event=…) wherever rows are stored: no query then.
        return self.event.state_timestamp if self.event is not None else None


class SummaryRun(models.Model):
    """Every flow run a summary belongs to: the top-level run and each subflow down to the failure,
    so the parent's and the subflow's webhooks both find the one summary."""

    summary = models.ForeignKey(LlmSession, on_delete=models.CASCADE, related_name="runs")
    flow_run_id = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["summary", "flow_run_id"], name="one_link_per_run")]

    def __str__(self) -> str:
        return f"{self.flow_run_id} → summary {self.summary_id}"
