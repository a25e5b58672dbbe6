"""Summaries of one Airbyte attempt that a person asks for (Dalgo's connection logsummary trigger).

The attempt is the key: a request finds the webhook's summary of the same (org, job, attempt) and
reuses it, and a webhook that completes after a request leaves the request's row the attempt's
summary (store.complete_summary). A connection is this org's when we stored one of its jobs or
summaries for the org, or when the org's own Airbyte (its --airbyte-url, or the global
AIRBYTE_API_URL for the default org) knows the job under that connection; otherwise it is a 404.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from django.db.models import QuerySet

from failbrief.condense.brief import FailedUnitInfo
from failbrief.orgs.models import Org
from failbrief.sources.airbyte import (
    AirbyteBadResponse,
    AirbyteClient,
    AirbyteError,
    AirbyteNotFound,
    AirbyteUnavailable,
    JobWithAttempts,
)
from failbrief.sources.airbyte_jobs import (
    NotThisOrgsConnection,
    another_services_answer,
    client_for,
    not_config_api,
    remember,
)
from failbrief.sources.airbyte_logs import AirbyteAttemptLogs
from failbrief.sources.airbyte_units import AIRBYTE_SESSION
from failbrief.sources.models import AirbyteJob
from failbrief.summarize.models import LlmSession
from failbrief.summarize.on_demand import newest
from failbrief.summarize.pipeline import summarize
from failbrief.summarize.store import claim_requested, claim_summary, new_version

Status = LlmSession.Status
ATTEMPT_KIND = "airbyte_attempt"  # LlmSession.unit_kind of a row made for a request


def request_airbyte_summary(
    org: Org,
    connection_id: str,
    job_id: int,
    attempt_number: int | None = None,
    *,
    regenerate: bool = False,
    orguser: str | None = None,
) -> tuple[LlmSession, bool]:
    """The row a caller polls for the attempt (its last failed one when `attempt_number` is None),
    and whether a worker must now fill it. Raises NotThisOrgsConnection, or the Airbyte client's
    errors when the org's Airbyte must be asked and cannot answer."""
    connection_id = _connection_uuid(connection_id)
    job = owned_job(org, connection_id, job_id)
    number = attempt_number if attempt_number is not None else _last_failed(job)
    current = newest(attempt_rows(org, job_id, number))
    if current is not None and not regenerate and current.session_status != Status.FAILED:
        return current, False
    if current is not None:
        return new_version(current, orguser=orguser, **_attempt_fields(connection_id, job_id, number)), True
    return _claim_attempt(org, connection_id, job_id, number, orguser, attempt_end(job, number))


def attempt_rows(org: Org, job_id: int, attempt_number: int) -> QuerySet[LlmSession]:
    """Every version of the attempt's summary in the org (a webhook's row or a request's)."""
    return LlmSession.objects.filter(org=org, airbyte_job_id=job_id, airbyte_attempt_number=attempt_number)


def owned_job(org: Org, connection_id: str, job_id: int) -> AirbyteJob:
    """The stored job, after checking that it is `connection_id`'s and the connection is the org's."""
    stored = AirbyteJob.objects.filter(org=org, job_id=job_id).first()
    if stored is not None:
        if stored.config_id != connection_id:
            raise NotThisOrgsConnection(f"job {job_id} is not a job of connection {connection_id}")
        return stored
    client = client_for(org, own_only=not _known_connection(org, connection_id))
    if client is None:
        raise NotThisOrgsConnection(f"no connection {connection_id} for this org")
    with client:
        return remember(org, _job_of(client, org, connection_id, job_id))


def _known_connection(org: Org, connection_id: str) -> bool:
    return (
        AirbyteJob.objects.filter(org=org, config_id=connection_id).exists()
        or LlmSession.objects.filter(org=org, airbyte_connection_id=connection_id).exists()
    )


