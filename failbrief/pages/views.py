"""An org's failures: the list (home), a run's briefs, a recurring failure's page with its team note,
feedback, and regenerate for admins."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.db.models import Count, Min
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from ninja.errors import HttpError

from failbrief.api.limits import RateLimited, limit
from failbrief.condense.fixes import FIXES
from failbrief.condense.redact import redact
from failbrief.events.models import FailureEvent
from failbrief.events.state import state_of, visible_events
from failbrief.pages.access import Seat, admin_page, org_page
from failbrief.pages.context_view import ContextView, context_view
from failbrief.pages.failures import Filters, failures_page, seen_counts
from failbrief.pages.models import Feedback, TeamNote
from failbrief.pages.notes import note_line, save_note
from failbrief.pages.once import first_time, new_once
from failbrief.publish import publish
from failbrief.summarize.models import LlmSession
from failbrief.summarize.on_demand import shown_order, summaries_of_run
from failbrief.summarize.store import fail_summary, new_version
from failbrief.summarize.tasks import summarize_requested

Status = LlmSession.Status
CATEGORIES = tuple(FIXES)
STATES = ("Failed", "Crashed", "TimedOut", "Cancelled")


@require_GET
@org_page
def failures(request: HttpRequest, seat: Seat) -> HttpResponse:
    filters = Filters.of(request.GET)
    page = failures_page(seat.org, filters, settings.PAGE_SIZE)
    next_url = None
    if page.next_before is not None:
        next_url = "?" + urlencode({**filters.query(), "before": page.next_before})
    context = {
        "seat": seat,
        "page": page,
        "filters": filters,
        "categories": CATEGORIES,
        "states": STATES,
        "next_url": next_url,
        "first_url": "?" + urlencode(filters.query()) if filters.before else None,
    }
    return render(request, "pages/failures.html", context, status=400 if filters.errors else 200)


@dataclass
class Unit:
    """One failed unit of a run: the version shown (newest completed, else newest), all versions,
    the cascades it caused, feedback and the team note of its signature."""

    current: LlmSession
    versions: list[LlmSession]
    cascades: list[Unit] = field(default_factory=list)
    my_feedback: Feedback | None = None
    votes_up: int = 0
    votes_down: int = 0
    comments: list[Feedback] = field(default_factory=list)
    note: TeamNote | None = None
    seen: int = 1

    @property
    def note_line(self) -> str:
        return note_line(self.note)

    @cached_property
    def context_view(self) -> ContextView | None:
        """The condensed context with the evidence marked; None when it was not kept (a cascade, or
        a summary stored before contexts were)."""
        row = self.current
        return context_view(row.context, row.evidence or []) if row.context else None

    @property
    def time_to_summary(self) -> float | None:
        row = self.current
        if row.session_status != Status.COMPLETED:
            return None
        return max(0.0, (row.updated_at - row.created_at).total_seconds())


def run_units(seat: Seat, flow_run_id: str) -> list[Unit]:
    rows = list(summaries_of_run(seat.org, flow_run_id).order_by("position", "task_id", "-version", "-pk"))
    by_unit: dict[tuple[str, str], list[LlmSession]] = {}
    for row in rows:
        by_unit.setdefault((row.task_id, row.session_type), []).append(row)
    units = []
    for versions in by_unit.values():
        completed = [v for v in versions if v.session_status == Status.COMPLETED]
        units.append(Unit(current=(completed or versions)[0], versions=versions))
    units.sort(key=lambda unit: shown_order(unit.current))
    _attach_feedback(seat, units)
    _attach_notes(seat, units)
    roots = [u for u in units if not u.current.is_cascade]
    for unit in units:
        if unit.current.is_cascade:
            (roots[0].cascades if roots else roots).append(unit)
    return roots


def _attach_feedback(seat: Seat, units: list[Unit]) -> None:
    by_summary = {u.current.pk: u for u in units}
    for fb in (
        Feedback.objects.filter(summary_id__in=by_summary).select_related("user").order_by("-updated_at")
    ):
        unit = by_summary[fb.summary_id]
        if fb.helpful:
            unit.votes_up += 1
        else:
            unit.votes_down += 1
        if fb.user_id == seat.user.pk:
            unit.my_feedback = fb
        if fb.comment or fb.category_correction:
            unit.comments.append(fb)


def _attach_notes(seat: Seat, units: list[Unit]) -> None:
    signatures = {u.current.signature for u in units if u.current.signature}
    notes = {n.signature: n for n in TeamNote.objects.filter(org=seat.org, signature__in=signatures)}
    counts = seen_counts(seat.org, list(signatures))
    for unit in units:
        unit.note = notes.get(unit.current.signature)
        unit.seen = counts.get(unit.current.signature, 1)


@require_GET
@org_page
def run_page(request: HttpRequest, seat: Seat, flow_run_id: str) -> HttpResponse:
    units = run_units(seat, flow_run_id)
    if not units:
        return _run_waiting(request, seat, flow_run_id)
    first = units[0].current
    prefect_url = settings.PREFECT_RUN_URL_TEMPLATE.format(
        prefect_ui=settings.PREFECT_UI_URL, flow_run_id=flow_run_id, org=seat.org.slug
    )
    context = {
        "seat": seat,
        "flow_run_id": flow_run_id,
        "units": units,
        "first": first,
        "prefect_url": prefect_url,
        "categories": CATEGORIES,
        "once": new_once(),
        "failed_at": _failed_at(first),
        "stuck_minutes": math.ceil(settings.STUCK_AFTER_SECONDS / 60),
    }
    return render(request, "pages/run.html", context)


# Events whose run may still get a brief, or failed to: what the reader is told (as the API does).
WORKING = (FailureEvent.Status.PENDING, FailureEvent.Status.PROCESSING, FailureEvent.Status.FAILED)


def _run_waiting(request: HttpRequest, seat: Seat, flow_run_id: str) -> HttpResponse:
    """No brief of the run yet: what failbrief is doing with its webhook (200 while one may come,
    or when it failed), else a 404 saying what failbrief knows, only of the events this org may see."""
    events = visible_events(seat.org).filter(flow_run_id=flow_run_id).order_by("-received_at", "-pk")
    event = events.filter(status__in=WORKING).first()
    found = state_of(event) if event is not None else None
    settled = None if event is not None else events.first()
    context = {
        "seat": seat,
        "flow_run_id": flow_run_id,
        "state": found,
        "settled": state_of(settled) if settled is not None else None,
    }
    return render(request, "pages/run_waiting.html", context, status=200 if found else 404)


def _failed_at(row: LlmSession) -> datetime | None:
    """When Prefect says the run failed (the webhook's state time); None without one (the page
    then says when the failure was received)."""
    if row.event_id is None:
        return None
    events = FailureEvent.objects.filter(pk=row.event_id)
    return events.values_list("state_timestamp", flat=True).first()


def _summary(seat: Seat, summary_id: int) -> LlmSession:
    row = LlmSession.objects.filter(org=seat.org, pk=summary_id).first()
    if row is None:
        raise Http404("no such summary")
    return row


def _back_to_run(seat: Seat, row: LlmSession) -> HttpResponse:
    return redirect(reverse("pages:run", args=[seat.org.slug, row.flow_run_id]) + f"#summary-{row.pk}")


@require_POST
@admin_page
def regenerate(request: HttpRequest, seat: Seat, summary_id: int) -> HttpResponse:
    """Summarize the unit again as a new version, as POST /api/v1/summaries/{id}/regenerate does
    (the same rate limits, the same task); older versions stay in the history."""
    row = _summary(seat, summary_id)
    if not first_time(request, f"regenerate-{row.pk}"):
        messages.warning(request, "This form was already sent: one new version was asked for then.")
        return _back_to_run(seat, row)
    unit = f"{row.flow_run_id}:{row.task_id}"
    try:
        limit(
            request,
            "regenerate-summary",
            f"{seat.org.pk}:{unit}",
            settings.RATE_REGENERATE_PER_SUMMARY,
            "regenerations of this summary",
        )
        limit(
            request,
            "regenerate-org",
            str(seat.org.pk),
            settings.RATE_REGENERATE_PER_ORG,
            "regenerations for this org",
        )
    except (RateLimited, HttpError) as exc:
        messages.error(request, f"Not regenerated: {exc}")
        return _back_to_run(seat, row)
    fresh = new_version(row, orguser=seat.user.email or seat.user.username)
    if not publish(summarize_requested, fresh.pk):
        fail_summary(fresh, "the task queue was unreachable; ask again")
        messages.error(request, "Not regenerated: the task queue is unreachable; try again shortly.")
    else:
        messages.success(request, f"Regenerating: version {fresh.version} will appear here when it is done.")
    return _back_to_run(seat, row)


@require_POST
@org_page
def feedback(request: HttpRequest, seat: Seat, summary_id: int) -> HttpResponse:
    row = _summary(seat, summary_id)
    vote = request.POST.get("vote", "")
    correction = request.POST.get("category", "").strip()
    if vote not in {"up", "down"}:
        messages.error(request, "Choose 👍 or 👎.")
        return _back_to_run(seat, row)
    if correction and correction not in CATEGORIES:
        messages.error(request, f"Unknown category {correction[:50]!r}.")
        return _back_to_run(seat, row)
    Feedback.objects.update_or_create(
        summary=row,
        user=seat.user,
        defaults={
            "helpful": vote == "up",
            # Redacted like a team note: a pasted fix may carry the credential it used.
            "comment": redact(one_newline(request.POST.get("comment", "")).strip()[:4000]),
            "category_correction": "" if correction == row.category else correction,
        },
    )
    messages.success(request, "Thanks: your feedback is saved.")
    return _back_to_run(seat, row)


@require_GET
@org_page
def signature_page(request: HttpRequest, seat: Seat, signature: str) -> HttpResponse:
    return _signature_page(request, seat, signature)


def _signature_page(
    request: HttpRequest, seat: Seat, signature: str, *, typed: str | None = None, error: str = ""
) -> HttpResponse:
    runs = LlmSession.objects.filter(org=seat.org, signature=signature, version=1)
    # When its runs failed, not when their summaries were stored (a backfill stores old ones now).
    stats = runs.aggregate(n=Count("id"), since=Min("failed_at"))
    if not stats["n"]:
        raise Http404("no failure with this signature")
    latest = list(
        runs.order_by("-failed_at", "-id").defer("context")[:100]
    )  # up to 16 KB a row, not shown here
    note = TeamNote.objects.filter(org=seat.org, signature=signature).first()
    context = {
        "seat": seat,
        "signature": signature,
        "seen": stats["n"],
        "since": stats["since"],
        "runs": latest,
        "example": latest[0],
        "note": note,
        "note_text": note.text if typed is None and note else typed or "",
        "note_error": error,
        "note_max": NOTE_MAX,
        "window": timedelta(days=settings.SIGNATURE_WINDOW_DAYS),
    }
    return render(request, "pages/signature.html", context, status=400 if error else 200)


NOTE_MAX = 4000


@require_POST
@org_page
def signature_note(request: HttpRequest, seat: Seat, signature: str) -> HttpResponse:
    if not LlmSession.objects.filter(org=seat.org, signature=signature).exists():
        raise Http404("no failure with this signature")
    # Browsers send a textarea's line breaks as CRLF but count each as one character against its
    # maxlength: counted as sent, a note the form allowed lost its last lines.
    if "note" not in request.POST:
        # Only the form's field sent empty removes a note: a POST without it (a script, another
        # form, a renamed field) is a mistake, not "remove", and must not delete the team's note.
        error = (
            "Not saved: the form sent no note field; nothing was changed (send it empty to remove the note)."
        )
        return _signature_page(request, seat, signature, error=error)
    text = one_newline(request.POST["note"])
    if len(text) > NOTE_MAX:
        error = f"Not saved: the note is {len(text)} characters long; at most {NOTE_MAX}."
        return _signature_page(request, seat, signature, typed=text, error=error)
    note = save_note(seat.org, signature, text, seat.user)
    messages.success(request, "Team note saved." if note else "Team note removed.")
    return redirect("pages:signature", seat.org.slug, signature)


def one_newline(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")
