"""Which logs explain a failed unit, and where to get them: Airbyte's own logs for an Airbyte sync
(airbyte_units.py says which units those are), Prefect's logs for everything else and whenever
Airbyte cannot give them, with a note that says so."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from failbrief.condense.condenser import records_from_prefect
from failbrief.condense.records import LogRecord
from failbrief.orgs.models import Org
from failbrief.runs.failed_units import FailedUnit
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.sources.airbyte_jobs import logs_of_unit, window
from failbrief.sources.airbyte_units import AirbyteUnit, airbyte_unit
from failbrief.sources.prefect_logs import unit_logs


@dataclass
class UnitLogs:
    """The records to condense, and what the summary row should say about where they came from."""

    records: list[LogRecord]
    source: str  # prefect | airbyte
    note: str = ""  # said plainly in the summary, e.g. why a better source was not used
    preamble: str = ""  # goes ahead of the log lines in the context (e.g. Airbyte's failure summary)
    waited_seconds: float = 0.0
    row_fields: dict[str, object] = field(default_factory=dict)  # e.g. airbyte_job_id, attempt number


def logs_for_unit(client: PrefectClient, unit: FailedUnit, run: FlowRun, org: Org) -> UnitLogs:
    """The unit's logs. Raises the Prefect client's errors (PrefectUnavailable is transient);
    Airbyte's errors never escape: Prefect's logs are used instead, and the note says why."""
    sync = airbyte_unit(unit, run.parameters)
    if sync is None:
        return prefect_unit_logs(client, unit)
    return airbyte_unit_logs(client, unit, run, org, sync)


def airbyte_unit_logs(
    client: PrefectClient, unit: FailedUnit, run: FlowRun, org: Org, sync: AirbyteUnit
) -> UnitLogs:
    found, note = logs_of_unit(
        org, sync, *window(unit.start_time or run.start_time, unit.end_time or run.end_time)
    )
    if found is None:
        logs = prefect_unit_logs(client, unit)
        logs.note = note
        if sync.connection_id:
            logs.row_fields = {"airbyte_connection_id": sync.connection_id}
        return logs
    return UnitLogs(
        records=found.records, source="airbyte", preamble=found.preamble, row_fields=found.row_fields()
    )


def prefect_unit_logs(client: PrefectClient, unit: FailedUnit) -> UnitLogs:
    settled = unit_logs(
        client, unit, settle_seconds=settings.LOG_SETTLE_SECONDS, cap_seconds=settings.LOG_SETTLE_CAP_SECONDS
    )
    records = list(records_from_prefect(log.model_dump(mode="json") for log in settled.logs))
    return UnitLogs(records=records, source="prefect", waited_seconds=settled.waited_seconds)
