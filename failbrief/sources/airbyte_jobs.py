"""The Airbyte job and attempt behind a failed sync, its logs, and what we store about it.

Which job: the job its failure message names ("Job 4567 failed." or "cancelled."), read directly
whenever it was created, if it is of the unit's connection; with no connection known, its
configId is the connection (on a shared Airbyte, only one the org is known to run). Else the
newest job of the unit's connection created between the unit's start - 1 min and its end + 30 s
(Airbyte runs one job of a connection at a time), if it failed, was cancelled or is incomplete:
never an older failed job when the unit's own did not fail, nor a re-run made after the unit
ended. Which attempt: the job's last failed one (attempt numbers count from 0, as Airbyte's do).
Every job we pick is kept in `AirbyteJob`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.utils import timezone

from failbrief.condense.readers import parse_level, records_from_lines
from failbrief.condense.records import LogRecord
from failbrief.orgs.models import Org
from failbrief.orgs.vault import VaultError, unseal
from failbrief.sources.airbyte import (
    AirbyteAuthError,
    AirbyteClient,
    AirbyteError,
    AirbyteNotFound,
    AirbyteUnavailable,
    AttemptLogs,
    Auth,
    FailureReason,
    FailureSummary,
    JobWithAttempts,
)
from failbrief.sources.airbyte_units import AirbyteUnit
from failbrief.sources.models import AirbyteJob

BEFORE_START = timedelta(minutes=1)
SKEW = timedelta(seconds=30)  # Prefect's and Airbyte's clocks may disagree by a few seconds
# prefect-airbyte raises for a job that failed or was cancelled; "incomplete" is a job whose attempt
# failed while Prefect gave up waiting. Their last failed attempt says why.
ENDED_BADLY = ("failed", "cancelled", "incomplete")
STACKTRACE_LINES = 12
NOT_CONFIGURED = (
    "Airbyte is not configured (AIRBYTE_API_URL, or `failbrief org set SLUG --airbyte-url`), "
    "so this Airbyte sync is summarized from Prefect's logs."
)


class NotConfigApi(Exception):
    """The Airbyte URL answers as another service does, its health check included: it is not the
    Config API. `answer` says what it answered ("404", "HTTP 200 with a body that is not JSON")."""

    def __init__(self, answer: str) -> None:
        super().__init__(answer)
        self.answer = answer


class NotThisOrgsConnection(LookupError):
    """The connection or job is unknown, or belongs to another org: both are a 404 to the caller."""


@dataclass(frozen=True)
class AirbyteFound:
    """One attempt's logs, ready to condense, and what the summary row should record about it."""

    job: JobWithAttempts
    attempt_number: int
    records: list[LogRecord]
    preamble: str

    def row_fields(self) -> dict[str, object]:
        return {
            "airbyte_job_id": self.job.job.id,
            "airbyte_attempt_number": self.attempt_number,
            "airbyte_connection_id": self.job.job.config_id,
        }


def client_for(org: Org, *, own_only: bool = False) -> AirbyteClient | None:
    """The org's Airbyte client: its own URL and token, else the global AIRBYTE_API_URL (only for
    the default org when `own_only`). None when neither is set. Raises AirbyteAuthError when the
    stored token cannot be decrypted. For any other org than the default one the global server
    is "the shared Airbyte": its errors do not name its address (see AirbyteClient)."""
    if org.airbyte_url:
        return _client(org.airbyte_url, _org_token(org))
    if settings.AIRBYTE_API_URL and (org.is_default or not own_only):
        return _client(settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN, shared=not org.is_default)
    return None


def _client(url: str, token: str | None, *, shared: bool = False) -> AirbyteClient:
    auth: Auth = "bearer" if settings.AIRBYTE_AUTH == "bearer" else "basic"
    return AirbyteClient(url, token, auth=auth, timeout=settings.AIRBYTE_TIMEOUT_SECONDS, shared=shared)


def _org_token(org: Org) -> str | None:
    if not org.airbyte_token_encrypted:
        return None
    try:
        return unseal(org.airbyte_token_encrypted)
    except VaultError as exc:
        raise AirbyteAuthError(f"org {org.slug}: {exc}") from None


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """When the unit's own job was created: from a minute before it started (the job prefect-airbyte's
    `trigger` task made, moments before the failing `wait_for_completion` started; and clock skew)
    to SKEW after it ended (now when still unknown). A job created minutes earlier or later was
    someone else's run of the connection."""
    now = timezone.now()
    return (start or end or now) - BEFORE_START, (end or now) + SKEW


def owns_its_airbyte(org: Org) -> bool:
    """Whether every job of the Airbyte client_for(org) reads is the org's: its own server, or the
    global one for the default org. Another org reads the global (shared) server only for the
    connections its own runs named."""
    return bool(org.airbyte_url) or org.is_default


