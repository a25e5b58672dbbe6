"""A thin client for Airbyte's Config API, the one Dalgo uses. Pure: no Django; settings come in.

Three reads: a connection's jobs (`POST jobs/list`), one job with its attempts
(`POST jobs/get_without_logs`) and one attempt with its logs (`POST attempt/get_for_job`). Logs
come back as `logs.logLines` (logType "formatted", or no logType before Airbyte 1.4) or as
`logs.events[]` (logType "structured"). Calls go through the one JSON-API core
(`failbrief.lib.http.JsonApi`): a timeout, transient failures retried with jittered backoff
(honouring Retry-After), and only the domain errors below escape.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field

from failbrief.lib.http import (
    ApiAuthError,
    ApiBadResponse,
    ApiError,
    ApiNotFound,
    ApiUnavailable,
    Backoff,
    Closing,
    ErrorKinds,
    JsonApi,
)

BACKOFF_BASE = 0.2
BACKOFF_CAP = 5.0
PAGE_SIZE = 20
SYNC_CONFIG_TYPES = ("sync", "reset_connection", "clear", "refresh")
Auth = Literal["basic", "bearer"]
# Airbyte's times are epoch seconds; one a datetime cannot hold (milliseconds in their place, say)
# makes the answer unusable rather than an OverflowError where the job is stored.
LAST_EPOCH_SECOND = 253402300799  # 9999-12-31T23:59:59Z
EpochSeconds = Annotated[int, Field(ge=0, le=LAST_EPOCH_SECOND)]


class AirbyteError(ApiError):
    """Base of every failure talking to Airbyte. `status` is the HTTP status, None without one."""


class AirbyteUnavailable(AirbyteError, ApiUnavailable):
    """Transient: refused, reset, timed out, 408, 429 or 5xx. `retry_after` is the server's
    Retry-After in seconds when it sent one."""


class AirbyteNotFound(AirbyteError, ApiNotFound):
    """Airbyte answered 404: no such job, attempt or connection."""


class AirbyteAuthError(AirbyteError, ApiAuthError):
    """Airbyte answered 401 or 403: the token is missing, wrong, or of the wrong kind."""


class AirbyteBadResponse(AirbyteError, ApiBadResponse):
    """An answer we cannot use (not JSON, wrong shape) or a 4xx such as 422: retrying won't help."""


AIRBYTE_ERRORS = ErrorKinds(
    AirbyteUnavailable,
    AirbyteNotFound,
    AirbyteAuthError,
    AirbyteBadResponse,
    auth_hint=" (check AIRBYTE_API_TOKEN / AIRBYTE_AUTH or the org's --airbyte-token)",
)
SHARED = "the shared Airbyte"
# An org reading the operator's Airbyte can do nothing about its token, and is not told the
# operator's settings.
SHARED_ERRORS = dataclasses.replace(
    AIRBYTE_ERRORS,
    auth_hint=" (the shared Airbyte refused failbrief's token: a matter for failbrief's operator)",
)


