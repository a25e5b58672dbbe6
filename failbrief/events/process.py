"""What a stored failure event becomes: its flow run, its org, one summary per failed unit."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from failbrief.events.models import FailureEvent
from failbrief.events.run_facts import listed_facts
from failbrief.notify.trigger import notify_summaries
from failbrief.orgs.models import Org
from failbrief.orgs.resolve import RunOwner, owner_of_run
from failbrief.runs.errors import PrefectError, PrefectUnavailable
from failbrief.runs.failed_units import failed_units
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.runs.states import is_failure
from failbrief.summarize.models import LlmSession
from failbrief.summarize.pipeline import summarize_units

log = logging.getLogger(__name__)
Status = FailureEvent.Status


def summarize_event(event_id: int, worker_task_id: str, client: PrefectClient) -> None:
    """Process one event. PrefectUnavailable propagates (the task retries it); every other outcome
    ends the event as done, unmatched or failed, with the reason."""
    event = claim_event(event_id, worker_task_id)
    if event is None:
        return
    try:
        _summarize_claimed(event, worker_task_id, client)
    except PrefectUnavailable:
        raise
    except PrefectError as exc:
        finish_event(event, Status.FAILED, f"{type(exc).__name__}: {exc}")
    except Exception as exc:
        log.exception("event=%s flow_run_id=%s failed", event.pk, event.flow_run_id)
        finish_event(event, Status.FAILED, f"internal error: {type(exc).__name__}: {exc}")


def claim_event(event_id: int, worker_task_id: str) -> FailureEvent | None:
    """Mark the event processing for this task. None when it is finished or another live task has it;
    the same task id (a retry or a redelivery after a killed worker) may claim it again."""
    stale = timezone.now() - timedelta(seconds=settings.STUCK_AFTER_SECONDS)
    claimable = Q(status=Status.PENDING) | Q(status=Status.PROCESSING) & (
        Q(worker_task_id=worker_task_id) | Q(started_at__lt=stale)
    )
    updated = (
        FailureEvent.objects.filter(pk=event_id)
        .filter(claimable)
        .update(status=Status.PROCESSING, worker_task_id=worker_task_id, started_at=timezone.now())
    )
    return FailureEvent.objects.select_related("signed_by").get(pk=event_id) if updated else None


def recovered(run: FlowRun) -> bool:
    """The run failed, then was retried and completed before its event was processed (a backfill
    reaches it hours after reading the window): the failed task runs of its first attempt are still
    in Prefect, but there is no failure left to explain. A run being retried still is one."""
    return run.state_type == "COMPLETED" and not is_failure(run.state_type, run.state_name)


def no_longer_failed(run: FlowRun) -> str:
    state = run.state_name or run.state_type
    return f"the run is no longer failed: Prefect now has it in state {state!r}; nothing was summarized"


def not_signers_run(signer: Org) -> str:
    return (
        f"signed with org {signer.slug!r}'s own webhook key, but the run does not name {signer.slug!r} "
        f"as its org (parameters.config.org_slug, deployment mapping, org:{signer.slug} tag, or the "
        "default org): a key only starts work for its own org's runs; nothing was summarized"
    )


def finish_event(event: FailureEvent, status: str, reason: str = "") -> None:
    now = timezone.now()
    FailureEvent.objects.filter(pk=event.pk).update(
        status=status, status_reason=reason[:4000], finished_at=now
    )
    since_webhook = (now - event.received_at).total_seconds()
    log.info(
        "event=%s flow_run_id=%s status=%s since_webhook=%.3f %s",
        event.pk,
        event.flow_run_id,
        status,
        since_webhook,
        reason,
    )


def _summarize_claimed(event: FailureEvent, worker_task_id: str, client: PrefectClient) -> None:
    run = client.flow_run(event.flow_run_id)
    if recovered(run):
        finish_event(event, Status.IGNORED, no_longer_failed(run))
        return
    signer = event.signed_by
    owner = owner_of_run(client, run) if signer is None else _signers_view(event, client, run)
    lineage, match = owner.lineage, owner.match
    if signer is None and event.named_org_id != (match.org.pk if match.org else None):
        # The webhook's tag or deployment was only a guess made before Prefect answered; the run's
        # own parameters may name another org, and from now on only that org sees the event.
        FailureEvent.objects.filter(pk=event.pk).update(named_org=match.org)
    if signer is not None and match.org != signer:
        # Neither which org owns the run nor why is the signer's business.
        finish_event(event, Status.IGNORED, not_signers_run(signer))
        return
    if match.org is None:
        finish_event(event, Status.UNMATCHED, match.how)
        return
    units = failed_units(client, run.id)
    rows = summarize_units(
        client, match.org, lineage, units, run, worker_task_id, event=event, **listed_facts(event)
    )
    for row in rows:
        row.refresh_from_db()
    _notify(event, owner.top, rows, client)
    failed = [row for row in rows if row.session_status == LlmSession.Status.FAILED]
    if failed:
        # The summaries that were written are kept and announced; the event says which were not, and why.
        why = "; ".join(f"{row.task_name}: {row.error_reason}" for row in failed)
        finish_event(
            event, Status.FAILED, f"{len(failed)} of {len(units)} failed unit(s) not summarized: {why}"
        )
        return
    finish_event(event, Status.DONE, f"{len(units)} failed unit(s); org from {match.how}")


def _signers_view(event: FailureEvent, client: PrefectClient, run: FlowRun) -> RunOwner:
    """owner_of_run for an event signed with an org's own key. Finding the owner reads the runs above
    the signer's one, which may be another org's: a failed read must not hand the signer their ids or
    Prefect's answer about them in the event's reason (or retry reason), which it reads back. The
    full error goes to the operator's log."""
    try:
        return owner_of_run(client, run)
    except PrefectError as exc:
        log.warning("event=%s flow_run_id=%s owner lookup: %s", event.pk, event.flow_run_id, exc)
        what = f"HTTP {exc.status}" if exc.status is not None else exc.message.split(": ", 1)[-1]
        said = f"could not tell whose run this is: Prefect failed reading the flow runs above it ({what})"
        if isinstance(exc, PrefectUnavailable):
            raise PrefectUnavailable(said, status=exc.status, retry_after=exc.retry_after) from exc
        raise type(exc)(said, status=exc.status) from exc


def _notify(event: FailureEvent, top: FlowRun, rows: list[LlmSession], client: PrefectClient) -> None:
    """Every completed row (read afresh by the caller), not only the ones this task wrote: a
    redelivered task whose first copy stored the summaries and died before this point still plans
    their notifications (once: they are UNIQUE per summary and channel). A notification fault never
    fails the summarized event."""
    try:
        notify_summaries(event, top, rows, client)
    except Exception:
        log.exception("event=%s flow_run_id=%s: notifications not planned", event.pk, event.flow_run_id)
