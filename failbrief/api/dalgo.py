"""Dalgo-compatible endpoints: the same paths and shapes as DDP_backend, for DDP_backend to call on
the webapp's behalf with a platform token (docs/dalgo.md); the webapp cannot call them itself.

GET /api/prefect/v1/flow_runs/{flow_run_id}/logsummary?task_id=&regenerate=0|1  → {"task_id": ...}
GET /api/tasks/stp/{task_id}                                                 → {"progress": [...]}
"""

from __future__ import annotations

import uuid

from django.http import Http404, HttpRequest
from ninja import Router
from ninja.errors import HttpError

from failbrief.api.auth import request_org
from failbrief.api.limits import limit_summary_request
from failbrief.api.schemas import ErrorOut, ProgressItem, ProgressOut, TriggerOut
from failbrief.events.state import state_of
from failbrief.publish import publish
from failbrief.runs.configured import prefect_client
from failbrief.summarize.models import LlmSession
from failbrief.summarize.on_demand import request_summary
from failbrief.summarize.store import fail_summary
from failbrief.summarize.tasks import summarize_requested

router = Router(tags=["dalgo-compatible"])
Status = LlmSession.Status


@router.get(
    "/prefect/v1/flow_runs/{flow_run_id}/logsummary", response={200: TriggerOut, 404: ErrorOut, 503: ErrorOut}
)
def trigger_log_summary(
    request: HttpRequest, flow_run_id: str, task_id: str, regenerate: int = 0
) -> TriggerOut:
    """Returns a handle to poll at /api/tasks/stp/{task_id}. A stored summary is reused (and is
    `completed` on the first poll) unless regenerate=1."""
    limit_summary_request(request, f"{flow_run_id}:{task_id}", regenerate=bool(regenerate))
    with prefect_client() as client:
        row, needs_worker = request_summary(
            request_org(request), flow_run_id, task_id, regenerate=bool(regenerate), client=client
        )
    if needs_worker and not publish(summarize_requested, row.pk):
        fail_summary(row, "the task queue was unreachable; ask again")
        raise HttpError(503, "the task queue is unreachable; try again shortly")
    return TriggerOut(task_id=str(row.request_uuid))


@router.get("/tasks/stp/{task_id}", response={200: ProgressOut, 404: ErrorOut})
def task_progress(request: HttpRequest, task_id: str) -> ProgressOut:
    try:
        handle = uuid.UUID(task_id)
    except ValueError:
        raise Http404("no such task") from None
    row = (
        LlmSession.objects.filter(org=request_org(request), request_uuid=handle)
        .select_related("event")
        .first()
    )
    if row is None:
        raise Http404("no such task")
    return ProgressOut(progress=progress_of(row))


def progress_of(row: LlmSession) -> list[ProgressItem]:
    started = ProgressItem(message="Summarizing the logs of the failed run", status=Status.RUNNING)
    if row.session_status == Status.COMPLETED:
        return [
            started,
            ProgressItem(message="Summary ready", status=Status.COMPLETED, result=row.response or []),
        ]
    if row.session_status == Status.FAILED:
        return [started, ProgressItem(message=row.error_reason or "Summarizing failed", status=Status.FAILED)]
    if row.event is not None and (state := state_of(row.event)).state == "retrying":
        return [started, ProgressItem(message=state.reason, status=Status.RUNNING)]
    return [started]
