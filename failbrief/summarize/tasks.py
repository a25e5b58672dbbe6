"""Celery tasks for summaries: thin; the work is in on_demand.py, on_demand_airbyte.py and store.py."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from celery import Task

from failbrief.celery import app
from failbrief.lib.durable_task import durable_task
from failbrief.lib.http import ApiUnavailable
from failbrief.lib.task_retry import retry_or_give_up
from failbrief.runs.configured import prefect_client
from failbrief.runs.errors import PrefectUnavailable
from failbrief.sources.airbyte import AirbyteUnavailable
from failbrief.summarize import store
from failbrief.summarize.models import LlmSession
from failbrief.summarize.on_demand import fill_requested
from failbrief.summarize.on_demand_airbyte import fill_airbyte_requested

log = logging.getLogger(__name__)
MAX_RETRIES = 8
AIRBYTE_MAX_RETRIES = 6


@contextmanager
def _retried_while_unavailable(
    task: Task[Any, Any], row_id: int, service: str, unavailable: type[ApiUnavailable], max_retries: int
) -> Iterator[None]:
    """While `service` is unavailable the task is retried with backoff; once its retries are spent
    the requested row fails with the reason, so it never stays "running"."""
    try:
        yield
    except unavailable as exc:

        def give_up(error: ApiUnavailable) -> None:
            store.fail_summary(LlmSession.objects.get(pk=row_id), f"{service} unavailable: {error}")

        what = f"summary={row_id} {service} unavailable"
        retry_or_give_up(task, exc, give_up, what=what, max_retries=max_retries)


@durable_task(max_retries=MAX_RETRIES)
def summarize_requested(self: Task[Any, Any], row_id: int) -> None:
    with (
        _retried_while_unavailable(self, row_id, "Prefect", PrefectUnavailable, MAX_RETRIES),
        prefect_client() as client,
    ):
        fill_requested(row_id, self.request.id or "", client)


# The name it had when it lived in sources/tasks.py, so a message published before an upgrade runs.
@durable_task(max_retries=AIRBYTE_MAX_RETRIES, name="failbrief.sources.tasks.summarize_airbyte_requested")
def summarize_airbyte_requested(self: Task[Any, Any], row_id: int) -> None:
    """Fill a requested Airbyte attempt summary."""
    with _retried_while_unavailable(self, row_id, "Airbyte", AirbyteUnavailable, AIRBYTE_MAX_RETRIES):
        fill_airbyte_requested(row_id, self.request.id or "")


@app.task(ignore_result=True)
def fail_stuck_summaries() -> int:
    """Beat: nothing stays "running" forever."""
    failed = store.fail_stuck_summaries()
    if failed:
        log.warning("failed %s summaries stuck in running", failed)
    return failed
