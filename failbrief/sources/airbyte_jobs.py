"""The Airbyte job and attempt behind a failed sync, its logs, and what we store about it.

Which job: the newest FAILED (or incomplete) job of the unit's connection created between the
unit's start - 5 min and its end + 5 min; the job its failure message names wins among those.
When only the job is known (prefect-airbyte's "Job <n> failed." and no connection anywhere), that
job, if it failed; its configId is the connection. Which
attempt: the job's last failed one (attempt numbers count from 0, as Airbyte's do). Every job we
pick is kept in `AirbyteJob`.
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
    AttemptLogs,
    Auth,
    FailureReason,
    FailureSummary,
    JobWithAttempts,
)
from failbrief.sources.airbyte_units import AirbyteUnit
from failbrief.sources.models import AirbyteJob

WINDOW_MARGIN = timedelta(minutes=5)
FAILED_JOB_STATUSES = ("failed", "incomplete")
STACKTRACE_LINES = 12
NOT_CONFIGURED = (
    "Airbyte is not configured (AIRBYTE_API_URL, or `failbrief org set SLUG --airbyte-url`), "
    "so this Airbyte sync is summarized from Prefect's logs."
)


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
    stored token cannot be decrypted."""
    if org.airbyte_url:
        return _client(org.airbyte_url, _org_token(org))
    if settings.AIRBYTE_API_URL and (org.is_default or not own_only):
        return _client(settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN)
    return None


def _client(url: str, token: str | None) -> AirbyteClient:
    auth: Auth = "bearer" if settings.AIRBYTE_AUTH == "bearer" else "basic"
    return AirbyteClient(url, token, auth=auth, timeout=settings.AIRBYTE_TIMEOUT_SECONDS)


def _org_token(org: Org) -> str | None:
    if not org.airbyte_token_encrypted:
        return None
    try:
        return unseal(org.airbyte_token_encrypted)
    except VaultError as exc:
        raise AirbyteAuthError(f"org {org.slug}: {exc}") from None


def window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    """The creation window of the job: start - 5 min .. end + 5 min (now when still unknown)."""
    now = timezone.now()
    return (start or end or now) - WINDOW_MARGIN, (end or now) + WINDOW_MARGIN


def logs_of_unit(
    org: Org, unit: AirbyteUnit, start: datetime, end: datetime
) -> tuple[AirbyteFound | None, str]:
    """The failed attempt's logs, or None and a plain sentence saying why Prefect's logs are used."""
    try:
        client = client_for(org)
        if client is None:
            return None, NOT_CONFIGURED
        with client:
            return _found_in_window(client, org, unit, start, end)
    except AirbyteError as exc:
        return None, (
            f"Airbyte could not be read ({type(exc).__name__}: {exc}), so this sync is summarized "
            "from Prefect's logs."
        )


def _found_in_window(
    client: AirbyteClient, org: Org, unit: AirbyteUnit, start: datetime, end: datetime
) -> tuple[AirbyteFound | None, str]:
    if not unit.connection_id and unit.job_id_hint is not None:
        return _found_by_job(client, org, unit.job_id_hint)
    job = pick_job(client.jobs(unit.connection_id, start, end), unit.job_id_hint)
    if job is None:
        return None, (
            f"No failed Airbyte job of connection {unit.connection_id} was created between "
            f"{_when(start)} and {_when(end)}, so this sync is summarized from Prefect's logs."
        )
    remember(org, job)
    return attempt_found(client, job, last_failed_attempt(job)), ""


def _found_by_job(client: AirbyteClient, org: Org, job_id: int) -> tuple[AirbyteFound | None, str]:
    """The job prefect-airbyte's "Job <n> failed." names; its connection is the job's configId."""
    try:
        job = pick_job([client.job(job_id)])
    except AirbyteNotFound:
        job = None
    if job is None:
        return None, (
            f"Airbyte has no failed job {job_id} (the job the failure names), so this sync is "
            "summarized from Prefect's logs."
        )
    remember(org, job)
    return attempt_found(client, job, last_failed_attempt(job)), ""


def pick_job(jobs: list[JobWithAttempts], hint: int | None = None) -> JobWithAttempts | None:
    """Among `jobs` (newest first), the one named by `hint` if it failed, else the newest failed or
    incomplete job that has attempts; None when none did."""
    failed = [j for j in jobs if j.job.status in FAILED_JOB_STATUSES and j.attempts]
    named = [j for j in failed if j.job.id == hint]
    return next(iter(named or failed), None)


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
                {"number": a.id, "status": a.status, "createdAt": a.created_at, "endedAt": a.ended_at}
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
