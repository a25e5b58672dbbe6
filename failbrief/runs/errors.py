"""Domain errors of the Prefect client. Pure: no Django, no httpx types leak out of here.

Every error carries a message that says what was called and what came back (status and a short
excerpt of the body), never the API key. They pickle through Celery: only `message` is positional,
and the keyword-only extras fall back to None when rebuilt from `args`.
"""

from __future__ import annotations


class PrefectError(Exception):
    """Base of every failure talking to Prefect. `status` is the HTTP status, None without one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class PrefectUnavailable(PrefectError):
    """Transient: connection refused or reset, timeout, 408, 429 or 5xx. Worth retrying later.

    `retry_after` is the server's Retry-After in seconds when it sent one, else None.
    """

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class RunNotFound(PrefectError):
    """Prefect answered 404, or the id is not a UUID and so cannot name any Prefect object."""


class PrefectAuthError(PrefectError):
    """Prefect answered 401 or 403: the API key is missing, wrong or lacks permission."""


class PrefectBadResponse(PrefectError):
    """Prefect answered something we cannot use: a body that is not JSON, the wrong shape, or a 4xx
    such as 422 that says our request was wrong. Retrying the same call will not help."""
