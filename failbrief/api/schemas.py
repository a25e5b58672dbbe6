from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Schema

from failbrief.summarize.models import LlmSession


class SummaryOut(Schema):
    id: int
    request_uuid: str
    flow_run_id: str
    task_id: str
    task_name: str
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
    response: list[dict[str, Any]] | None
    error_reason: str
    timings: dict[str, float]
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
            response=row.response,
            error_reason=row.error_reason,
            timings=row.timings or {},
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


class RunSummariesOut(Schema):
    flow_run_id: str
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
