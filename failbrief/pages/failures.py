"""The failures list's query: newest failure first, one row per run's root failure, filtered,
keyset-paged.

Rows are ordered and date-filtered by `failed_at`, when the failure happened (not when its summary
was stored: a backfill stores last week's failures today). Every filter is an equality on an
indexed column (org, …, -failed_at, -id), a date range a range of the same index. The text search
is Django's icontains; on PostgreSQL a trigram index on the searched fields answers a rare word and
the list's index a common one (summarize.0004_pages_search_trigram). A regenerated row's newest
brief comes with the row, and "seen N×" is one more query for the page: the queries are the same
whether the page lists one row or fifty."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from typing import Any
from urllib.parse import quote

from django.db import connection
from django.db.models import Count, JSONField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from django.utils.http import RFC3986_SUBDELIMS
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from failbrief.orgs.models import Org
from failbrief.summarize.models import LlmSession

Status = LlmSession.Status
# "Older →": the last row's failure time (µs since the epoch) and id, "1714532645123456.4021".
CURSOR = re.compile(r"(-?[0-9]{1,18})\.([0-9]{1,18})")
# The text search: a case-insensitive substring of these (PostgreSQL's trigram index is on exactly
# them, summarize.0004_pages_search_trigram), or an exact flow run id.
SEARCHED = ("root_cause", "failing_step", "task_name", "flow_name", "deployment_name")
# The list reads these columns only: the JSON ones (evidence, response, timings) stay on disk.
LIST_COLUMNS = (
    "id",
    "flow_run_id",
    "task_name",
    "session_status",
    "flow_name",
    "deployment_name",
    "run_state",
    "failing_step",
    "root_cause",
    "category",
    "confidence",
    "signature",
    "failed_at",
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
    before: tuple[datetime, int] | None = None
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
        if found.since and found.until and found.since > found.until:
            found.errors.append(
                f"The “from” date ({found.since}) is after the “to” date ({found.until}): "
                "no day is in between."
            )
        found.before = _cursor(params.get("before", ""))
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
    if filters.since:
        rows = rows.filter(failed_at__gte=_midnight(filters.since))
    # The last day a date can name ends after every failure: no upper bound (its next midnight
    # is past what a datetime holds).
    if filters.until and filters.until < date.max:
        rows = rows.filter(failed_at__lt=_midnight(filters.until + timedelta(days=1)))
    if filters.q:
        words = Q()
        for name in SEARCHED:
            words |= Q(**{f"{name}__icontains": filters.q})
        rows = rows.filter(words | Q(flow_run_id=filters.q))
    if filters.before is not None:
        at, pk = filters.before
        # The first condition bounds the index range; the second orders rows of the same time.
        rows = rows.filter(failed_at__lte=at).filter(Q(failed_at__lt=at) | Q(pk__lt=pk))
    return rows.order_by("-failed_at", "-id")


def cursor_of(failed_at: datetime, pk: int) -> str:
    """The "Older →" cursor after the row failed at `failed_at` with id `pk`."""
    return f"{(failed_at - EPOCH) // timedelta(microseconds=1)}.{pk}"


def _cursor(raw: str) -> tuple[datetime, int] | None:
    """The cursor's time and id; None (the first page) for anything else, e.g. an older version's."""
    if not (found := CURSOR.fullmatch(raw)):
        return None
    try:
        return EPOCH + timedelta(microseconds=int(found[1])), int(found[2])
    except OverflowError:
        return None


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


Row = dict[str, Any]


@dataclass(frozen=True)
class Listed:
    """A row of the list as the page shows it."""

    run_url: str
    title: str  # the deployment, else the flow, else the flow run id
    flow_hint: str  # the flow under its deployment
    state: str
    step: str
    placeholder: str  # shown instead of the root cause while there is none
    cause: str
    category: str
    confidence: str
    seen: int
    seen_url: str  # the recurring failure's page, when seen more than once
    time_iso: str
    time_text: str

    @property
    def html(self) -> str:
        """The row's <tr>, written here rather than in failures.html: Django's template language
        spent about 100 µs a row on its dozen variables and tags (a fifth of the page's time at 50
        rows), an f-string 20 µs. Every value is escaped as the template would escape it."""
        e = escape
        hint = f'<div class="hint">{e(self.flow_hint)}</div>' if self.flow_hint else ""
        state = f' <span class="state">{e(self.state)}</span>' if self.state else ""
        cause = f"<em>{e(self.placeholder)}</em>" if self.placeholder else e(self.cause)
        seen = ""
        if self.seen_url:
            seen = (
                f' <a class="seen" href="{e(self.seen_url)}" title="the same failure, by signature">'
                f"seen {self.seen}×</a>"
            )
        flow = f'<a href="{e(self.run_url)}">{e(self.title)}</a>{hint}{state}'
        return (
            f'<tr>\n  <td data-label="Flow">{flow}</td>\n'
            f'  <td data-label="Step">{e(self.step)}</td>\n'
            f'  <td data-label="Root cause" class="cause">{cause}\n    {seen}</td>\n'
            f'  <td data-label="Category">{e(self.category)}</td>\n'
            f'  <td data-label="Confidence">{e(self.confidence)}</td>\n'
            f'  <td data-label="Failed at">'
            f'<time datetime="{e(self.time_iso)}">{e(self.time_text)}</time></td>\n'
            "</tr>\n"
        )


@dataclass
class Page:
    rows: list[Listed]
    next_before: str | None

    @property
    def rows_html(self) -> SafeString:
        return mark_safe("".join(row.html for row in self.rows))  # noqa: S308  (escaped in Listed.html)


def failures_page(org: Org, filters: Filters, size: int) -> Page:
    # Plain values, not model instances: building 51 models was a tenth of the page's time.
    listed_rows = failure_rows(org, filters).values(*LIST_COLUMNS, newer=_newest_completed_version())
    found: list[Row] = list(listed_rows[: size + 1])
    more = len(found) > size
    rows = found[:size]
    for row in rows:
        if newer := row.pop("newer"):
            row.update(newer)
    counts = seen_counts(org, [r["signature"] for r in rows])
    links = _Links(org)
    zone = timezone.get_current_timezone_name()  # said with every time: "UTC"
    listed = [_listed(row, counts.get(row["signature"], 1), links, zone) for row in rows]
    last = rows[-1] if more and rows else None
    return Page(listed, cursor_of(last["failed_at"], last["id"]) if last else None)


class _Links:
    """The run and recurring failure URLs of one org, reversed once per page rather than per row;
    each value is quoted as reverse() quotes it."""

    SLOT = "fb-slot-7d1e"

    def __init__(self, org: Org) -> None:
        self._run = reverse("pages:run", args=[org.slug, self.SLOT]).split(self.SLOT)
        self._signature = reverse("pages:signature", args=[org.slug, self.SLOT]).split(self.SLOT)

    def run(self, flow_run_id: str) -> str:
        return _quoted(flow_run_id).join(self._run)

    def signature(self, signature: str) -> str:
        return _quoted(signature).join(self._signature)


def _quoted(value: str) -> str:
    return quote(value, safe=RFC3986_SUBDELIMS + "/~:@")


PLACEHOLDERS = {Status.RUNNING: "summarizing…", Status.FAILED: "no summary"}


def _listed(row: Row, seen: int, links: _Links, zone: str) -> Listed:
    when = timezone.localtime(row["failed_at"]).isoformat()  # as the template's date:'c'
    deployment, flow = row["deployment_name"], row["flow_name"]
    return Listed(
        run_url=links.run(row["flow_run_id"]),
        title=deployment or flow or row["flow_run_id"],
        flow_hint=flow if deployment else "",
        state=row["run_state"],
        step=row["failing_step"] or row["task_name"] or "—",
        placeholder=PLACEHOLDERS.get(row["session_status"], ""),
        cause=_shortened(row["root_cause"] or "Insufficient evidence"),
        category=row["category"] or "—",
        confidence=row["confidence"] or "—",
        seen=seen,
        seen_url=links.signature(row["signature"]) if seen > 1 else "",
        time_iso=when,
        time_text=f"{when[:10]} {when[11:16]} {zone}",  # YYYY-MM-DD HH:MM UTC
    )


CAUSE_CHARS = 160


def _shortened(text: str) -> str:
    """The root cause on one line, as the template's truncatechars:160 cut it; most are shorter,
    and Truncator takes 25 µs to say so."""
    text = unicodedata.normalize("NFC", text)
    return text if len(text) <= CAUSE_CHARS else Truncator(text).chars(CAUSE_CHARS)


NEWER = ("root_cause", "category", "confidence", "failing_step", "session_status")


def _newest_completed_version() -> RawSQL:
    """A regenerated unit is listed with its newest completed version's brief: those fields of it
    (a JSON object, or null) with each listed row, looked up in the unique index of the unit's
    versions. A query of its own costs a round trip more; the ORM's Subquery took 3 ms to compile,
    this SQL 0.1 ms."""
    build = "JSONB_BUILD_OBJECT" if connection.vendor == "postgresql" else "JSON_OBJECT"
    fields = ", ".join(f"'{name}', v.{name}" for name in NEWER)
    unit = " AND ".join(f"v.{c} = summarize_llmsession.{c}" for c in UNIT)
    return RawSQL(  # noqa: S611  (no outside value in the SQL: the status is a parameter)
        f"SELECT {build}({fields}) FROM summarize_llmsession v WHERE {unit} "  # noqa: S608
        "AND v.version > 1 AND v.session_status = %s ORDER BY v.version DESC LIMIT 1",
        [Status.COMPLETED],
        output_field=JSONField(),
    )


UNIT = ("org_id", "flow_run_id", "task_id", "session_type")  # the unique one_summary_per_unit, less version


def seen_counts(org: Org, signatures: list[str]) -> dict[str, int]:
    """How many failed units of the org carry each signature (first versions, so regenerating does
    not count as seeing the failure again)."""
    wanted = sorted({s for s in signatures if s})
    if not wanted:
        return {}
    if connection.vendor == "postgresql":
        # One count(*) per signature in the index summary_seen, whose posting lists hold each
        # signature once: nothing is read or hashed per row counted, 4× less work than GROUP BY
        # at the page's 50 signatures of 200 runs each.
        with connection.cursor() as cursor:
            cursor.execute(SEEN_SQL, [org.pk, wanted])
            return {signature: n for signature, n in cursor.fetchall() if n}
    found = (
        LlmSession.objects.filter(org=org, signature__in=wanted, version=1)
        .values("signature")
        .annotate(n=Count("*"))
    )
    return {f["signature"]: f["n"] for f in found}


SEEN_SQL = """
SELECT s, (
    SELECT count(*) FROM summarize_llmsession WHERE org_id = %s AND version = 1 AND signature = s
)
FROM unnest(%s::text[]) AS s
"""
