"""Domain errors of the Prefect client: the `failbrief.lib.http` family under Prefect's names, so a
caller can catch Prefect's failures apart from Airbyte's. Pure: no Django, no httpx types leak out.
"""

from __future__ import annotations

from failbrief.lib.http import ApiAuthError, ApiBadResponse, ApiError, ApiNotFound, ApiUnavailable, ErrorKinds


class PrefectError(ApiError):
    """Base of every failure talking to Prefect. `status` is the HTTP status, None without one."""


class PrefectUnavailable(PrefectError, ApiUnavailable):
    """Transient: connection refused or reset, timeout, 408, 429 or 5xx. Worth retrying later.
    `retry_after` is the server's Retry-After in seconds when it sent one, else None."""


class RunNotFound(PrefectError, ApiNotFound):
    """Prefect answered 404, or the id is not a UUID and so cannot name any Prefect object."""


class PrefectAuthError(PrefectError, ApiAuthError):
    """Prefect answered 401 or 403: the API key is missing, wrong or lacks permission."""


class PrefectBadResponse(PrefectError, ApiBadResponse):
    """Prefect answered something we cannot use: a body that is not JSON, the wrong shape, or a 4xx
    such as 422 that says our request was wrong. Retrying the same call will not help."""


PREFECT_ERRORS = ErrorKinds(PrefectUnavailable, RunNotFound, PrefectAuthError, PrefectBadResponse)
