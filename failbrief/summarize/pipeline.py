"""One failed unit → settled logs → condensed context → brief → a completed summary row.

The event side (which units, which org) is in events/process.py.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from django.conf import settings

from failbrief.condense.brief import Brief, FailedUnitInfo
from failbrief.condense.condenser import condense
from failbrief.condense.redact import redact
from failbrief.metrics.record import observe_summary_stored
from failbrief.runs.errors import PrefectUnavailable
from failbrief.runs.failed_units import FailedUnit
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.sources.baseline import baseline_records
from failbrief.sources.for_unit import logs_for_unit
from failbrief.summarize.models import LlmSession
from failbrief.summarize.store import complete_summary, fail_summary
from failbrief.summarize.writer import write_brief

log = logging.getLogger(__name__)


def prefect_client() -> PrefectClient:
    return PrefectClient(
        settings.PREFECT_API_URL, api_key=settings.PREFECT_API_KEY, timeout=settings.PREFECT_TIMEOUT_SECONDS
    )


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


def summarize_unit(
    client: PrefectClient,
    row: LlmSession,
    unit: FailedUnit,
    run: FlowRun,
    root_cause_of: LlmSession | None = None,
) -> None:
    """Fill a claimed (running) row. Prefect errors propagate so the caller can retry or fail it;
    anything else fails the row with the reason and is re-raised."""
    timer = Timer()
    try:
        fields = (
            _cascade_fields(unit, root_cause_of)
            if unit.cascade
            else _fields_from_logs(client, row, unit, run, timer)
        )
    except Exception as exc:
        if not isinstance(exc, PrefectUnavailable):
            fail_summary(row, f"{type(exc).__name__}: {exc}")
        raise
    complete_summary(row, **fields, timings=timer.total())
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


def _fields_from_logs(
    client: PrefectClient, row: LlmSession, unit: FailedUnit, run: FlowRun, timer: Timer
) -> dict[str, object]:
    found = logs_for_unit(client, unit, run, row.org)
    timer.lap("logs")
    timer.figures["logs_waited"] = round(found.waited_seconds, 4)
    info = unit_info(unit, run)
    header = "\n".join(part for part in (context_header(info), found.note, found.preamble) if part)
    baseline = baseline_records(client, unit, run)
    timer.lap("baseline")
    context = condense(found.records, settings.CONTEXT_MAX_TOKENS, header=header, baseline=baseline)
    timer.lap("condense")
    written = write_brief(row.org, context, info, reuse=row.version == 1)  # a regenerate asks again
    timer.lap("summarize")
    return (
        brief_fields(written.brief)
        | {"summarizer": written.summarizer, "context_tokens": context.tokens, "log_lines": context.lines_in}
        | {"log_source": found.source, "source_note": found.note}
        | found.row_fields
        | written.row_fields
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


def brief_fields(brief: Brief) -> dict[str, object]:
    return {
        "category": brief.category,
        "root_cause": brief.root_cause,
        "failing_step": brief.failing_step,
        "evidence": [redact(line) for line in brief.evidence],
        "suggested_fix": brief.suggested_fix,
        "explanation": brief.explanation,
        "confidence": brief.confidence,
        "response": dalgo_response(brief),
    }


def dalgo_response(brief: Brief) -> list[dict[str, str]]:
    """Dalgo's `response` list: a "Summary" item first, then what else a reader needs."""
    summary = brief.root_cause or "Insufficient evidence: the logs do not show the cause of this failure."
    if brief.explanation:
        summary = f"{summary}\n\n{brief.explanation}"
    items = [{"prompt": "Summary", "response": summary}]
    if brief.suggested_fix:
        items.append({"prompt": "Suggested fix", "response": brief.suggested_fix})
    if brief.evidence:
        items.append({"prompt": "Evidence", "response": "\n".join(brief.evidence)})
    return items