class _AirbyteModel(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class FailureReason(_AirbyteModel):
    """One entry of an attempt's failure summary; `timestamp` is epoch milliseconds."""

    failure_origin: str | None = Field(None, alias="failureOrigin")
    failure_type: str | None = Field(None, alias="failureType")
    external_message: str | None = Field(None, alias="externalMessage")
    internal_message: str | None = Field(None, alias="internalMessage")
    stacktrace: str | None = None
    retryable: bool | None = None
    timestamp: int | None = None


class FailureSummary(_AirbyteModel):
    failures: list[FailureReason] = Field(default_factory=list)
    partial_success: bool | None = Field(None, alias="partialSuccess")


class Attempt(_AirbyteModel):
    """An attempt (AttemptRead). `id` is the attempt number, counted from 0; times are epoch seconds."""

    id: int
    status: str
    created_at: EpochSeconds | None = Field(None, alias="createdAt")
    updated_at: EpochSeconds | None = Field(None, alias="updatedAt")
    ended_at: EpochSeconds | None = Field(None, alias="endedAt")
    failure_summary: FailureSummary | None = Field(None, alias="failureSummary")


class Job(_AirbyteModel):
    """A job (JobRead). `config_id` is the connection id; times are epoch seconds."""

    id: int
    config_type: str = Field("", alias="configType")
    config_id: str = Field("", alias="configId")
    status: str
    created_at: EpochSeconds = Field(alias="createdAt")
    updated_at: EpochSeconds | None = Field(None, alias="updatedAt")
    started_at: EpochSeconds | None = Field(None, alias="startedAt")


class JobWithAttempts(_AirbyteModel):
    """A job and its attempts, oldest first, as jobs/list and jobs/get_without_logs give them."""

    job: Job
    attempts: list[Attempt] = Field(default_factory=list)


class AttemptLogs(_AirbyteModel):
    """One attempt and its log lines, whichever logType Airbyte used. Structured events become
    "<logSource> > <message>" lines (the formatted logs' own shape) with their level kept."""

    attempt: Attempt
    log_type: str = "formatted"
    lines: list[str] = Field(default_factory=list)
    levels: list[str | None] = Field(default_factory=list)  # per line; None for formatted logs
    timestamps: list[int | None] = Field(default_factory=list)  # epoch ms per line, structured only


class AirbyteClient(Closing):
    """Reads from one Airbyte server. `api_url` ends in `/api/v1` (e.g. http://airbyte:8000/api/v1).

    `token` is sent as `Authorization: Basic <token>` (Dalgo's way: the token is already the base64
    of user:password) or `Bearer <token>` when `auth` is "bearer". `timeout` bounds every socket wait
    and each attempt as a whole; transient failures get `retries` more attempts. Methods raise
    AirbyteUnavailable, AirbyteNotFound, AirbyteAuthError or AirbyteBadResponse, nothing else.

    `shared`: the operator's Airbyte read for an org that has none of its own. Its address is
    the operator's business, not the org's: the errors (which reach the org's summaries and API
    answers) call it "the shared Airbyte" wherever an answer or httpx quotes it.
    """

    def __init__(
        self,
        api_url: str,
        token: str | None = None,
        *,
        auth: Auth = "basic",
        timeout: float = 15.0,
        retries: int = 2,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        shared: bool = False,
    ) -> None:
        backoff = Backoff(retries, BACKOFF_BASE, BACKOFF_CAP)
        errors = SHARED_ERRORS if shared else AIRBYTE_ERRORS
        self._api = JsonApi(api_url, _headers(token, auth), errors, timeout, backoff, transport, sleep)
        self._address = _address_pattern(api_url) if shared else None

    def close(self) -> None:
        self._api.close()

    def jobs(
        self,
        connection_id: str,
        created_after: datetime,
        created_before: datetime,
        *,
        config_types: tuple[str, ...] = SYNC_CONFIG_TYPES,
        max_jobs: int = 2000,
    ) -> list[JobWithAttempts]:
        """The connection's jobs created in the window, newest first. Airbyte servers before 0.50
        ignore the createdAt filter and list every job, newest first: the filter is applied here
        too, and paging stops at the first page reaching past the window's start (or after
        `max_jobs` jobs, for a window far back on a busy connection)."""
        body = {
            "configTypes": list(config_types),
            "configId": connection_id,
            "createdAtStart": _iso(created_after),
            "createdAtEnd": _iso(created_before),
        }
        low, high = created_after.timestamp(), created_before.timestamp()
        jobs = self._pages(body, max_jobs, low)
        inside = [j for j in jobs if low <= j.job.created_at <= high]
        return sorted(inside, key=lambda j: (j.job.created_at, j.job.id), reverse=True)

    def job(self, job_id: int) -> JobWithAttempts:
        """The job and its attempts, without logs. AirbyteNotFound when there is no such job."""
        data = self._call("jobs/get_without_logs", {"id": int(job_id)})
        if isinstance(data, dict) and isinstance(data.get("attempts"), list):
            # JobInfoRead nests each attempt as {"attempt": AttemptRead, "logs": ...}.
            data = {
                **data,
                "attempts": [a.get("attempt", a) for a in data["attempts"] if isinstance(a, dict)],
            }
        return self._api.parse("jobs/get_without_logs", JobWithAttempts, data)

    def attempt_logs(self, job_id: int, attempt_number: int) -> AttemptLogs:
        """The attempt and its log lines. AirbyteNotFound when the job or attempt does not exist."""
        body = {"jobId": int(job_id), "attemptNumber": int(attempt_number)}
        data = self._call("attempt/get_for_job", body)
        if not isinstance(data, dict):
            raise AirbyteBadResponse(f"attempt/get_for_job: expected an object, got {type(data).__name__}")
        return self._api.parse(
            "attempt/get_for_job", AttemptLogs, {"attempt": data.get("attempt"), **_lines(data)}
        )

    def is_config_api(self) -> bool:
        """Whether the URL answers as Airbyte's Config API: `GET health` gives {"available": …}.
        Asked after a 404, a 5xx or an answer that is not Airbyte's JSON, to tell Airbyte's own
        answer from a URL that is not its API. Raises AirbyteUnavailable when nothing answers."""
        try:
            data = self._call("health", None, method="GET")
        except (AirbyteNotFound, AirbyteBadResponse):
            return False
        except AirbyteAuthError:
            return True  # something that guards its API answered: the 404 is not the URL's fault
        return isinstance(data, dict) and "available" in data

    def _pages(self, body: Mapping[str, Any], max_jobs: int, oldest: float) -> list[JobWithAttempts]:
        found: list[JobWithAttempts] = []
        while len(found) < max_jobs:
            page_body = {**body, "pagination": {"pageSize": PAGE_SIZE, "rowOffset": len(found)}}
            data = self._call("jobs/list", page_body)
            jobs = data.get("jobs") if isinstance(data, dict) else None
            if not isinstance(jobs, list):
                raise AirbyteBadResponse("jobs/list: the answer has no `jobs` list")
            page = [self._api.parse("jobs/list", JobWithAttempts, item) for item in jobs]
            found += page
            if len(jobs) < PAGE_SIZE or min(j.job.created_at for j in page) < oldest:
                break
        return found[:max_jobs]

    def _call(self, path: str, body: Mapping[str, Any] | None, *, method: str = "POST") -> Any:
        try:
            return self._api.call(method, path, body)
        except AirbyteError as exc:
            if self._address is None:
                raise
            said = self._address.sub(SHARED, str(exc))
            raise _same_kind(exc, said) from None


def _address_pattern(api_url: str) -> re.Pattern[str] | None:
    """The server's address as an error may quote it: its host (and port), with any scheme
    (a redirect names https), credentials and path around it."""
    host = urlsplit(api_url).hostname
    if not host:
        return None
    return re.compile(
        r"(?:(?i:\b[a-z][a-z0-9+.-]*://)[^\s/@'\"<>]*@?)?"  # scheme, user:password@
        rf"(?<![\w.-]){re.escape(host)}(?![\w-]|\.\w)"  # the host, not part of a longer name
        r"(?::\d+|\s+[Pp]ort\s+\d+)?"  # its port (Apache's pages say "Port N")
        r"(?:/[^\s'\"<>]*)?"  # the path
    )


def _same_kind(error: AirbyteError, message: str) -> AirbyteError:
    if isinstance(error, AirbyteUnavailable):
        return AirbyteUnavailable(message, status=error.status, retry_after=error.retry_after)
    return type(error)(message, status=error.status)


def _headers(token: str | None, auth: Auth) -> dict[str, str]:
    return {"Authorization": f"{'Bearer' if auth == 'bearer' else 'Basic'} {token}"} if token else {}


def _iso(moment: datetime) -> str:
    # Dalgo's format: milliseconds and a Z, which every Airbyte version parses.
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _lines(data: Mapping[str, Any]) -> dict[str, Any]:
    """The attempt's log lines from either log shape; {} lines when Airbyte kept none."""
    raw = data.get("logs")
    logs: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    if data.get("logType") == "structured" or isinstance(logs.get("events"), list):
        events = [e for e in _listed(logs, "events") if isinstance(e, dict)]
        return {
            "log_type": "structured",
            "lines": [_event_line(e) for e in events],
            "levels": [str(e["level"]) if e.get("level") else None for e in events],
            "timestamps": [_epoch_ms(e.get("timestamp")) for e in events],
        }
    lines = [str(line) for line in _listed(logs, "logLines")]
    return {"log_type": "formatted", "lines": lines, "levels": [None] * len(lines), "timestamps": []}


def _listed(logs: Mapping[str, Any], key: str) -> list[Any]:
    value = logs.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        what = f"attempt/get_for_job: logs.{key} is {type(value).__name__}, not a list"
        raise AirbyteBadResponse(what)
    return value


def _epoch_ms(value: Any) -> int | None:
    # A line's time is only a hint: one a datetime cannot hold is dropped, not the logs with it.
    in_range = isinstance(value, int) and 0 <= value <= LAST_EPOCH_SECOND * 1000
    return value if in_range else None


def _event_line(event: Mapping[str, Any]) -> str:
    source, message = event.get("logSource") or "platform", str(event.get("message") or "")
    trace = event.get("stackTrace")
    return f"{source} > {message}" + (f"\n{trace}" if trace else "")
