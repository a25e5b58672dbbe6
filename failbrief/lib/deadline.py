"""A wall-clock deadline for a piece of work, visible to the code it calls without passing it down
(a context variable: per thread, per asyncio task). Pure: no Django, no settings.

    with within(15.0):
        send()            # socket code cuts each blocking call to current().remaining()
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Deadline:
    seconds: float
    expires_at: float  # time.monotonic()

    def remaining(self) -> float:
        return self.expires_at - time.monotonic()

    def passed_message(self) -> str:
        return f"the {self.seconds:g} s deadline of this send passed"


_current: ContextVar[Deadline | None] = ContextVar("deadline", default=None)


@contextmanager
def within(seconds: float) -> Iterator[Deadline]:
    """Everything inside must be done `seconds` from now (an outer, earlier deadline still holds)."""
    outer = _current.get()
    deadline = Deadline(seconds, time.monotonic() + seconds)
    if outer is not None and outer.expires_at < deadline.expires_at:
        deadline = outer
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def current() -> Deadline | None:
    return _current.get()
