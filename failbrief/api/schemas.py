from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema

from failbrief.summarize.models import LlmSession
from failbrief.summarize.signature import same_as


class SummaryOut(Schema):
    id: int
    request_uuid: str
    flow_run_id: str
    task_id: str
    task_name: str
    session_type: str
    version: int
    status: str
    position: int
    is_cascade: bool
    cascade_reason: str
    category: str
    root_cause: str | None
    failing_step: str | None
    evidence: list[str]
    suggested_fix: str
    explanation: str
    confidence: str
    insufficient_evidence: bool
    summarizer: str
    log_source: str  # prefect | airbyte
    source_note: str  # said plainly, e.g. "Airbyte is not configured: summarized from Prefect's logs"
    airbyte_connection_id: str
    airbyte_job_id: int | None
    airbyte_attempt_number: int | None
    provider: str  # the LLM asked ("" = none); with summarizer "offline" and llm_error, it failed
    model: str
    prompt_version: str
    tokens_in: int | None
    tokens_out: int | None
    llm_latency_seconds: float | None
    cost_estimate_usd: float | None
    llm_error: str
    reused_from: int | None  # the summary this one reuses (the same failure signature)
    same_as: str | None  # "same as <flow run> (N times)"
    response: list[dict[str, Any]] | None
    error_reason: str
    timings: dict[str, float]
    failed_at: datetime  # when the failure happened (Prefect's end time of the unit); backfilled ones are old
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(row: LlmSession) -> SummaryOut:
        return SummaryOut(
            id=row.pk,
            request_uuid=str(row.request_uuid),
            flow_run_id=row.flow_run_id,
            task_id=row.task_id,
            task_name=row.task_name,
            session_type=row.session_type,
            version=row.version,
            status=row.session_status,
            position=row.position,
            is_cascade=row.is_cascade,
            cascade_reason=row.cascade_reason,
            category=row.category,
            root_cause=row.root_cause,
            failing_step=row.failing_step,
            evidence=list(row.evidence or []),
            suggested_fix=row.suggested_fix,
            explanation=row.explanation,
            confidence=row.confidence,
            insufficient_evidence=row.session_status == LlmSession.Status.COMPLETED and not row.root_cause,
            summarizer=row.summarizer,
            log_source=row.log_source,
            source_note=row.source_note,
            airbyte_connection_id=row.airbyte_connection_id,
            airbyte_job_id=row.airbyte_job_id,
            airbyte_attempt_number=row.airbyte_attempt_number,
            provider=row.provider,
            model=row.model,
            prompt_version=row.prompt_version,
            tokens_in=row.tokens_in,
            tokens_out=row.tokens_out,
            llm_latency_seconds=row.llm_latency_seconds,
            cost_estimate_usd=row.cost_estimate_usd,
            llm_error=row.llm_error,
            reused_from=row.reused_from_id,
            same_as=same_as(row.reused_from) if row.reused_from_id and row.reused_from else None,
            response=row.response,
            error_reason=row.error_reason,
            timings=row.timings or {},
            failed_at=row.failed_at,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class SummaryDetailOut(SummaryOut):
    """One summary by its id: also the condensed context its brief was written from (redacted, at
    most CONTEXT_MAX_TOKENS), too big to repeat in every item of a list. Null when it was not kept
    (a cascade, a summary not completed, one stored before contexts were kept)."""

    context: str | None

    @staticmethod
    def of(row: LlmSession) -> SummaryDetailOut:
        return SummaryDetailOut(**SummaryOut.of(row).model_dump(), context=row.context or None)


class RunSummariesOut(Schema):
    flow_run_id: str
    # "summarized" once every summary is finished, "running" while one is being written ("retrying"
    # while it waits for Prefect); before any exists, the webhook event's state: pending, retrying or
    # failed, with `reason` in words and when the webhook arrived.
    state: str = "summarized"
    reason: str = ""
    received_at: datetime | None = None
    summaries: list[SummaryOut]


class SummaryPageOut(Schema):
    summaries: list[SummaryOut]
    next_cursor: str | None


class TriggerOut(Schema):
    task_id: str


class ProgressItem(Schema):
    message: str
    status: str
    result: list[dict[str, Any]] | None = None


class ProgressOut(Schema):
    progress: list[ProgressItem]


class ErrorOut(Schema):
    detail: str
