"""Summary rows: claimed once, completed once. The database, not the code, enforces "exactly once".

The only module that writes LlmSession and SummaryRun rows; the others read them and call here."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Max, Q
from django.utils import timezone

from failbrief.condense.redact import redact
from failbrief.orgs.models import Org
from failbrief.summarize.models import LlmSession, SummaryRun

Status = LlmSession.Status
# What makes rows versions of one unit's summary (regenerate numbers them within it).
_UNIT = ("org", "flow_run_id", "task_id", "session_type")
# What a new version takes over besides: what the unit is (a cascade stays one), and what the
# pages list it by (the webhook's flow, deployment and state).
_TAKEN_OVER = (
    "task_name",
    "unit_kind",
    "is_cascade",
    "cascade_reason",
    "position",
    "flow_name",
    "deployment_name",
    "run_state",
    "unit_ended_at",
    "failed_at",
)


def claim_summary(
    org: Org,
    flow_run_id: str,
    task_id: str,
    worker_task_id: str,
    session_type: str = LlmSession.LOG_SUMMARIZATION,
    **fields: object,
) -> tuple[LlmSession, bool]:
    """The version-1 row of this unit and whether `worker_task_id` now owns it (running). Not owned
    when it is completed or another live worker has it. `fields` fill a new row."""
    key = {
        "org": org,
        "flow_run_id": flow_run_id,
        "task_id": task_id,
        "session_type": session_type,
        "version": 1,
    }
    try:
        with transaction.atomic():
            return LlmSession.objects.create(**key, **fields, worker_task_id=worker_task_id), True
    except IntegrityError:
        pass
    row = LlmSession.objects.get(**key)
    return row, _take_over(row, worker_task_id)


# A flow-run unit that failed again after a retry: its later failures' rows are keyed `<id>#2`, `#3`…
AGAIN = "#"
SAME_FAILURE = timedelta(seconds=1)  # one failure's end time as two reads of Prefect may round it


def flow_unit_key(
    org: Org, top_run_id: str, unit_id: str, ended_at: datetime | None, session_type: str
) -> str:
    """The task id a flow-run unit's summary row has: the flow run's id for its first failure, the
    same key while it is that failure (a repeat webhook, another shape, a regenerate), and `<id>#N`
    for a later one: a run retried from Prefect's UI that fails again is the same flow run, and with
    no task failing in either attempt the flow run is itself the unit both times."""
    latest = (
        LlmSession.objects.filter(
            Q(task_id=unit_id) | Q(task_id__startswith=f"{unit_id}{AGAIN}"),
            org=org,
            flow_run_id=top_run_id,
            session_type=session_type,
            version=1,
        )
        .order_by("-pk")
        .first()
    )
    if latest is None:
        return unit_id
    if not ended_later(ended_at, latest.unit_ended_at):
        return latest.task_id
    number = latest.task_id.rpartition(AGAIN)[2] if AGAIN in latest.task_id else "1"
    return f"{unit_id}{AGAIN}{int(number) + 1 if number.isdigit() else 2}"


def ended_later(ended_at: datetime | None, known_end: datetime | None) -> bool:
    """Whether a flow-run unit that ended at `ended_at` failed again after the failure that ended
    at `known_end`: False when either is unknown (nothing tells them apart)."""
    return ended_at is not None and known_end is not None and ended_at > known_end + SAME_FAILURE


def unit_id_of(task_id: str) -> str:
    """The Prefect id a summary row's task id names: a later failure's key less its `#N`."""
    return task_id.partition(AGAIN)[0]


def renew_claim(row: LlmSession, worker_task_id: str) -> bool:
    """Whether `worker_task_id` still owns `row` as it starts the row's work, its clock reset so the
    stuck-row sweep counts from now: a run's rows are all claimed at once, and the later ones would
    otherwise look stuck while the earlier ones wait on their LLM. False: another task has it now."""
    return _take_over(row, worker_task_id)


def _take_over(row: LlmSession, worker_task_id: str) -> bool:
    """A failed row may be retried; a running one only by its own (redelivered) task or once stale."""
    stale = timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    mine = Q(session_status=Status.RUNNING) & (Q(worker_task_id=worker_task_id) | Q(updated_at__lt=stale))
    updated = (
        LlmSession.objects.filter(pk=row.pk)
        .filter(Q(session_status=Status.FAILED) | mine)
        .update(
            session_status=Status.RUNNING,
            worker_task_id=worker_task_id,
            error_reason="",
            updated_at=timezone.now(),
        )
    )
    if updated:
        row.refresh_from_db()
    return updated == 1


def claim_requested(row_id: int, worker_task_id: str) -> LlmSession | None:
    """The requested row (Prefect's or Airbyte's), now this worker task's to fill; None when it is
    no longer running or another task holds it. A redelivered copy of the same task takes it back."""
    claimed = LlmSession.objects.filter(
        Q(worker_task_id="") | Q(worker_task_id=worker_task_id), pk=row_id, session_status=Status.RUNNING
    ).update(worker_task_id=worker_task_id)
    return LlmSession.objects.select_related("org").get(pk=row_id) if claimed else None


def name_unit(row: LlmSession, task_name: str, unit_kind: str, ended_at: datetime | None = None) -> None:
    """Record what the requested unit turned out to be, once Prefect has said, and when it failed
    when the row did not know yet (stored before requested rows were given their end time). A row
    that knows keeps its time: it says which failure of a retried flow run the row is."""
    LlmSession.objects.filter(pk=row.pk).update(task_name=task_name, unit_kind=unit_kind)
    if ended_at is not None:
        LlmSession.objects.filter(pk=row.pk, unit_ended_at__isnull=True).update(
            unit_ended_at=ended_at, failed_at=ended_at
        )


def new_version(template: LlmSession, orguser: str | None = None, **fields: object) -> LlmSession:
    """A new running version of the same unit (regenerate); older versions are kept. `fields` are
    set on the new row besides what it takes over from `template`."""
    carried = {name: getattr(template, name) for name in (*_UNIT, *_TAKEN_OVER)}
    for _ in range(5):
        same_unit = LlmSession.objects.filter(**{name: carried[name] for name in _UNIT})
        version = (same_unit.aggregate(v=Max("version"))["v"] or 0) + 1
        try:
            with transaction.atomic():
                row = LlmSession.objects.create(**carried, version=version, orguser=orguser, **fields)
                link_runs(row, [r.flow_run_id for r in template.runs.all()] or [template.flow_run_id])
                return row
        except IntegrityError:
            continue  # another regenerate took this version number
    raise RuntimeError("could not allocate a new summary version")


def link_runs(row: LlmSession, flow_run_ids: Iterable[str]) -> None:
    for flow_run_id in dict.fromkeys(flow_run_ids):
        SummaryRun.objects.get_or_create(summary=row, flow_run_id=flow_run_id)


# The brief's text as it is stored, shown and notified. The context comes redacted by the condenser,
# but a brief also quotes what the condenser never saw: the unit's state message (a crash whose logs
# just stop is explained from it), Airbyte's failure reason, an LLM's answer, and the source note,
# which quotes the start of an error answer (Airbyte's 400 may echo its config).
_REDACTED_FIELDS = (
    "context",
    "source_note",
    "root_cause",
    "failing_step",
    "explanation",
    "suggested_fix",
    "evidence",
    "response",
)


def complete_summary(row: LlmSession, **fields: object) -> bool:
    """Complete a running row with the brief's `fields`, every text of the brief redacted here, where
    it is written, so none reaches the table (and from it the API, pages and notifications) without.
    False when another copy of the same task had already completed it (nothing was written)."""
    for name in _REDACTED_FIELDS:
        if name in fields:
            fields[name] = _redacted(fields[name])
    try:
        with transaction.atomic():
            updated = _complete(row, fields)
    except IntegrityError:
        # Another row already holds this Airbyte attempt (one_summary_per_airbyte_attempt), e.g. a
        # manual request that won a race with the webhook: it stays the attempt's summary.
        updated = _complete(row, {**fields, "airbyte_job_id": None})
    if updated != 1 and not _completed_by_same_task(row):
        raise RuntimeError(f"summary {row.pk} was no longer running when it completed")
    return updated == 1


def _redacted(value: object) -> object:
    """`value` with every string in it redacted: a text, the evidence list, Dalgo's response items."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    return value


