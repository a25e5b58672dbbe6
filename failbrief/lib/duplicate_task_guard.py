"""At-least-once delivery can hand a worker the same task twice at once: Redis restores the
unacknowledged messages of a consumer whose connection restarted while the first copy still runs.

The claims in the database let a task id take its own work back, which is right after a killed
worker and wrong while the first copy is alive in this very process. This guard tells them apart.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec

from celery import Task

_running: set[str] = set()
_lock = threading.Lock()
log = logging.getLogger(__name__)
P = ParamSpec("P")
BoundTask = Callable[Concatenate[Task[Any, Any], P], None]


@contextmanager
def first_copy(task_id: str) -> Iterator[bool]:
    """Yields True for the first running copy of `task_id` in this process, False for a duplicate
    delivered while it runs (the caller drops it: the first copy finishes the work)."""
    with _lock:
        duplicate = task_id in _running
        _running.add(task_id)
    try:
        yield not duplicate
    finally:
        if not duplicate:
            with _lock:
                _running.discard(task_id)


def first_copy_only(run: BoundTask[P]) -> BoundTask[P]:
    """Decorates a bound task's function (under `@app.task(bind=True)`): a duplicate delivered while
    the first copy of its task id runs in this process is logged and dropped."""

    @functools.wraps(run)
    def task(self: Task[Any, Any], /, *args: P.args, **kwargs: P.kwargs) -> None:
        with first_copy(self.request.id or "") as first:
            if first:
                run(self, *args, **kwargs)
            else:
                log.info(
                    "%s%s: duplicate delivery of task %s dropped: it is running",
                    self.name,
                    args,
                    self.request.id,
                )

    # Celery checks a call's arguments against the signature it reads, which is the wrapped one's.
    task.__signature__ = inspect.signature(run)  # type: ignore[attr-defined]
    return task