def logs_of_unit(
    org: Org, unit: AirbyteUnit, start: datetime, end: datetime
) -> tuple[AirbyteFound | None, str]:
    """The failed attempt's logs, or None and a plain sentence saying why Prefect's logs are used.
    `start`..`end` is the unit's window()."""
    try:
        client = client_for(org)
        if client is None:
            return None, NOT_CONFIGURED
        with client:
            return _logs_from(client, org, unit, start, end)
    except NotConfigApi as wrong:
        return None, _not_config_api(org, wrong.answer)
    except AirbyteError as exc:
        which = "Airbyte" if owns_its_airbyte(org) else "The shared Airbyte"
        return None, (
            f"{which} could not be read ({type(exc).__name__}: {exc}), so this sync is summarized "
            "from Prefect's logs."
        )


def _logs_from(
    client: AirbyteClient, org: Org, unit: AirbyteUnit, start: datetime, end: datetime
) -> tuple[AirbyteFound | None, str]:
    try:
        named = _named_job(client, org, unit)
        if named is not None and _ended_badly(named):
            return _read(client, org, named), ""
        if named is not None or not unit.connection_id:
            return None, _no_named_job(org, unit, named is not None)
        return _found_in_window(client, org, unit, start, end)
    except AirbyteError as exc:
        answer = another_services_answer(client, exc)
        if answer is None:
            raise
        raise NotConfigApi(answer) from None


def another_services_answer(client: AirbyteClient, error: AirbyteError) -> str | None:
    """What the URL answered, when `error` is an answer any service may give (a 404, a 5xx, a 2xx
    that is not JSON or not Airbyte's JSON, another 4xx) and the URL's health check does not answer
    as Airbyte's does either: it is not the Config API (a web app's page, another service). None
    when the health check is Airbyte's (the error is Airbyte's own), when nothing answers it (a
    proxy whose Airbyte is down answers 502 to both: Airbyte may be back soon), and for a refused
    token, a timeout or a 429."""
    if isinstance(error, AirbyteAuthError) or (
        isinstance(error, AirbyteUnavailable) and (error.status or 0) < 500
    ):
        return None
    try:
        if client.is_config_api():
            return None
    except AirbyteError:
        return None
    if isinstance(error, AirbyteNotFound):
        return "404"
    if error.status is None:
        return "JSON that is not Airbyte's"
    if 200 <= error.status < 300:
        return f"HTTP {error.status} with a body that is not JSON"
    return f"HTTP {error.status}"


def _named_job(client: AirbyteClient, org: Org, unit: AirbyteUnit) -> JobWithAttempts | None:
    """The job the failure names ("Job 4567 failed."), whenever it was created, when it is the
    unit's connection's (or, named alone, a connection this org may read); else None."""
    if unit.job_id_hint is None:
        return None
    try:
        job = client.job(unit.job_id_hint)
    except AirbyteNotFound:
        # A URL that is not the Config API (no /api/v1, the public API, another service) answers
        # 404 too: "Airbyte has no job 4567" would send the reader looking for the wrong thing.
        if not client.is_config_api():
            raise NotConfigApi("404") from None
        return None
    connection = job.job.config_id.lower()
    if unit.connection_id:
        # A number in a message is weak evidence; the connection the run named is strong.
        return job if connection == unit.connection_id else None
    if owns_its_airbyte(org) or AirbyteJob.objects.filter(org=org, config_id__iexact=connection).exists():
        return job
    return None


def not_config_api(org: Org, answer: str = "404") -> str:
    """Why the org's Airbyte URL is wrong, naming it only to an org whose own it is. `answer` is
    what it answered (another_services_answer)."""
    if owns_its_airbyte(org):
        which = f"Airbyte's URL {org.airbyte_url or settings.AIRBYTE_API_URL}"
        fix = "; it ends in /api/v1, e.g. http://airbyte:8000/api/v1"
    else:
        which, fix = "The shared Airbyte's URL", "; failbrief's operator can correct it"
    return (
        f"{which} does not look like Airbyte's Config API (it answers {answer}, and its health check "
        f"does not answer as Airbyte's does{fix})"
    )


def _not_config_api(org: Org, answer: str) -> str:
    return f"{not_config_api(org, answer)}, so this sync is summarized from Prefect's logs."


def _no_named_job(org: Org, unit: AirbyteUnit, exists: bool) -> str:
    if exists or owns_its_airbyte(org):
        why = ""
    else:
        # Job numbers are per server: this one may be of an Airbyte failbrief was not told about.
        why = (
            " on the shared Airbyte of a connection this org is known to run (it has no Airbyte of "
            f"its own: `failbrief org set {org.slug} --airbyte-url`)"
        )
    return (
        f"Airbyte has no failed job {unit.job_id_hint}{why} (the job the failure names), so this "
        "sync is summarized from Prefect's logs."
    )


