"""Which logs explain a failed unit, and where to get them. Prefect's own logs for now; sources such
as Airbyte take over for the units they own (one module per source beside this one)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings

from failbrief.orgs.models import Org
from failbrief.runs.failed_units import FailedUnit
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.sources.prefect_logs import unit_logs
from failbrief.summarize.condense import records_from_prefect
from failbrief.summarize.records import LogRecord


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
    """The unit's logs. Raises the Prefect client's errors (PrefectUnavailable is transient)."""
    settled = unit_logs(
        client, unit, settle_seconds=settings.LOG_SETTLE_SECONDS, cap_seconds=settings.LOG_SETTLE_CAP_SECONDS
    )
    records = list(records_from_prefect(log.model_dump(mode="json") for log in settled.logs))
    return UnitLogs(records=records, source="prefect", waited_seconds=settled.waited_seconds)
