"""Dalgo webapp compatibility for Airbyte syncs: the same path and shape as DDP_backend.

GET /api/airbyte/v1/connections/{connection_id}/logsummary?job_id=&attempt_number=&regenerate=0|1
    → {"task_id": ...}, polled at /api/tasks/stp/{task_id} (api/dalgo.py).
"""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router
from ninja.errors import HttpError

from failbrief.api.auth import request_org
from failbrief.api.limits import limit_summary_request
from failbrief.api.schemas import ErrorOut, TriggerOut
from failbrief.publish import publish
from failbrief.sources.airbyte import AirbyteError, AirbyteUnavailable
from failbrief.sources.airbyte_jobs import NotThisOrgsConnection
from failbrief.summarize.on_demand_airbyte import request_airbyte_summary
from failbrief.summarize.store import fail_summary
from failbrief.summarize.tasks import summarize_airbyte_requested

router = Router(tags=["dalgo-compatible"])
MAX_JOB_ID = 2**63 - 1  # Airbyte's job ids are int64


@router.get(
    "/airbyte/v1/connections/{connection_id}/logsummary",
    response={200: TriggerOut, 404: ErrorOut, 422: ErrorOut, 502: ErrorOut, 503: ErrorOut},
)
def trigger_airbyte_log_summary(
    request: HttpRequest,
    connection_id: str,
    job_id: int,
    attempt_number: int | None = None,
    regenerate: int = 0,
) -> TriggerOut:
    """A handle to poll at /api/tasks/stp/{task_id} for the summary of the job's attempt (its last
    failed attempt when attempt_number is left out; attempts are numbered from 0, as in Airbyte).
    The webhook's summary of the same attempt is reused unless regenerate=1. 404 for a connection
    or job that is not this org's."""
    if not 0 <= job_id <= MAX_JOB_ID or (attempt_number is not None and not 0 <= attempt_number < 2**31):
        raise HttpError(422, "job_id and attempt_number must be Airbyte's non-negative numbers")
    unit = f"airbyte:{connection_id}:{job_id}:{attempt_number}"
    limit_summary_request(request, unit, regenerate=bool(regenerate))
    try:
        row, needs_worker = request_airbyte_summary(
            request_org(request), connection_id, job_id, attempt_number, regenerate=bool(regenerate)
        )
    except NotThisOrgsConnection as exc:
        raise HttpError(404, str(exc)) from None
    except AirbyteUnavailable as exc:
        raise HttpError(503, f"Airbyte did not answer; try again: {exc}") from None
    except AirbyteError as exc:
        raise HttpError(502, f"Airbyte refused the request: {exc}") from None
    if needs_worker and not publish(summarize_airbyte_requested, row.pk):
        fail_summary(row, "the task queue was unreachable; ask again")
        raise HttpError(503, "the task queue is unreachable; try again shortly")
    return TriggerOut(task_id=str(row.request_uuid))
