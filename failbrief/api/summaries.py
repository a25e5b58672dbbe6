"""/api/v1/: summaries by flow run, by id, and as a paginated list."""

from __future__ import annotations

from datetime import datetime

from django.http import Http404, HttpRequest
from ninja import Query, Router, Schema
from ninja import Status as WithStatus
from ninja.errors import HttpError

from failbrief.api.auth import request_org
from failbrief.api.limits import limit_regenerate
from failbrief.api.listing import check_limit, in_utc, keyset_page, narrowed
from failbrief.api.schemas import ErrorOut, RunSummariesOut, SummaryDetailOut, SummaryOut, SummaryPageOut
from failbrief.events.models import FailureEvent
from failbrief.events.state import state_of, visible_events
from failbrief.orgs.models import Org
from failbrief.publish import publish
from failbrief.summarize.models import LlmSession
from failbrief.summarize.on_demand import shown_order, summaries_of_run
from failbrief.summarize.store import fail_summary, new_version
from failbrief.summarize.tasks import summarize_requested

router = Router(tags=["summaries"])
Status = LlmSession.Status
# Events whose run may still get a summary, or failed to: what a reader of the run is told about.
WORKING = (FailureEvent.Status.PENDING, FailureEvent.Status.PROCESSING, FailureEvent.Status.FAILED)
# Up to 16 KB a row that only the one-summary answer shows: lists do not read it.
NOT_LISTED = ("context", "reused_from__context")


@router.get("/flow-runs/{flow_run_id}/summaries", response={200: RunSummariesOut, 404: ErrorOut})
def run_summaries(request: HttpRequest, flow_run_id: str) -> RunSummariesOut:
    """One summary per failed unit of the run (or of a subflow of it), the root failure first
    (a run that failed again after a retry: its latest failure first): the newest completed
    version of each, else its newest version. Before any is stored, 200 with
    no summaries and the webhook event's state (pending, retrying, failed, ...) and reason; 404 when
    failbrief has heard nothing of the run (for this org)."""
    rows = list(
        summaries_of_run(request_org(request), flow_run_id)
        .select_related("reused_from", "event")
        .defer(*NOT_LISTED)
        .order_by("position", "task_id", "-version", "-pk")
    )
    if not rows:
        return _waiting(request_org(request), flow_run_id)
    newest: dict[str, LlmSession] = {}
    for row in rows:
        kept = newest.get(row.task_id)
        if kept is None or (
            kept.session_status != Status.COMPLETED and row.session_status == Status.COMPLETED
        ):
            newest[row.task_id] = row
    shown = sorted(newest.values(), key=shown_order)
    found = RunSummariesOut(flow_run_id=flow_run_id, summaries=[SummaryOut.of(r) for r in shown])
    running = [r for r in newest.values() if r.session_status == Status.RUNNING]
    if running:
        found.state, found.reason = "running", "writing the summaries"
    waiting = next((r.event for r in running if r.event), None)
    if waiting is not None and (state := state_of(waiting)).state == "retrying":
        found.state, found.reason, found.received_at = state.state, state.reason, state.received_at
    return found


def _waiting(org: Org, flow_run_id: str) -> RunSummariesOut:
    """No summary yet: the state of the run's newest webhook event this org may see, while a summary
    may still come (pending, retrying) or when it failed; else 404 saying what failbrief knows."""
    events = visible_events(org).filter(flow_run_id=flow_run_id).order_by("-received_at", "-pk")
    event = events.filter(status__in=WORKING).first()
    if event is not None:
        state = state_of(event)
        return RunSummariesOut(
            flow_run_id=flow_run_id,
            state=state.state,
            reason=state.reason,
            received_at=state.received_at,
            summaries=[],
        )
    settled = events.first()
    if settled is not None:
        state = state_of(settled)
        raise HttpError(
            404, f"no summary of flow run {flow_run_id}: its webhook was {state.state} ({state.reason})"
        )
    raise HttpError(
        404,
        f"failbrief has not heard of flow run {flow_run_id}: no webhook for it and no summary (for this org)",
    )


@router.get("/summaries/{summary_id}", response={200: SummaryDetailOut, 404: ErrorOut})
def one_summary(request: HttpRequest, summary_id: int) -> SummaryDetailOut:
    """One summary, with the condensed context its brief was written from."""
    row = LlmSession.objects.filter(org=request_org(request), pk=summary_id).first()
    if row is None:
        raise Http404("no such summary")
    return SummaryDetailOut.of(row)


@router.post("/summaries/{summary_id}/regenerate", response={202: SummaryOut, 404: ErrorOut, 503: ErrorOut})
def regenerate(request: HttpRequest, summary_id: int) -> WithStatus[SummaryOut]:
    """Summarize the unit again as a new version (running; poll it by its id). Older versions are
    kept; the read APIs show the newest completed one. Always asks the LLM again: a stored summary
    of the same failure is not reused."""
    row = LlmSession.objects.filter(org=request_org(request), pk=summary_id).first()
    if row is None:
        raise Http404("no such summary")
    limit_regenerate(request, f"{row.flow_run_id}:{row.task_id}")
    fresh = new_version(row)
    if not publish(summarize_requested, fresh.pk):
        fail_summary(fresh, "the task queue was unreachable; ask again")
        raise HttpError(503, "the task queue is unreachable; try again shortly")
    return WithStatus(202, SummaryOut.of(fresh))


class ListParams(Schema):
    status: Status | None = None
    since: datetime | None = None
    limit: int = 50
    cursor: str | None = None


@router.get("/summaries", response={200: SummaryPageOut, 400: ErrorOut})
def list_summaries(request: HttpRequest, params: Query[ListParams]) -> SummaryPageOut:
    """Newest first. Pass `next_cursor` back as `cursor` for the next page."""
    check_limit(params.limit, 200)
    rows = LlmSession.objects.filter(org=request_org(request)).select_related("reused_from")
    rows = narrowed(
        rows.defer(*NOT_LISTED).order_by("-pk"),
        session_status=params.status,
        created_at__gte=in_utc(params.since),
    )
    page, next_cursor = keyset_page(rows, params.cursor, params.limit)
    return SummaryPageOut(summaries=[SummaryOut.of(r) for r in page], next_cursor=next_cursor)
