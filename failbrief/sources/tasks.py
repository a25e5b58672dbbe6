"""Celery tasks of the log sources: thin; the work is in summarize/on_demand_airbyte.py."""

from __future__ import annotations

from typing import Any

from celery import Task

from failbrief.celery import app
from failbrief.lib.duplicate_task_guard import first_copy
from failbrief.lib.http import ApiUnavailable
from failbrief.lib.task_retry import retry_or_give_up
from failbrief.sources.airbyte import AirbyteUnavailable
from failbrief.summarize.on_demand_airbyte import fill_airbyte_requested

MAX_RETRIES = 6


@app.task(bind=True, acks_late=True, reject_on_worker_lost=True, max_retries=MAX_RETRIES)
def summarize_airbyte_requested(self: Task[Any, Any], row_id: int) -> None:
    """Fill a requested Airbyte attempt summary; an unreachable Airbyte is retried with backoff,
    then the row fails with the reason."""
    with first_copy(self.request.id or "") as first:
        if first:
            _fill(self, row_id)


def _fill(self: Task[Any, Any], row_id: int) -> None:
    try:
        fill_airbyte_requested(row_id, self.request.id or "")
    except AirbyteUnavailable as exc:
        from failbrief.summarize.models import LlmSession
        from failbrief.summarize.store import fail_summary

        def give_up(error: ApiUnavailable) -> None:
            fail_summary(LlmSession.objects.get(pk=row_id), f"Airbyte unavailable: {error}")

        what = f"summary={row_id} Airbyte unavailable"
        retry_or_give_up(self, exc, give_up, what=what, max_retries=MAX_RETRIES)
