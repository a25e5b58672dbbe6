"""The one JSON-over-HTTP core of our API clients (Prefect, Airbyte), its errors, and the one
backoff every retry in failbrief waits by (the clients', the LLM providers', the Celery tasks',
the notifications'). Pure: no Django, no settings.

`JsonApi` gives every call a connect timeout and a total deadline (a body still arriving when the
deadline passes is abandoned), retries transient failures (refused, reset, timed out, 408, 429,
5xx) after `backoff_seconds` or the server's Retry-After, and raises only the caller's subclasses
of the `ApiError` family: nothing from httpx escapes. A client names its own error classes once,
as subclasses of both its own base and the family member (`class PrefectUnavailable(PrefectError,
ApiUnavailable)`), so callers can catch either.
"""

from __future__ import annotations

import email.utils
import functools
import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

CONNECT_TIMEOUT = 5.0
EXCERPT_CHARS = 200

Model = TypeVar("Model", bound=BaseModel)
Result = TypeVar("Result")


class ApiError(Exception):
    """Base of every failure talking to an API. `status` is the HTTP status, None without one.

    The message says what was called and what came back (status and a short excerpt of the body),
    never a key. Errors pickle through Celery: only `message` is positional, and the keyword-only
    extras fall back to None when rebuilt from `args`."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ApiUnavailable(ApiError):
    """Transient: connection refused or reset, timeout, 408, 429 or 5xx. Worth retrying later.

    `retry_after` is the server's Retry-After in seconds when it sent one, else None."""

    def __init__(self, message: str, *, status: int | None = None, retry_after: float | None = None) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class ApiNotFound(ApiError):
    """The API answered 404: no such object."""


class ApiAuthError(ApiError):
    """The API answered 401 or 403: the key is missing, wrong or lacks permission."""


class ApiBadResponse(ApiError):
    """An answer we cannot use: a body that is not JSON, the wrong shape, or a 4xx such as 422 that
    says our request was wrong. Retrying the same call will not help."""


@dataclass(frozen=True)
class ErrorKinds:
    """Which classes a client's errors are. `auth_hint` ends every 401/403 message (e.g. which
    setting holds the token)."""

    unavailable: type[ApiUnavailable]
    not_found: type[ApiNotFound]
    auth: type[ApiAuthError]
    bad_response: type[ApiBadResponse]
    auth_hint: str = ""


@dataclass(frozen=True)
class Backoff:
    """How an in-process caller retries: `retries` more attempts after `backoff_seconds(attempt,
    retry_after, base, cap)`, never waiting longer than `cap` even when Retry-After asks for more
    (the caller's caller, e.g. a Celery task, honours the rest)."""

    retries: int
    base: float
    cap: float


def backoff_seconds(
    attempt: int, retry_after: float | None = None, *, base: float, cap: float, longest: float | None = None
) -> float:
    """How long to wait before trying again after failed attempt number `attempt` (from 0): the
    server's Retry-After when it sent one (but at least base/2, so a server answering 0 again and
    again makes no busy loop), else between half and all of base·2^attempt, at most `cap` (the
    jitter spreads the retries of many callers). Never more than `longest` when given: a caller
    waiting in-process holds a worker, so it tries again sooner and leaves the rest to a later retry."""
    if retry_after is not None:
        wait = max(retry_after, base / 2)
    else:
        ceiling = min(cap, base * 2**attempt)
        wait = random.uniform(ceiling / 2, ceiling)
    return wait if longest is None else max(0.0, min(wait, longest))


def with_backoff(
    call: Callable[[], Result],
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
    *,
    longest: float | None = None,
    on_retry: Callable[[ApiUnavailable, float], None] | None = None,
) -> Result:
    """`call()`, tried again after `backoff_seconds` while it raises ApiUnavailable and
    `backoff.retries` allows; then the last error propagates. `on_retry(error, wait)` hears of each
    retry before the wait; `longest` bounds each wait (see backoff_seconds)."""
    attempt = 0
    while True:
        try:
            return call()
        except ApiUnavailable as error:
            if attempt >= backoff.retries:
                raise
            wait = backoff_seconds(
                attempt, error.retry_after, base=backoff.base, cap=backoff.cap, longest=longest
            )
            if on_retry is not None:
                on_retry(error, wait)
            sleep(wait)
            attempt += 1


def retry_after_seconds(headers: httpx.Headers) -> float | None:
    """Retry-After as seconds (a number of seconds or an HTTP date; OpenAI-style APIs also send
    retry-after-ms); None when absent or unreadable."""
    millis, value = headers.get("retry-after-ms"), headers.get("retry-after")
    try:
        if millis:
            return max(0.0, float(millis) / 1000)
        if value:
            return max(0.0, float(value))
    except ValueError:
        pass
    if not value:
        return None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def excerpt(content: bytes, limit: int = EXCERPT_CHARS) -> str:
    """The start of a response body on one line, for error messages."""
    text = " ".join(content.decode("utf-8", errors="replace").split())
    return text if len(text) <= limit else text[:limit] + "..."


