"""The delivery policy of every Celery task that does a piece of work for a stored row (an event, a
requested summary, a notification), declared once.

- `acks_late` + `reject_on_worker_lost`: the message is acknowledged only after the task ran, so a
  worker killed mid-task (OOM, deploy, power) leaves it to another worker instead of losing it; the
  claims in the database make the second run take the work back rather than repeat it.
- `first_copy_only`: a copy the broker hands this process while the first still runs is dropped
  (lib/duplicate_task_guard.py).
- `max_retries`: the bound of the task's own retries (lib/task_retry.py decides when to retry).

Periodic beat tasks are not durable tasks: the next beat is their retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ParamSpec

from celery import Task

from failbrief.celery import app
from failbrief.lib.duplicate_task_guard import BoundTask, first_copy_only

P = ParamSpec("P")


def durable_task(
    *, max_retries: int | None, name: str | None = None
) -> Callable[[BoundTask[P]], Task[Any, Any]]:
    """Register a bound task function under the policy above. `max_retries=None` leaves the bound
    to the task (a deadline, or attempts counted in the database); `name` keeps the registered name
    of a task that moved, so messages published before an upgrade still run."""

    def register(run: BoundTask[P]) -> Task[Any, Any]:
        options: dict[str, Any] = {
            "bind": True,
            "acks_late": True,
            "reject_on_worker_lost": True,
            "max_retries": max_retries,
        }
        if name is not None:
            options["name"] = name
        task: Task[Any, Any] = app.task(**options)(first_copy_only(run))
        return task

    return register
