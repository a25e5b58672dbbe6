"""A loopback fake of Airbyte's Config API (the routes Dalgo and failbrief use), with test controls.

A real HTTP server (`ThreadingHTTPServer` on 127.0.0.1, in a daemon thread) answering
`POST /api/v1/jobs/list`, `/api/v1/jobs/get_without_logs` and `/api/v1/attempt/get_for_job` with
the payload shapes of airbyte-platform's config.yaml (JobReadList, JobInfoRead, AttemptInfoRead:
`logs.logLines` for logType "formatted", `logs.events[]` for "structured"). Controls: a job registry
(`add_job`), `fail_next(n, status)`, a required token (401 otherwise), `deny_all` (401 mode) and
`ignore_time_filter` (an Airbyte before 0.50.x, which ignores createdAtStart/createdAtEnd and lists
all the connection's jobs, newest first).

It also starts syncs as prefect-airbyte (the fork Dalgo pins) does: `POST /api/v1/connections/get`
(status "active" for a connection with a scripted sync, 404 otherwise), `POST /api/public/v1/jobs`
{"jobType": "sync", "connectionId"} (creates the job `script_sync` prepared, created now) and
`GET /api/public/v1/jobs/{jobId}` (the public API's JobResponse: `status` is the job's), and
`GET /api/v1/health` ({"available": true}). Any other path is a 404, as on a URL that is not the
Config API.
`NotAirbyte` is another service at the URL (a web page, a proxy's error page) for the wrong-URL
tests. `c_scenario` loads the jobs behind testdata/prefect scenario c, with realistic connector logs.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from failbrief.testing.loopback import FakeHttpServer, Loopback

Record = dict[str, Any]
_LINE = re.compile(
    r"^(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) (?P<source>[\w-]+) > (?P<message>.*)$", re.DOTALL
)
_LEVEL = re.compile(r"^(?P<level>INFO|WARN|ERROR|DEBUG|TRACE) (?P<rest>.*)$", re.DOTALL)


@dataclass
class FakeAttempt:
    """One attempt: its status, its log lines as the formatted logs show them, and its failures
    (FailureReason dicts). With log_type "structured" the lines are served as events."""

    status: str
    lines: list[str] = field(default_factory=list)
    log_type: str = "formatted"
    failures: list[Record] = field(default_factory=list)


@dataclass
class FakeJob:
    job_id: int
    connection_id: str
    status: str
    created_at: datetime
    attempts: list[FakeAttempt] = field(default_factory=list)
    config_type: str = "sync"
    # Times this Airbyte leaves out of JobRead and AttemptRead ("endedAt", "updatedAt"): AttemptRead
    # has no endedAt before an attempt ends, and older servers send fewer of them.
    withheld: tuple[str, ...] = ()

    def read(self) -> Record:
        """JobRead. Attempt n runs from createdAt + 60 n s for 50 s; the job ends 5 s after the last."""
        created = int(self.created_at.timestamp())
        return self._without_withheld(
            {
                "id": self.job_id,
                "configType": self.config_type,
                "configId": self.connection_id,
                "enabledStreams": [{"name": "orders", "namespace": "public"}],
                "createdAt": created,
                "updatedAt": created + 60 * len(self.attempts) + 5,
                "startedAt": created + 1,
                "status": self.status,
            }
        )

    def _without_withheld(self, read: Record) -> Record:
        return {key: value for key, value in read.items() if key not in self.withheld}

    def attempt_read(self, number: int) -> Record:
        """AttemptRead of attempt `number` (counted from 0)."""
        attempt, start = self.attempts[number], int(self.created_at.timestamp()) + 60 * number
        read: Record = {
            "id": number,
            "status": attempt.status,
            "createdAt": start,
            "updatedAt": start + 50,
            "endedAt": start + 50 if attempt.status != "running" else None,
            "bytesSynced": 0,
            "recordsSynced": 0,
            "totalStats": {
                "recordsEmitted": 0,
                "bytesEmitted": 0,
                "recordsCommitted": 0,
                "bytesCommitted": 0,
            },
            "streamStats": [],
        }
        if attempt.failures:
            read["failureSummary"] = {"failures": attempt.failures, "partialSuccess": False}
        return self._without_withheld(read)

    def attempt_info(self, number: int) -> Record:
        """AttemptInfoRead: the attempt and its logs, in its log type."""
        attempt = self.attempts[number]
        if attempt.log_type == "structured":
            logs: Record = {"events": structured_events(attempt.lines), "version": "1"}
        else:
            logs = {"logLines": list(attempt.lines)}
        return {"attempt": self.attempt_read(number), "logs": logs, "logType": attempt.log_type}


def structured_events(lines: list[str]) -> list[Record]:
    """Formatted lines ("<date> <source> > <LEVEL> <message>") as Airbyte 1.4's LogEvents; a line
    without the prefix (a stack frame) becomes the previous event's stackTrace."""
    events: list[Record] = []
    for line in lines:
        match = _LINE.match(line)
        if match is None and events:
            events[-1]["stackTrace"] = (events[-1].get("stackTrace", "") + "\n" + line).lstrip("\n")
            continue
        when = datetime.strptime(match["ts"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC) if match else None
        message = match["message"] if match else line
        level = _LEVEL.match(message)
        events.append(
            {
                "timestamp": int(when.timestamp() * 1000) if when else 0,
                "message": level["rest"] if level else message,
                "level": level["level"].lower() if level else "info",
                "logSource": match["source"] if match else "platform",
                "caller": {"className": "io.airbyte.workers.general.BufferedReplicationWorker"},
            }
        )
    return events


@dataclass
class _Answer:
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


class FakeAirbyte(Loopback):
    """The fake server. `url` ends in /api/v1. With `token`, requests must carry
    `Authorization: Basic <token>` (or Bearer, with auth="bearer"), else 401."""

    def __init__(self, token: str | None = None, auth: str = "basic") -> None:
        self._lock = threading.Lock()
        self._jobs: dict[int, FakeJob] = {}
        self._failures: list[tuple[str | None, _Answer]] = []
        self._expected = f"{'Bearer' if auth == 'bearer' else 'Basic'} {token}" if token else None
        self._deny = False
        self._requests: list[tuple[str, Any, str | None]] = []
        self._scripted: dict[str, FakeJob] = {}
        self.ignore_time_filter = False
        super().__init__()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def url(self) -> str:
        return self.base_url + "/api/v1"

    @property
    def requests(self) -> list[tuple[str, Any, str | None]]:
        """(path, JSON body, Authorization header) of every request so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def add_job(self, job: FakeJob) -> FakeJob:
        with self._lock:
            self._jobs[job.job_id] = job
        return job

    def script_sync(self, job: FakeJob) -> None:
        """The next sync of `job.connection_id` creates `job` (its created_at set to the moment)."""
        with self._lock:
            self._scripted[job.connection_id] = job

    def fail_next(
        self,
        n: int,
        status: int = 500,
        headers: dict[str, str] | None = None,
        body: Any = None,
        path: str | None = None,
    ) -> None:
        """The next `n` requests (to `path` only, e.g. "/api/v1/attempt/get_for_job", when given)
        get `status` with Airbyte's error body, or with `body` (JSON, or bytes sent as they are)."""
        default = {"message": "Internal Server Error: injected"}
        answer = _Answer(status, default if body is None else body, headers or {})
        with self._lock:
            self._failures += [(path, answer)] * n

    def deny_all(self, deny: bool = True) -> None:
        """401 mode: every request is refused as unauthenticated."""
        with self._lock:
            self._deny = deny

    def answer(self, path: str, raw: bytes, authorization: str | None, method: str = "POST") -> _Answer:
        body = _json(raw) if method == "POST" else {}
        with self._lock:
            self._requests.append((path, body, authorization))
            if self._deny or (self._expected and authorization != self._expected):
                return _Answer(
                    401, {"message": "Unauthorized", "exceptionClassName": "AuthenticationException"}
                )
            for n, (only, failure) in enumerate(self._failures):
                if only is None or only == path.rstrip("/"):
                    del self._failures[n]
                    return failure
            if not isinstance(body, dict):
                return _Answer(400, {"message": "Invalid JSON body", "validationErrors": []})
            public_job = re.fullmatch(r"/api/public/v1/jobs/(\d+)", path.rstrip("/"))
            if method == "GET" and path.rstrip("/") == "/api/v1/health":
                return _Answer(200, {"available": True})
            if method == "GET":
                return self._public_job(int(public_job.group(1))) if public_job else _not_found(path)
            routes = {
                "/api/v1/connections/get": self._connection,
                "/api/public/v1/jobs": self._start_sync,
                "/api/v1/jobs/list": self._list,
                "/api/v1/jobs/get_without_logs": self._get_without_logs,
                "/api/v1/attempt/get_for_job": self._attempt,
            }
            route = routes.get(path.rstrip("/"))
            return route(body) if route else _Answer(404, {"message": f"Not Found: {path}"})

    def _connection(self, body: Record) -> _Answer:
        connection_id = body.get("connectionId")
        if connection_id not in self._scripted:
            return _not_found(f"Could not find connection with id: {connection_id}")
        return _Answer(200, {"connectionId": connection_id, "status": "active"})

    def _start_sync(self, body: Record) -> _Answer:
        job = self._scripted.pop(str(body.get("connectionId")), None)
        if job is None or body.get("jobType") != "sync":
            return _not_found(f"Could not find connection with id: {body.get('connectionId')}")
        job.created_at = datetime.now(UTC).replace(microsecond=0)
        self._jobs[job.job_id] = job
        return _Answer(200, self._job_response(job))

    def _public_job(self, job_id: int) -> _Answer:
        job = self._jobs.get(job_id)
        return _Answer(200, self._job_response(job)) if job else _not_found(f"Job {job_id} not found.")

    @staticmethod
    def _job_response(job: FakeJob) -> Record:
        return {
            "jobId": job.job_id,
            "status": job.status,
            "jobType": job.config_type,
            "connectionId": job.connection_id,
            "startTime": job.created_at.isoformat().replace("+00:00", "Z"),
        }

    def _list(self, body: Record) -> _Answer:
        types, low, high = (
            body.get("configTypes") or [],
            None if self.ignore_time_filter else _when(body.get("createdAtStart")),
            None if self.ignore_time_filter else _when(body.get("createdAtEnd")),
        )
        jobs = [
            j
            for j in self._jobs.values()
            if j.connection_id == body.get("configId")
            and (not types or j.config_type in types)
            and (low is None or j.created_at >= low)
            and (high is None or j.created_at <= high)
        ]
        jobs.sort(key=lambda j: (j.created_at, j.job_id), reverse=True)
        page = body.get("pagination") or {}
        offset, size = int(page.get("rowOffset", 0)), int(page.get("pageSize", 20))
        items = [
            {"job": j.read(), "attempts": [j.attempt_read(n) for n in range(len(j.attempts))]}
            for j in jobs[offset : offset + size]
        ]
        return _Answer(200, {"jobs": items, "totalJobCount": len(jobs)})

    def _get_without_logs(self, body: Record) -> _Answer:
        job = self._jobs.get(body.get("id"))  # type: ignore[arg-type]
        if job is None:
            return _not_found(f"Could not find job with id: {body.get('id')}")
        attempts = [
            {"attempt": job.attempt_read(n), "logs": {"logLines": []}} for n in range(len(job.attempts))
        ]
        return _Answer(200, {"job": job.read(), "attempts": attempts})

    def _attempt(self, body: Record) -> _Answer:
        job, number = self._jobs.get(body.get("jobId")), body.get("attemptNumber")  # type: ignore[arg-type]
        if job is None or not isinstance(number, int) or not 0 <= number < len(job.attempts):
            return _not_found(f"Could not find attempt {number} of job {body.get('jobId')}")
        return _Answer(200, job.attempt_info(number))


def _not_found(message: str) -> _Answer:
    return _Answer(
        404,
        {
            "message": message,
            "exceptionClassName": "io.airbyte.commons.server.errors.IdNotFoundKnownException",
        },
    )


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: FakeHttpServer

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send(self.server.fake.answer(urlsplit(self.path).path, raw, self.headers.get("Authorization")))

    def do_GET(self) -> None:
        path, authorization = urlsplit(self.path).path, self.headers.get("Authorization")
        self._send(self.server.fake.answer(path, b"", authorization, method="GET"))

    def _send(self, answer: _Answer) -> None:
        payload = answer.body if isinstance(answer.body, bytes) else json.dumps(answer.body).encode()
        self.send_response(answer.status)
        for name, value in {"Content-Type": "application/json", **answer.headers}.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@dataclass(frozen=True)
class Page:
    """One answer of a service that is not Airbyte: its status, content type and body."""

    status: int
    body: bytes
    content_type: str = "text/html; charset=utf-8"


class NotAirbyte(Loopback):
    """Another web service where Airbyte's Config API was expected: every POST gets `post`, every
    GET (Airbyte's health check included) `get`. E.g. a web app's page for any path, a static file
    server (501 to a POST, 404 to a GET of a file it lacks), or a proxy whose Airbyte is down (502
    to everything). `url` ends in /api/v1, as Airbyte's would."""

    def __init__(self, post: Page, get: Page | None = None) -> None:
        self.post, self.get = post, get or post
        super().__init__()

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _PageHandler

    @property
    def url(self) -> str:
        return self.base_url + "/api/v1"


class _PageHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeHttpServer

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._send(self.server.fake.post)

    def do_GET(self) -> None:
        self._send(self.server.fake.get)

    def _send(self, page: Page) -> None:
        self.send_response(page.status)
        self.send_header("Content-Type", page.content_type)
        self.send_header("Content-Length", str(len(page.body)))
        self.end_headers()
        self.wfile.write(page.body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


# --- scenario c: the Airbyte side of testdata/prefect/c_* -------------------------------------

C_CONNECTION = "6f1c2a9e-3b7d-4e52-9a1f-0c8d2b7e4a15"
C_JOB = 4567
C_STARTED = datetime(2026, 11, 24, 23, 39, 6, tzinfo=UTC)  # the airbyte subflow ran 23:39:06-07
C_SOURCE_ERROR = (
    "org.postgresql.util.PSQLException: Connection to 10.0.3.7:5432 refused. Check that the hostname "
    "and port are correct and that the postmaster is accepting TCP/IP connections."
)
C_EXTERNAL_MESSAGE = (
    "Checking source connection failed - please review this connection's configuration to prevent "
    "future syncs from failing"
)


def c_attempt_lines(job_id: int, number: int, refused: bool = True) -> list[str]:
    """A source-postgres check that fails, as Airbyte 0.50's formatted logs show it."""
    at = "2026-11-24 23:39:0" + str(6 + min(number, 3))
    cause = (
        [
            f"{at} source > {C_SOURCE_ERROR}",
            f"{at} source > Caused by: java.net.ConnectException: Connection refused",
        ]
        if refused
        else [f"{at} source > java.net.SocketTimeoutException: Connect timed out"]
    )
    return [
        f"{at} platform > Docker volume job log path: /tmp/workspace/{job_id}/{number}/logs.log",
        f"{at} platform > Executing worker wrapper. Airbyte version: 0.50.33",
        f"{at} platform > ----- START CHECK -----",
        f"{at} platform > Checking if airbyte/source-postgres:3.2.21 exists...",
        f"{at} source > INFO i.a.i.s.p.PostgresSource(main):682 starting source: class "
        "io.airbyte.integrations.source.postgres.PostgresSource",
        f"{at} source > INFO i.a.c.i.b.IntegrationRunner(runInternal):132 Running integration: "
        "io.airbyte.cdk.integrations.base.ssh.SshWrappedSource",
        f"{at} source > ERROR i.a.c.i.b.AirbyteExceptionHandler(uncaughtException):64 Something went "
        "wrong in the connector. See the logs for more details.",
        *cause,
        f"{at} source > \tat org.postgresql.core.v3.ConnectionFactoryImpl.openConnectionImpl"
        "(ConnectionFactoryImpl.java:346) ~[postgresql-42.6.0.jar:42.6.0]",
        f"{at} source > \tat org.postgresql.jdbc.PgConnection.<init>(PgConnection.java:263) "
        "~[postgresql-42.6.0.jar:42.6.0]",
        f"{at} platform > ----- END CHECK -----",
        f"{at} platform > Failing job: {job_id}, reason: {C_EXTERNAL_MESSAGE}",
    ]


def c_failure(refused: bool = True) -> Record:
    """Airbyte's FailureReason for the failed check."""
    internal = C_SOURCE_ERROR if refused else "java.net.SocketTimeoutException: Connect timed out"
    return {
        "failureOrigin": "source",
        "failureType": "config_error",
        "externalMessage": C_EXTERNAL_MESSAGE,
        "internalMessage": f"io.airbyte.workers.exception.WorkerException: {internal}",
        "stacktrace": f"io.airbyte.workers.exception.WorkerException: {internal}\n"
        "\tat io.airbyte.workers.general.DefaultCheckConnectionWorker.run(DefaultCheckConnectionWorker.java)",
        "retryable": False,
        "timestamp": int(C_STARTED.timestamp() * 1000),
    }


def cancelled_failure() -> Record:
    """Airbyte's FailureReason of an attempt someone cancelled (the job's status is "cancelled",
    its last attempt's "failed")."""
    return {
        "failureOrigin": "airbyte_platform",
        "failureType": "manual_cancellation",
        "externalMessage": "The sync was cancelled.",
        "internalMessage": "io.airbyte.workers.exception.WorkerException: the sync was cancelled",
        "retryable": False,
        "timestamp": int(C_STARTED.timestamp() * 1000),
    }


def c_scenario(fake: FakeAirbyte, log_type: str = "formatted") -> None:
    """Job 4567 of scenario c's connection, in its run's window, with three failed attempts (the
    first timed out, the next two were refused), plus failed jobs of the same connection an hour
    before and an hour after the run, which must never be picked."""
    attempts = [
        FakeAttempt("failed", c_attempt_lines(C_JOB, n, refused=n > 0), log_type, [c_failure(refused=n > 0)])
        for n in range(3)
    ]
    fake.add_job(FakeJob(C_JOB, C_CONNECTION, "failed", C_STARTED, attempts))
    for job_id, shift in ((4501, -60), (4602, 60)):
        lines = [f"2026-11-24 22:39:00 source > ERROR OUTSIDE-THE-WINDOW failure of job {job_id}"]
        stale = [FakeAttempt("failed", lines, log_type, [{"externalMessage": "outside", "timestamp": 0}])]
        fake.add_job(FakeJob(job_id, C_CONNECTION, "failed", C_STARTED + timedelta(minutes=shift), stale))
