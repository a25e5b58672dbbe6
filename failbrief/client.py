"""A small typed client of failbrief's API for Python backends (Dalgo's DDP_backend is one).

Imports nothing from Django or Celery (only httpx and pydantic, through failbrief.lib.http), so
another project can use it: `pip install --no-deps failbrief`, then

    from failbrief.client import FailbriefClient

    with FailbriefClient("https://failbrief.example.org", token, org="acme") as fb:
        handle = fb.trigger_flow_run_summary(flow_run_id, task_id)
        progress = fb.poll(handle)          # progress.status: running | completed | failed

With a platform token (`failbrief token create --platform NAME`) every call acts for the org given
to the client or to the call (sent as X-Failbrief-Org); an org's own token ignores it.

Every call has a timeout. A 5xx, a 429, a refused connection or a timeout is retried up to
`max_retries` times, after the server's Retry-After or a jittered backoff, never waiting more than
`max_retry_wait` seconds at once: a 429 whose Retry-After is longer than that is raised at once.
Errors are typed (FailbriefNotFound, FailbriefRateLimited, …) and carry the HTTP status and the
server's JSON `detail`. docs/dalgo.md shows DDP_backend's use of it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import httpx

from failbrief.lib.http import Closing, backoff_seconds, excerpt, retry_after_seconds

ORG_HEADER = "X-Failbrief-Org"
ProgressStatus = Literal["running", "completed", "failed"]
BACKOFF_BASE = 0.5  # seconds; doubled per retry, with full jitter


class FailbriefError(Exception):
    """Anything that went wrong talking to failbrief. `status` is the HTTP status (None when no
    answer came), `detail` the server's JSON `detail` (a string, or a list of field errors)."""

    def __init__(self, message: str, *, status: int | None = None, detail: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.detail = detail


class FailbriefUnavailable(FailbriefError):
    """No usable answer after the retries: refused connection, timeout, or a 5xx each time."""


class FailbriefAuthError(FailbriefError):
    """401/403: a wrong, revoked or missing token."""


class FailbriefNotFound(FailbriefError):
    """404: no such run, summary or task for this org, or (platform token) no such org."""


class FailbriefRateLimited(FailbriefError):
    """429 still, or with a Retry-After longer than the client may wait; `retry_after` in seconds."""

    def __init__(self, message: str, *, status: int | None, detail: Any, retry_after: float | None) -> None:
        super().__init__(message, status=status, detail=detail)
        self.retry_after = retry_after


class FailbriefRequestError(FailbriefError):
    """Another 4xx: the request itself is wrong (400, 405, 422, …); retrying will not help."""


@dataclass(frozen=True)
class Progress:
    """A poll of /api/tasks/stp/{task_id}: the last progress item, and the whole list (what Dalgo's
    webapp reads). `result` is the summary's `{prompt, response}` items once completed."""

    status: ProgressStatus
    message: str
    result: list[dict[str, Any]] | None
    progress: list[dict[str, Any]]

    @property
    def done(self) -> bool:
        return self.status != "running"


@dataclass(frozen=True)
class RunSummaries:
    """GET /api/v1/flow-runs/{id}/summaries: one summary per failed unit, root failure first. Each
    summary is the API's JSON object (docs/api.md lists its fields)."""

    flow_run_id: str
    summaries: list[dict[str, Any]]


class FailbriefClient(Closing):
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        org: str | None = None,
        timeout: float = 10.0,
        max_retries: int = 3,
        max_retry_wait: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`base_url` is failbrief's root (not its /api). `org` is the org slug a platform token
        acts for unless a call names another."""
        self.org = org
        self._max_retries = max(0, max_retries)
        self._max_wait = max(0.0, max_retry_wait)
        self._sleep = sleep
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    # --- the API ---------------------------------------------------------------------------------

    def flow_run_summaries(self, flow_run_id: str, *, org: str | None = None) -> RunSummaries:
        """The run's summaries (the run itself or a subflow of it). FailbriefNotFound when the org
        has none for it (yet)."""
        body = self._get(f"/api/v1/flow-runs/{flow_run_id}/summaries", org=org)
        return RunSummaries(flow_run_id=str(body["flow_run_id"]), summaries=list(body["summaries"]))

    def trigger_flow_run_summary(
        self, flow_run_id: str, task_id: str, *, regenerate: bool = False, org: str | None = None
    ) -> str:
        """Ask for the summary of a failed task (or subflow) of a Prefect flow run; returns the
        handle to poll. A stored summary is reused unless `regenerate`."""
        params = {"task_id": task_id, "regenerate": int(regenerate)}
        body = self._get(f"/api/prefect/v1/flow_runs/{flow_run_id}/logsummary", params=params, org=org)
        return str(body["task_id"])

    def trigger_airbyte_summary(
        self,
        connection_id: str,
        job_id: int,
        attempt_number: int | None = None,
        *,
        regenerate: bool = False,
        org: str | None = None,
    ) -> str:
        """Ask for the summary of an Airbyte job's attempt (its last failed one when
        `attempt_number` is None; numbered from 0); returns the handle to poll."""
        params: dict[str, Any] = {"job_id": job_id, "regenerate": int(regenerate)}
        if attempt_number is not None:
            params["attempt_number"] = attempt_number
        path = f"/api/airbyte/v1/connections/{connection_id}/logsummary"
        return str(self._get(path, params=params, org=org)["task_id"])

    def poll(self, task_id: str, *, org: str | None = None) -> Progress:
        """Where a triggered summary is. FailbriefNotFound for a handle failbrief did not issue to
        this org: a backend that shares the poll path with its own jobs can ask and fall back."""
        body = self._get(f"/api/tasks/stp/{task_id}", org=org)
        items = [dict(item) for item in body["progress"]]
        last = items[-1] if items else {"status": "running", "message": ""}
        status = str(last.get("status"))
        if status not in ("running", "completed", "failed"):
            raise FailbriefError(f"failbrief answered an unknown progress status {status!r}", status=200)
        result = last.get("result")
        return Progress(
            status=cast(ProgressStatus, status),
            message=str(last.get("message") or ""),
            result=list(result) if isinstance(result, list) else None,
            progress=items,
        )

    # --- transport -------------------------------------------------------------------------------

    def _get(self, path: str, *, params: Mapping[str, Any] | None = None, org: str | None = None) -> Any:
        acting = org if org is not None else self.org
        headers = {ORG_HEADER: acting} if acting else {}
        attempt = 0
        while True:
            try:
                answer = self._http.get(path, params=params, headers=headers)
            except httpx.TransportError as exc:
                what = f"GET {path}: failbrief did not answer ({type(exc).__name__}: {exc})"
                if attempt >= self._max_retries:
                    raise FailbriefUnavailable(what) from exc
                self._sleep(backoff_seconds(attempt, base=BACKOFF_BASE, cap=self._max_wait))
                attempt += 1
                continue
            if answer.is_success:
                return _json(answer, path)
            wait = self._retry_wait(answer, attempt)
            if wait is None:
                raise _error(answer, path)
            self._sleep(wait)
            attempt += 1

    def _retry_wait(self, answer: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before retrying, or None to raise now."""
        if answer.status_code != 429 and answer.status_code < 500:
            return None
        if attempt >= self._max_retries:
            return None
        retry_after = retry_after_seconds(answer.headers)
        if retry_after is not None and retry_after > self._max_wait:
            return None  # waiting less than asked would only earn another refusal
        return backoff_seconds(
            attempt, retry_after, base=BACKOFF_BASE, cap=self._max_wait, longest=self._max_wait
        )


def _json(answer: httpx.Response, path: str) -> Any:
    try:
        return answer.json()
    except ValueError:
        raise FailbriefError(
            f"GET {path}: {answer.status_code} but not JSON: {excerpt(answer.content)}",
            status=answer.status_code,
        ) from None


def _error(answer: httpx.Response, path: str) -> FailbriefError:
    status = answer.status_code
    try:
        body = answer.json()
        detail = body.get("detail") if isinstance(body, dict) else body
    except ValueError:
        detail = excerpt(answer.content)
    message = f"GET {path}: {status} {answer.reason_phrase}: {detail}"
    if status == 429:
        retry_after = retry_after_seconds(answer.headers)
        return FailbriefRateLimited(message, status=status, detail=detail, retry_after=retry_after)
    kinds: dict[int, type[FailbriefError]] = {
        401: FailbriefAuthError,
        403: FailbriefAuthError,
        404: FailbriefNotFound,
    }
    kind = FailbriefUnavailable if status >= 500 else kinds.get(status, FailbriefRequestError)
    return kind(message, status=status, detail=detail)