class Closing:
    """A context manager that calls `close()` on the way out."""

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class JsonApi(Closing):
    """One JSON API at `base_url`. Use as a context manager, or call `close()`.

    `timeout` bounds every socket wait (connecting: at most 5 s) and each attempt as a whole.
    `call` retries as `backoff` says; `attempt` tries once. Both return the decoded JSON (None for
    a 204) and raise only `errors`' classes."""

    def __init__(
        self,
        base_url: str,
        headers: Mapping[str, str],
        errors: ErrorKinds,
        timeout: float,
        backoff: Backoff,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.errors = errors
        self._timeout = timeout
        self._backoff = backoff
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/",
            headers={"Accept": "application/json", **headers},
            timeout=httpx.Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT)),
            transport=transport,
        )

    def close(self) -> None:
        """Closes the pooled connections."""
        self._http.close()

    def call(
        self, method: str, path: str, body: Any = None, *, params: Mapping[str, str] | None = None
    ) -> Any:
        """The call, tried again after a transient failure while `backoff.retries` allows, never
        waiting longer than `backoff.cap` (Retry-After included)."""
        once = functools.partial(self.attempt, method, path, body, params=params)
        return with_backoff(once, self._backoff, self._sleep, longest=self._backoff.cap)

    def attempt(
        self, method: str, path: str, body: Any = None, *, params: Mapping[str, str] | None = None
    ) -> Any:
        """The call, once."""
        what = f"{method} /{path}"
        deadline = time.monotonic() + self._timeout
        unavailable = self.errors.unavailable
        try:
            with self._http.stream(method, path, json=body, params=params) as response:
                content = self._read_before(deadline, response, what)
        except httpx.TimeoutException as error:
            raise unavailable(f"{what}: no answer within {self._timeout:g} s ({error!r})") from error
        except httpx.HTTPError as error:
            raise unavailable(f"{what}: {error!r}") from error
        return self._decode(what, response.status_code, response.headers, content)

    def parse(self, what: str, model: type[Model], data: Any) -> Model:
        """`data` as a `model`, or the bad-response error saying where it differs."""
        if not isinstance(data, dict):
            raise self.errors.bad_response(f"{what}: expected a JSON object, got {type(data).__name__}")
        try:
            return model.model_validate(data)
        except ValidationError as error:
            raise self.errors.bad_response(
                f"{what}: not a {model.__name__}: {_first_problem(error)}"
            ) from None

    def parse_list(self, what: str, model: type[Model], data: Any) -> list[Model]:
        """`data` as a list of `model`, or the bad-response error saying where it differs."""
        bad = self.errors.bad_response
        if not isinstance(data, list):
            raise bad(f"{what}: expected a JSON array, got {type(data).__name__}")
        try:
            return [model.model_validate(item) for item in data]
        except ValidationError as error:
            raise bad(f"{what}: not a list of {model.__name__}: {_first_problem(error)}") from None

    def _read_before(self, deadline: float, response: httpx.Response, what: str) -> bytes:
        # httpx's timeouts apply per socket operation; a server dripping bytes would never trip
        # them, so the total deadline is checked between chunks.
        chunks: list[bytes] = []
        for chunk in response.iter_bytes():
            if time.monotonic() > deadline:
                raise self.errors.unavailable(f"{what}: the answer took longer than the deadline")
            chunks.append(chunk)
        return b"".join(chunks)

    def _decode(self, what: str, status: int, headers: httpx.Headers, content: bytes) -> Any:
        errors = self.errors
        said = f"{what} answered {status}: {excerpt(content)}"
        if status == 404:
            raise errors.not_found(said, status=status)
        if status in (401, 403):
            raise errors.auth(f"{said}{errors.auth_hint}", status=status)
        if status in (408, 429) or status >= 500:
            raise errors.unavailable(said, status=status, retry_after=retry_after_seconds(headers))
        if not 200 <= status < 300:
            raise errors.bad_response(said, status=status)
        if status == 204:
            return None
        try:
            return json.loads(content)
        except ValueError:
            raise errors.bad_response(f"{said} (not JSON)", status=status) from None
        except RecursionError:
            # Valid JSON deeper than Python's decoder descends: as unusable as no JSON at all.
            raise errors.bad_response(f"{said} (JSON nested too deeply)", status=status) from None


def _first_problem(error: ValidationError) -> str:
    problem = error.errors()[0]
    place = ".".join(str(part) for part in problem["loc"])
    return f"{place}: {problem['msg']} ({error.error_count()} problem(s))"
