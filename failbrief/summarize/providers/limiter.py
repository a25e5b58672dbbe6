"""At most N requests in flight per provider in this worker process, so a failure storm (a hundred
runs failing at once) queues here instead of bursting the provider's rate limit. Pure: no Django."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_slots: dict[tuple[str, int], threading.BoundedSemaphore] = {}


class NoFreeSlot(Exception):
    """Every slot of the provider stayed busy for the whole wait."""


def _semaphore(provider: str, limit: int) -> threading.BoundedSemaphore:
    with _lock:
        return _slots.setdefault((provider, limit), threading.BoundedSemaphore(limit))


@contextmanager
def provider_slot(provider: str, limit: int, wait_seconds: float) -> Iterator[None]:
    """Hold one of `limit` slots of `provider` for the block. Raises NoFreeSlot after `wait_seconds`."""
    semaphore = _semaphore(provider, limit)
    if not semaphore.acquire(timeout=max(0.0, wait_seconds)):
        raise NoFreeSlot(f"all {limit} {provider} slots stayed busy for {wait_seconds:.0f} s")
    try:
        yield
    finally:
        semaphore.release()
