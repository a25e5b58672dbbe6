"""The failures list's query: newest first, one row per run's root failure, filtered, keyset-paged.

Every filter is an equality on an indexed column (org, …, -id) or a range on the id; the text
search is bounded by the same org and page. "seen N×" and newer versions are one query each per
page, not per row."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import Count, Q, QuerySet

from failbrief.orgs.models import Org
from failbrief.summarize.models import LlmSession

Status = LlmSession.Status
CURSOR = re.compile(r"[0-9]{1,18}")
# The list reads these columns only: the JSON ones (evidence, response, timings) stay on disk.
LIST_COLUMNS = (
    "id",
    "org_id",
    "flow_run_id",
    "task_id",
    "task_name",
    "session_type",
    "session_status",
    "flow_name",
    "deployment_name",
    "run_state",
    "failing_step",
    "root_cause",
    "category",
    "confidence",
    "signature",
    "created_at",
    "version",
)


@dataclass
class Filters:
    deployment: str = ""
    flow: str = ""
    category: str = ""
    state: str = ""
    since: date | None = None
    until: date | None = None
    q: str = ""
    before: int | None = None
    errors: list[str] = field(default_factory=list)

    @staticmethod
    def of(params: Mapping[str, str]) -> Filters:
        found = Filters(
            deployment=params.get("deployment", "").strip()[:500],
            flow=params.get("flow", "").strip()[:500],
            category=params.get("category", "").strip()[:50],
            state=params.get("state", "").strip()[:100],
            q=params.get("q", "").strip()[:200],
        )
        found.since = found._date(params.get("since", ""), "from")
        found.until = found._date(params.get("until", ""), "to")
        before = params.get("before", "")
        if CURSOR.fullmatch(before):
            found.before = int(before)
        return found

    def _date(self, raw: str, label: str) -> date | None:
        raw = raw.strip()
        if not raw:
            return None
        try:
            return date.fromisoformat(raw)
        except ValueError:
            self.errors.append(f"The “{label}” date must be YYYY-MM-DD, not {raw[:20]!r}.")
            return None

    def query(self) -> dict[str, str]:
        """The filters as query parameters (for links that keep them)."""
        values = {
            "deployment": self.deployment,
            "flow": self.flow,
            "category": self.category,
            "state": self.state,
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
            "q": self.q,
        }
        return {k: v for k, v in values.items() if v}

    @property
    def active(self) -> bool:
        return bool(self.query())


def failure_rows(org: Org, filters: Filters) -> QuerySet[LlmSession]:
    rows = LlmSession.objects.filter(org=org, position=0, version=1)
    if filters.deployment:
        rows = rows.filter(deployment_name=filters.deployment)
    if filters.flow:
        rows = rows.filter(flow_name=filters.flow)
    if filters.category:
        rows = rows.filter(category=filters.category)
    if filters.state:
        rows = rows.filter(run_state=filters.state)
    # A date is also a bound on the id (ids grow with the creation time), so the list's index on
    # (org, …, -id) is read from the range's newest row instead of from the newest row of all.
    if filters.since:
        start = _midnight(filters.since)
        rows = rows.filter(created_at__gte=start)
        if (first := _first_id_from(start)) is not None:
            rows = rows.filter(pk__gte=first)
    if filters.until:
        end = _midnight(filters.until + timedelta(days=1))
        rows = rows.filter(created_at__lt=end)
        if (after := _first_id_from(end)) is not None:
            rows = rows.filter(pk__lt=after)
    if filters.q:
        q = filters.q
        rows = rows.filter(
            Q(root_cause__icontains=q)
            | Q(failing_step__icontains=q)
            | Q(task_name__icontains=q)
            | Q(flow_name__icontains=q)
            | Q(deployment_name__icontains=q)
            | Q(flow_run_id=q)
        )
    if filters.before is not None:
        rows = rows.filter(pk__lt=filters.before)
    return rows.order_by("-id").only(*LIST_COLUMNS)


def _first_id_from(moment: datetime) -> int | None:
    """The id of the first summary created at or after `moment` (index summary_created), any org."""
    found = LlmSession.objects.filter(created_at__gte=moment).order_by("created_at", "id")
    return found.values_list("id", flat=True).first()


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


@dataclass
class Page:
    rows: list[LlmSession]
    next_before: int | None


def failures_page(org: Org, filters: Filters, size: int) -> Page:
    found = list(failure_rows(org, filters)[: size + 1])
    more = len(found) > size
    rows = found[:size]
    _show_newest_versions(org, rows)
    counts = seen_counts(org, [r.signature for r in rows])
    for row in rows:
        row.seen = counts.get(row.signature, 1)  # type: ignore[attr-defined]
    return Page(rows, rows[-1].pk if more and rows else None)


def _show_newest_versions(org: Org, rows: list[LlmSession]) -> None:
    """A regenerated unit is listed with its newest completed version's brief."""
    if not rows:
        return
    newer = (
        LlmSession.objects.filter(
            org=org,
            flow_run_id__in={r.flow_run_id for r in rows},
            position=0,
            version__gt=1,
            session_status=Status.COMPLETED,
        )
        .order_by("version")
        .only(*LIST_COLUMNS)
    )
    latest = {(n.flow_run_id, n.task_id, n.session_type): n for n in newer}
    for row in rows:
        if (n := latest.get((row.flow_run_id, row.task_id, row.session_type))) is not None:
            row.root_cause, row.category, row.confidence = n.root_cause, n.category, n.confidence
            row.failing_step, row.session_status = n.failing_step, n.session_status


def seen_counts(org: Org, signatures: list[str]) -> dict[str, int]:
    """How many failed units of the org carry each signature (first versions, so regenerating does
    not count as seeing the failure again)."""
    wanted = {s for s in signatures if s}
    if not wanted:
        return {}
    found = (
        LlmSession.objects.filter(org=org, signature__in=wanted, version=1)
        .values("signature")
        .annotate(n=Count("id"))
    )
    return {f["signature"]: f["n"] for f in found}
