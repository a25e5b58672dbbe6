"""The one retry policy of failbrief's Celery tasks that wait out an unavailable service (Prefect,
Airbyte): retry after `backoff_seconds` (the server's Retry-After, else 2 s doubling to 60 s,
jittered) while the task's bound allows, else give up with a recorded reason. A piece
of work therefore always ends in a retry or a stated failure, never silently dropped. Pure: no
Django, no settings (the caller passes its bound in).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Task

from failbrief.lib.http import ApiUnavailable, backoff_seconds

TASK_BACKOFF_BASE = 2.0
TASK_BACKOFF_CAP = 60.0

log = logging.getLogger(__name__)


def retry_or_give_up(
    task: Task[Any, Any],
    exc: ApiUnavailable,
    give_up: Callable[[ApiUnavailable], None],
    *,
    what: str,
    deadline: datetime | None = None,
    max_retries: int | None = None,
    on_retry: Callable[[float], None] | None = None,
) -> None:
    """Raise Celery's Retry for `task` after the backoff; or, when `max_retries` retries are spent
    or the retry would start after `deadline`, call `give_up(exc)` (which records why) and return.
    `what` starts the log line (e.g. "event=12 Prefect unavailable"); `on_retry(delay)` hears of a
    retry before it is scheduled (to record when the next try comes)."""
    retries = task.request.retries
    delay = backoff_seconds(retries, exc.retry_after, base=TASK_BACKOFF_BASE, cap=TASK_BACKOFF_CAP)
    spent = max_retries is not None and retries >= max_retries
    too_late = deadline is not None and datetime.now(UTC) + timedelta(seconds=delay) > deadline
    if spent or too_late:
        log.warning("%s, giving up after %s retries: %s", what, retries, exc)
        give_up(exc)
        return
    log.warning("%s, retry %s in %.1f s: %s", what, retries + 1, delay, exc)
    if on_retry is not None:
        on_retry(delay)
    raise task.retry(exc=exc, countdown=delay) from exc
