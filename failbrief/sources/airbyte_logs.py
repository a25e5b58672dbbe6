"""Airbyte's logs as a LogSource: the failed attempt behind a failed sync unit (the webhook's way),
or one attempt a person asks for (Dalgo's connection logsummary). Finding the job and reading the
attempt is airbyte_jobs.py's."""

from __future__ import annotations

from failbrief.orgs.models import Org
from failbrief.runs.failed_units import FailedUnit
from failbrief.runs.prefect import FlowRun
from failbrief.sources.airbyte_jobs import (
    AirbyteFound,
    NotThisOrgsConnection,
    attempt_found,
    client_for,
    logs_of_unit,
    remember,
    window,
)
from failbrief.sources.airbyte_units import AirbyteUnit, with_logged_connection
from failbrief.sources.log_source import LogSource, NoLogs, UnitLogs
from failbrief.sources.prefect_logs import PrefectLogs


class AirbyteSyncLogs(LogSource):
    """The logs of the Airbyte job attempt a failed sync unit ran (airbyte_units.py says which units
    those are). NoLogs, with the note saying why, when Airbyte cannot give them; Airbyte's errors
    never escape. With `prefect` (the unit's Prefect logs), a unit whose runs name no connection
    takes it from prefect-airbyte's line starting the sync in its flow run's logs, if any; reading
    them raises the Prefect client's errors."""

    name = "airbyte"

    def __init__(
        self, org: Org, sync: AirbyteUnit, unit: FailedUnit, run: FlowRun, prefect: PrefectLogs | None = None
    ) -> None:
        self.org, self.sync, self.unit, self.run, self.prefect = org, sync, unit, run, prefect

    def read(self) -> UnitLogs:
        start, end = window(
            self.unit.start_time or self.run.start_time, self.unit.end_time or self.run.end_time
        )
        sync = self.sync
        if not sync.connection_id and self.prefect is not None:
            sync = with_logged_connection(sync, self.prefect.flow_run_messages())
        found, note = logs_of_unit(self.org, sync, start, end)
        if found is None:
            known: dict[str, object] = {}
            if sync.connection_id:  # a job-only unit ("Job 4567 failed.") names none
                known["airbyte_connection_id"] = sync.connection_id
            raise NoLogs(note, known)
        return _unit_logs(found)


class AirbyteAttemptLogs(LogSource):
    """The logs of one attempt of one job of the org's Airbyte. Raises NotThisOrgsConnection when
    the org has no Airbyte, and the client's errors (AirbyteUnavailable is worth a retry)."""

    name = "airbyte"

    def __init__(self, org: Org, job_id: int, attempt_number: int, task_name: str = "") -> None:
        self.org, self.job_id, self.attempt_number, self.task_name = org, job_id, attempt_number, task_name

    def read(self) -> UnitLogs:
        client = client_for(self.org)
        if client is None:
            raise NotThisOrgsConnection("Airbyte is not configured for this org (see docs/airbyte.md)")
        with client:
            job = client.job(self.job_id)
            remember(self.org, job)
            found = attempt_found(client, job, self.attempt_number)
        return _unit_logs(found, self._facts(found))

    def _facts(self, found: AirbyteFound) -> dict[str, str]:
        attempt = next((a for a in found.job.attempts if a.id == found.attempt_number), None)
        reasons = attempt.failure_summary.failures if attempt and attempt.failure_summary else []
        return {
            "task_name": self.task_name or f"Airbyte sync of connection {found.job.job.config_id}",
            "state_name": attempt.status if attempt else found.job.job.status,
            "state_message": next((r.external_message for r in reasons if r.external_message), ""),
        }


def _unit_logs(found: AirbyteFound, facts: dict[str, str] | None = None) -> UnitLogs:
    return UnitLogs(
        records=found.records,
        source="airbyte",
        preamble=found.preamble,
        row_fields=found.row_fields(),
        facts=facts or {},
    )