def _found_in_window(
    client: AirbyteClient, org: Org, unit: AirbyteUnit, start: datetime, end: datetime
) -> tuple[AirbyteFound | None, str]:
    """The newest job of the connection created in the window is the unit's own: Airbyte runs one
    job of a connection at a time. If it did not fail (the worker crashed while it ran), an older
    failed job in the window was not this unit's failure."""
    jobs = client.jobs(unit.connection_id, start, end)
    if not jobs:
        return None, (
            f"No failed Airbyte job of connection {unit.connection_id} was created between "
            f"{_when(start)} and {_when(end)}, so this sync is summarized from Prefect's logs."
        )
    own = jobs[0]
    if not _ended_badly(own):
        what = own.job.status if own.attempts else f"{own.job.status} without any attempt"
        return None, (
            f"Airbyte job {own.job.id} of connection {unit.connection_id}, the newest created between "
            f"{_when(start)} and {_when(end)}, is {what}, not failed, so this sync is summarized from "
            "Prefect's logs."
        )
    return _read(client, org, own), ""


def _ended_badly(job: JobWithAttempts) -> bool:
    return job.job.status in ENDED_BADLY and bool(job.attempts)


def _read(client: AirbyteClient, org: Org, job: JobWithAttempts) -> AirbyteFound:
    remember(org, job)
    return attempt_found(client, job, last_failed_attempt(job))


def last_failed_attempt(job: JobWithAttempts) -> int:
    """The number of the job's last failed attempt, else of its last attempt (0 when none)."""
    failed = [a.id for a in job.attempts if a.status == "failed"]
    return max(failed or [a.id for a in job.attempts] or [0])


def attempt_found(client: AirbyteClient, job: JobWithAttempts, attempt_number: int) -> AirbyteFound:
    """Reads the attempt's logs. Raises the client's errors (AirbyteNotFound: no such attempt)."""
    logs = client.attempt_logs(job.job.id, attempt_number)
    return AirbyteFound(job, attempt_number, airbyte_records(logs), failure_preamble(job, logs))


def airbyte_records(logs: AttemptLogs) -> list[LogRecord]:
    """Formatted lines in chunks (a Java stack trace spans many lines); structured events one by one."""
    if logs.log_type != "structured":
        return [LogRecord(chunk.message, source="airbyte") for chunk in records_from_lines(logs.lines)]
    stamps = logs.timestamps + [None] * (len(logs.lines) - len(logs.timestamps))
    return [
        LogRecord(line, level=parse_level(level), timestamp=_iso_ms(stamp), source="airbyte")
        for line, level, stamp in zip(logs.lines, logs.levels, stamps, strict=False)
    ]


def failure_preamble(job: JobWithAttempts, logs: AttemptLogs) -> str:
    """Which job and attempt these logs are, and Airbyte's own failure summary of the attempt."""
    meta = job.job
    lines = [
        f"Airbyte job {meta.id} ({meta.config_type or 'sync'} of connection {meta.config_id}), status "
        f"{meta.status}; logs of attempt number {logs.attempt.id} ({logs.attempt.status}) of "
        f"{len(job.attempts)} attempt(s), numbered from 0."
    ]
    summary = logs.attempt.failure_summary or _summary_in_list(job, logs.attempt.id)
    if summary and summary.failures:
        lines.append("Airbyte's failure summary of this attempt:")
        lines += [line for reason in summary.failures for line in _reason_lines(reason)]
    return "\n".join(lines)


def _summary_in_list(job: JobWithAttempts, number: int) -> FailureSummary | None:
    # Older servers leave failureSummary out of attempt/get_for_job; jobs/list always has it.
    return next((a.failure_summary for a in job.attempts if a.id == number), None)


def _reason_lines(reason: FailureReason) -> list[str]:
    where = ", ".join(p for p in (reason.failure_origin, reason.failure_type) if p) or "unknown origin"
    lines = [f"- ({where}) {reason.external_message or ''}".rstrip()]
    if reason.internal_message and reason.internal_message != reason.external_message:
        lines.append(f"  internal: {reason.internal_message}")
    trace = (reason.stacktrace or "").splitlines()
    if trace and trace[0].strip() == (reason.internal_message or "").strip():
        trace = trace[1:]  # Airbyte repeats the internal message as the trace's first line
    lines += ["  " + line for line in trace[:STACKTRACE_LINES]]
    return lines


def remember(org: Org, job: JobWithAttempts) -> AirbyteJob:
    """Store (or refresh) what Airbyte said about the job."""
    meta = job.job
    row, _ = AirbyteJob.objects.update_or_create(
        org=org,
        job_id=meta.id,
        defaults={
            "config_id": meta.config_id,
            "config_type": meta.config_type,
            "status": meta.status,
            "attempts": [
                {
                    "number": a.id,
                    "status": a.status,
                    "createdAt": a.created_at,
                    "updatedAt": a.updated_at,
                    "endedAt": a.ended_at,
                }
                for a in job.attempts
            ],
            "created_at": _moment(meta.created_at),
            "updated_at": _moment(meta.updated_at),
        },
    )
    return row


def _moment(epoch_seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(epoch_seconds, UTC) if epoch_seconds is not None else None


def _iso_ms(epoch_ms: int | None) -> str | None:
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat() if epoch_ms is not None else None


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
