"""Publishing Celery tasks from the web process without ever making a request wait on a dead broker."""

from __future__ import annotations

import logging
import time
from typing import Any

from celery import Task

from failbrief.celery import app

log = logging.getLogger(__name__)


class _BrokerBreaker:
    """After a failed publish, skip publishing for a few seconds: the broker client spends seconds
    in its own retries on every attempt, and webhooks must stay fast while the broker is down."""

    def __init__(self, pause_seconds: float) -> None:
        self.pause_seconds = pause_seconds
        self.closed_until = 0.0

    def allows(self) -> bool:
        return time.monotonic() >= self.closed_until

    def tripped(self) -> None:
        self.closed_until = time.monotonic() + self.pause_seconds


_breaker = _BrokerBreaker(pause_seconds=5.0)


def publish(task: Task[Any, Any] | str, *args: Any) -> bool:
    """Send the task (or the task registered under that name: a lower module asks an upper one's
    task to run without importing it); False (logged, never raised) when the broker is unreachable."""
    name = task if isinstance(task, str) else task.name
    if not _breaker.allows():
        log.info("%s%s not published: the broker failed moments ago", name, args)
        return False
    try:
        (app.signature(task) if isinstance(task, str) else task).apply_async(args=args, retry=False)
    except Exception as exc:  # any broker or transport error
        _breaker.tripped()
        log.warning("%s%s not published, the broker is unreachable: %s", name, args, exc)
        return False
    return True