def _job_of(client: AirbyteClient, org: Org, connection_id: str, job_id: int) -> JobWithAttempts:
    try:
        job = client.job(job_id)
    except AirbyteNotFound:
        # A URL that is not the Config API answers 404 to any job: a 502 saying so, not "no job".
        if not client.is_config_api():
            raise AirbyteBadResponse(not_config_api(org)) from None
        raise NotThisOrgsConnection(f"no job {job_id} of connection {connection_id}") from None
    except AirbyteError as exc:
        # A web page or another service's 5xx: a 502 saying so, not a 503 asking to try again.
        answer = another_services_answer(client, exc)
        if answer is None:
            raise
        raise AirbyteBadResponse(not_config_api(org, answer)) from None
    if job.job.config_id.lower() != connection_id:
        raise NotThisOrgsConnection(f"job {job_id} is not a job of connection {connection_id}")
    return job


def _last_failed(job: AirbyteJob) -> int:
    attempts = [a for a in job.attempts or [] if isinstance(a, dict) and isinstance(a.get("number"), int)]
    failed = [int(a["number"]) for a in attempts if a.get("status") == "failed"]
    return max(failed or [int(a["number"]) for a in attempts] or [0])


def attempt_end(job: AirbyteJob, number: int) -> datetime | None:
    """When the attempt ended, as Airbyte said: its endedAt, else its updatedAt (the last change of
    an attempt that has failed is its end; some servers send no endedAt); None when Airbyte gave
    neither, and the row is then listed at the time it was asked for."""
    attempt = next((a for a in job.attempts or [] if isinstance(a, dict) and a.get("number") == number), {})
    for name in ("endedAt", "updatedAt"):
        if isinstance(moment := attempt.get(name), int) and not isinstance(moment, bool):
            return datetime.fromtimestamp(moment, UTC)
    return None


def _connection_uuid(connection_id: str) -> str:
    try:
        return str(uuid.UUID(connection_id))
    except ValueError:
        raise NotThisOrgsConnection(f"{connection_id[:60]!r} is not an Airbyte connection id") from None


def _attempt_fields(connection_id: str, job_id: int, number: int) -> dict[str, object]:
    return {
        "airbyte_job_id": job_id,
        "airbyte_attempt_number": number,
        "airbyte_connection_id": connection_id,
    }


def _claim_attempt(
    org: Org, connection_id: str, job_id: int, number: int, orguser: str | None, ended_at: datetime | None
) -> tuple[LlmSession, bool]:
    """A new row holding the attempt's key, listed at the time the attempt failed in Airbyte (an
    old failure asked about today is not today's); a concurrent request or webhook that got there
    first keeps it, and its row is returned instead."""
    try:
        return claim_summary(
            org,
            "",  # no flow run is known: the attempt is the key
            f"airbyte:{job_id}:{number}",
            "",
            session_type=AIRBYTE_SESSION,
            orguser=orguser,
            task_name=f"Airbyte sync of connection {connection_id}",
            unit_kind=ATTEMPT_KIND,
            unit_ended_at=ended_at,
            **_attempt_fields(connection_id, job_id, number),
        )
    except LlmSession.DoesNotExist:
        winner = newest(attempt_rows(org, job_id, number))
        assert winner is not None
        return winner, False


def fill_airbyte_requested(row_id: int, worker_task_id: str) -> None:
    """Fill a requested attempt row. AirbyteUnavailable propagates for a retry; other errors fail it."""
    row = claim_requested(row_id, worker_task_id)
    if row is None:
        return
    assert row.airbyte_job_id is not None
    assert row.airbyte_attempt_number is not None
    attempt = AirbyteAttemptLogs(row.org, row.airbyte_job_id, row.airbyte_attempt_number, row.task_name)
    try:
        summarize(row, FailedUnitInfo(), [attempt])
    except AirbyteUnavailable:
        raise
    except (AirbyteError, NotThisOrgsConnection):
        return  # summarize() failed the row with the reason
