"""/api/v1/feedback: what people said of the org's briefs (the pages' 👍/👎, comments and category
corrections), as labelled data: each verdict with the brief it judges."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from ninja import Query, Router, Schema

from failbrief.api.auth import request_org
from failbrief.api.listing import check_limit, in_utc, keyset_page, narrowed
from failbrief.api.schemas import ErrorOut
from failbrief.pages.models import Feedback

router = Router(tags=["feedback"])


class FeedbackOut(Schema):
    id: int
    summary_id: int
    flow_run_id: str
    task_id: str
    version: int
    user: str  # the person's email
    helpful: bool
    comment: str
    category: str  # what the brief said
    category_correction: str  # what the person says it is ("" = the brief was right, or no opinion)
    label: str  # the category to learn from: the correction, else the brief's when helpful, else ""
    root_cause: str | None
    failing_step: str | None
    evidence: list[str]
    signature: str
    summarizer: str
    provider: str
    model: str
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def of(fb: Feedback) -> FeedbackOut:
        row = fb.summary
        label = fb.category_correction or (row.category if fb.helpful else "")
        return FeedbackOut(
            id=fb.pk,
            summary_id=row.pk,
            flow_run_id=row.flow_run_id,
            task_id=row.task_id,
            version=row.version,
            user=fb.user.email or fb.user.username,
            helpful=fb.helpful,
            comment=fb.comment,
            category=row.category,
            category_correction=fb.category_correction,
            label=label,
            root_cause=row.root_cause,
            failing_step=row.failing_step,
            evidence=[str(line) for line in row.evidence or []],
            signature=row.signature,
            summarizer=row.summarizer,
            provider=row.provider,
            model=row.model,
            created_at=fb.created_at,
            updated_at=fb.updated_at,
        )


class FeedbackPageOut(Schema):
    feedback: list[FeedbackOut]
    next_cursor: str | None


class FeedbackParams(Schema):
    since: datetime | None = None  # changed at or after this moment
    limit: int = 100
    cursor: str | None = None


@router.get("/feedback", response={200: FeedbackPageOut, 400: ErrorOut})
def list_feedback(request: HttpRequest, params: Query[FeedbackParams]) -> FeedbackPageOut:
    """Newest first. Pass `next_cursor` back as `cursor` for the next page."""
    check_limit(params.limit, 500)
    rows = Feedback.objects.filter(summary__org=request_org(request)).select_related("summary", "user")
    rows = narrowed(rows.order_by("-pk"), updated_at__gte=in_utc(params.since))
    page, next_cursor = keyset_page(rows, params.cursor, params.limit)
    return FeedbackPageOut(feedback=[FeedbackOut.of(f) for f in page], next_cursor=next_cursor)
