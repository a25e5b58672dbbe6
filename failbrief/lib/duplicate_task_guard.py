"""At-least-once delivery can hand a worker the same task twice at once: Redis restores the
unacknowledged messages of a consumer whose connection restarted while the first copy still runs.

The claims in the database let a task id take its own work back, which is right after a killed
worker and wrong while the first copy is alive in this very process. This guard tells them apart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_running: set[str] = set()
_lock = threading.Lock()


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
