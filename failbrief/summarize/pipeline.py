"""One failed unit's summary, top-down: claim the row → read the logs → write the brief → complete.

- claim: store.py (the only module that writes summary rows) gives the caller the row to fill;
- logs: through the LogSource interface (sources/log_source.py): the failing unit's logs from the
  first source that has them (Airbyte's for a sync, then Prefect's), and the baseline;
- brief: the condenser (failbrief/condense/) turns the logs into a context, writer.py has it
  written through the provider interface (the offline rules are a provider too);
- complete: store.py again.

Which units and which org (the event side) is events/process.py's; a summary someone asks for is
on_demand.py's and on_demand_airbyte.py's.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from django.conf import settings

from failbrief.condense.brief import Brief, FailedUnitInfo
from failbrief.condense.condenser import condense
from failbrief.condense.records import LogRecord
from failbrief.lib.http import ApiUnavailable
from failbrief.metrics.record import observe_summary_stored
from failbrief.orgs.models import Org
from failbrief.runs.failed_units import FailedUnit
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.sources.airbyte_logs import AirbyteSyncLogs
from failbrief.sources.airbyte_units import AIRBYTE_SESSION, airbyte_unit
from failbrief.sources.baseline import BaselineLogs
from failbrief.sources.log_source import LogSource, NoLogs, UnitLogs
from failbrief.sources.prefect_logs import PrefectLogs
from failbrief.summarize.models import LlmSession
from failbrief.summarize.store import (
    claim_summary,
    complete_summary,
    fail_summary,
    flow_unit_key,
    link_runs,
    renew_claim,
)
from failbrief.summarize.writer import brief_fields, write_brief

log = logging.getLogger(__name__)


@dataclass
class Timer:
    """Seconds per step, in order, plus figures that are not steps (e.g. how long logs took to settle)."""

    started: float = field(default_factory=time.monotonic)
    last: float = field(default_factory=time.monotonic)
    figures: dict[str, float] = field(default_factory=dict)

    def lap(self, step: str) -> None:
        now = time.monotonic()
        self.figures[step] = round(now - self.last, 4)
        self.last = now

    def total(self) -> dict[str, float]:
        return self.figures | {"total": round(time.monotonic() - self.started, 4)}


def summarize_units(
    client: PrefectClient,
    org: Org,
    lineage: tuple[str, ...],
    units: list[FailedUnit],
    run: FlowRun,
    worker_task_id: str,
    **fields: object,
) -> list[LlmSession]:
    """Every failed unit of `run` (root failure first) claimed, then each row this task owns filled;
    returns the rows (also those another task owns). A cascade's row points at the root failure's.
    Each row's claim is renewed as its work starts, so the stuck-row sweep never fails a row that is
    only waiting behind the run's earlier units (each may spend a whole LLM deadline).
    A service that is down propagates (the task retries; its rows stay its own). Any other error
    fails only that unit's row, with the reason: the run's other units still get their summaries,
    and no row is left running."""
    claims = [
        claim_unit(org, lineage, unit, run, worker_task_id, position=i, **fields)
        for i, unit in enumerate(units)
    ]
    root_row = claims[0][0] if claims else None
    for unit, (row, mine) in zip(units, claims, strict=True):
        if not mine or not renew_claim(row, worker_task_id):
            continue
        if unit.cascade and root_row is not None:
            root_row.refresh_from_db()  # completed since it was claimed: the cascade takes its category
        try:
            summarize_unit(client, row, unit, run, root_cause_of=root_row if unit.cascade else None)
        except ApiUnavailable:
            raise
        except Exception as exc:
            log.warning("summary=%s task_id=%s failed: %s: %s", row.pk, unit.id, type(exc).__name__, exc)
            fail_summary(row, f"{type(exc).__name__}: {exc}")  # no-op when summarize() already did
    return [row for row, _ in claims]


def claim_unit(
    org: Org,
    lineage: tuple[str, ...],
    unit: FailedUnit,
    run: FlowRun,
    worker_task_id: str,
    **fields: object,
) -> tuple[LlmSession, bool]:
    """The unit's summary row, keyed by the top-level run (`lineage[0]`) so a subflow's own webhook
    and its parent's meet on one row and linked to every run on the way down, and whether
    `worker_task_id` now owns it. An Airbyte sync's row has session type airbyte_sync (as Dalgo's).
    `fields` fill a new row (the event, the unit's position)."""
    airbyte = airbyte_unit(unit, run.parameters) is not None
    session_type = AIRBYTE_SESSION if airbyte else LlmSession.LOG_SUMMARIZATION
    key = unit.id
    if unit.kind == "flow_run":
        key = flow_unit_key(org, lineage[0], unit.id, unit.end_time, session_type)
    row, mine = claim_summary(
        org,
        lineage[0],
        key,
        worker_task_id,
        session_type=session_type,
        task_name=unit.name,
        unit_kind=unit.kind,
        unit_ended_at=unit.end_time,
        is_cascade=unit.cascade,
        cascade_reason=unit.cascade_reason or "",
        **fields,
    )
    link_runs(row, (*lineage[:-1], *unit.lineage))
    return row, mine


def summarize_unit(
    client: PrefectClient,
    row: LlmSession,
    unit: FailedUnit,
    run: FlowRun,
    root_cause_of: LlmSession | None = None,
) -> None:
    """Fill a claimed (running) row for a failed unit of `run`. A transient error (Prefect down)
    propagates so the caller can retry; anything else fails the row with the reason and is re-raised. A
    regenerate (a later version) asks the LLM again rather than reuse a stored summary."""
    if unit.cascade:
        complete(row, _cascade_fields(unit, root_cause_of), Timer())
        return
    summarize(
        row,
        unit_info(unit, run),
        unit_sources(client, row.org, unit, run),
        baseline=BaselineLogs(client, unit, run),
        reuse=row.version == 1,
    )


def unit_sources(client: PrefectClient, org: Org, unit: FailedUnit, run: FlowRun) -> list[LogSource]:
    """Where the unit's logs are, best first: Airbyte's for an Airbyte sync, then Prefect's (for
    everything else, and whenever Airbyte cannot give them)."""
    prefect = PrefectLogs(
        client, unit, settle_seconds=settings.LOG_SETTLE_SECONDS, cap_seconds=settings.LOG_SETTLE_CAP_SECONDS
    )
    sync = airbyte_unit(unit, run.parameters)
    return [AirbyteSyncLogs(org, sync, unit, run, prefect), prefect] if sync is not None else [prefect]


def summarize(
    row: LlmSession,
    info: FailedUnitInfo,
    sources: Iterable[LogSource],
    *,
    baseline: LogSource | None = None,
    reuse: bool = True,
) -> None:
    """Logs → brief → complete, for a claimed row: the logs of the first of `sources` that has them,
    condensed against `baseline`'s. A service that is down (ApiUnavailable) propagates and leaves
    the row running for the retry; any other error fails the row with the reason and is re-raised."""
    timer = Timer()
    try:
        logs = _first_logs(sources)
        timer.lap("logs")
        timer.figures["logs_waited"] = round(logs.waited_seconds, 4)
        normal: list[LogRecord] = []
        if baseline is not None:
            normal = baseline.read().records
            timer.lap("baseline")
        fields = _brief_fields(row, replace(info, **logs.facts), logs, normal, reuse, timer)
    except Exception as exc:
        if not isinstance(exc, ApiUnavailable):
            fail_summary(row, f"{type(exc).__name__}: {exc}")
        raise
    complete(row, fields, timer)


def _first_logs(sources: Iterable[LogSource]) -> UnitLogs:
    """The logs of the first source that has them, with the note and row fields of those passed
    over ("Airbyte could not be read, so this sync is summarized from Prefect's logs")."""
    note, row_fields = "", dict[str, object]()
    for source in sources:
        try:
            logs = source.read()
        except NoLogs as none:
            note, row_fields = none.note or note, row_fields | none.row_fields
            continue
        return replace(logs, note=logs.note or note, row_fields=row_fields | logs.row_fields)
    raise NoLogs(note, row_fields)


def _brief_fields(
    row: LlmSession,
    info: FailedUnitInfo,
    logs: UnitLogs,
    baseline: list[LogRecord],
    reuse: bool,
    timer: Timer,
) -> dict[str, object]:
    header = "\n".join(part for part in (context_header(info), logs.note, logs.preamble) if part)
    context = condense(logs.records, settings.CONTEXT_MAX_TOKENS, header=header, baseline=baseline)
    timer.lap("condense")
    written = write_brief(row.org, context, info, reuse=reuse)
    timer.lap("summarize")
    fields = (
        brief_fields(written.brief)
        | {"summarizer": written.summarizer, "context_tokens": context.tokens, "log_lines": context.lines_in}
        | {"context": context.text}
        | {"log_source": logs.source, "source_note": logs.note}
        | logs.row_fields
        | written.row_fields
    )
    if logs.note:
        # Dalgo's webapp shows only `response`: a brief from the fallback source must say so there.
        fields["response"] = [*fields["response"], {"prompt": "Logs used", "response": logs.note}]  # type: ignore[misc]
    return fields


def complete(row: LlmSession, fields: dict[str, object], timer: Timer) -> None:
    if not complete_summary(row, **fields, timings=timer.total()):
        # Another copy of this task (a broker redelivery) stored it first: counted and logged there.
        log.info(
            "summary=%s flow_run_id=%s already stored by another copy of this task", row.pk, row.flow_run_id
        )
        return
    observe_summary_stored(row, str(fields["summarizer"]))
    log.info(
        "summary=%s flow_run_id=%s task_id=%s category=%s summarizer=%s duration=%.3f",
        row.pk,
        row.flow_run_id,
        row.task_id,
        fields["category"],
        fields["summarizer"],
        timer.total()["total"],
    )


def unit_info(unit: FailedUnit, run: FlowRun) -> FailedUnitInfo:
    return FailedUnitInfo(
        flow_run_name=run.name or "",
        deployment_name=str(run.deployment_id or ""),
        task_name=unit.name,
        state_name=unit.state_name or "",
        state_message=unit.state_message or "",
        start_time=unit.start_time.isoformat() if unit.start_time else "",
        end_time=unit.end_time.isoformat() if unit.end_time else "",
    )


def context_header(info: FailedUnitInfo) -> str:
    lines = [
        f"Flow run: {info.flow_run_name}",
        f"Failed unit: {info.task_name} ({info.state_name})",
        f"State message: {info.state_message}" if info.state_message else "",
        f"Started {info.start_time}, ended {info.end_time}" if info.start_time or info.end_time else "",
    ]
    return "\n".join(line for line in lines if line)


def _cascade_fields(unit: FailedUnit, root: LlmSession | None) -> dict[str, object]:
    upstream = f" (see the summary of {root.task_name})" if root else ""
    brief = Brief(
        root_cause=f"Not a failure of its own: {unit.cascade_reason or 'an upstream task failed'}{upstream}",
        failing_step=unit.name,
        category=root.category if root and root.category else "unknown",
        evidence=[unit.state_message] if unit.state_message else [],
        suggested_fix="Fix the upstream failure; this task runs again with it.",
        explanation="This task did not run to completion because a task it depends on failed.",
        confidence="high",
    )
    return brief_fields(brief) | {"summarizer": "cascade", "log_source": "prefect"}