def _completed_by_same_task(row: LlmSession) -> bool:
    """Another copy of this very task (a broker redelivery while the first still ran, in another
    worker process) finished the row first: the work is done once, nothing is wrong."""
    done = LlmSession.objects.filter(
        pk=row.pk, session_status=Status.COMPLETED, worker_task_id=row.worker_task_id
    ).exists()
    return done and bool(row.worker_task_id)


def _complete(row: LlmSession, fields: dict[str, object]) -> int:
    return LlmSession.objects.filter(pk=row.pk, session_status=Status.RUNNING).update(
        session_status=Status.COMPLETED, error_reason="", updated_at=timezone.now(), **fields
    )


def count_reuse(original: LlmSession) -> int:
    """Record one more occurrence of `original`'s failure; returns how many times it has been seen
    (the original included)."""
    LlmSession.objects.filter(pk=original.pk).update(reuse_count=F("reuse_count") + 1)
    original.refresh_from_db(fields=["reuse_count"])
    return original.reuse_count + 1


def fail_summary(row: LlmSession, reason: str) -> None:
    LlmSession.objects.filter(pk=row.pk, session_status=Status.RUNNING).update(
        session_status=Status.FAILED, error_reason=reason[:4000], updated_at=timezone.now()
    )


def fail_stuck_summaries() -> int:
    """Fail every row still running past the deadline; returns how many."""
    stale = timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    return LlmSession.objects.filter(session_status=Status.RUNNING, updated_at__lt=stale).update(
        session_status=Status.FAILED,
        error_reason=f"no worker finished it within {settings.STUCK_AFTER_SECONDS:.0f} s",
        updated_at=timezone.now(),
    )
