"""Celery tasks for notifications: thin; the work is in plan.py and deliver.py."""

from __future__ import annotations

import logging
from typing import Any

from celery import Task

from failbrief.celery import app
from failbrief.lib.durable_task import durable_task
from failbrief.notify.deliver import deliver, due_for_requeue, http_client
from failbrief.notify.plan import flush_held
from failbrief.publish import publish

log = logging.getLogger(__name__)


@durable_task(max_retries=None)
def deliver_notification(self: Task[Any, Any], notification_id: int) -> None:
    """Attempts are counted in the database (NOTIFY_MAX_ATTEMPTS), not by Celery. A send its org's
    cap turned away (NOTIFY_ORG_CONCURRENCY) comes back a few seconds later, not as an attempt."""
    with http_client() as http:
        outcome = deliver(notification_id, http)
    if outcome.retry_in is not None:
        raise self.retry(countdown=outcome.retry_in)


@app.task(ignore_result=True)
def flush_held_notifications() -> int:
    """Beat: held repeats whose window closed become one "failing again (N×)" message each."""
    due = flush_held()
    for notification_id in due:
        publish(deliver_notification, notification_id)
    return len(due)


@app.task(ignore_result=True)
def requeue_notifications() -> int:
    """Beat: pending notifications that no task holds any more are sent again."""
    ids = due_for_requeue()
    sent = sum(publish(deliver_notification, notification_id) for notification_id in ids)
    if ids:
        log.info("requeued %s of %s pending notifications", sent, len(ids))
    return sent
