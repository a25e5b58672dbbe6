"""Every time a page shows says its time zone, the run page says when the run failed, a brief
that is not ready says what that means and what to do, and an empty list says how failures get
there."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.urls import reverse

from failbrief.events.models import FailureEvent
from failbrief.pages.tests.conftest import Side, store_failure
from failbrief.summarize.models import LlmSession

SIG = "t" * 64
STAMP = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?![\d:])(.{0,4})")


def stamps(page: str) -> list[str]:
    """What follows each date-and-time the page shows (its time zone, when it says one)."""
    text = re.sub(r"<[^>]+>", "", page)
    return [m.group(1) for m in STAMP.finditer(text)]


def test_every_time_shown_says_utc(sides: tuple[Side, Side]):
    a, _ = sides
    row = store_failure(a.org, signature=SIG)
    store_failure(a.org, signature=SIG)
    admin = a.client("admin")
    admin.post(reverse("pages:regenerate", args=["org-a", row.pk]))  # a history
    pages = [
        reverse("pages:failures", args=["org-a"]),
        reverse("pages:run", args=["org-a", row.flow_run_id]),
        reverse("pages:signature", args=["org-a", SIG]),
    ]
    for url in pages:
        shown = stamps(admin.get(url).content.decode())
        assert shown, url
        assert all(after.startswith(" UTC") for after in shown), (url, shown)


def test_the_run_page_says_when_the_run_failed(sides: tuple[Side, Side]):
    a, _ = sides
    row = store_failure(a.org)
    assert row.event_id is not None
    FailureEvent.objects.filter(pk=row.event_id).update(
        state_timestamp=datetime(2024, 5, 1, 3, 4, tzinfo=UTC)
    )
    page = a.client().get(reverse("pages:run", args=["org-a", row.flow_run_id])).content.decode()
    assert "Failed at 2024-05-01 03:04 UTC" in re.sub(r"<[^>]+>", "", page)


def test_a_brief_not_ready_says_what_that_means_and_what_to_do(sides, settings):
    settings.STUCK_AFTER_SECONDS = 900
    a, _ = sides
    running = store_failure(a.org, status=LlmSession.Status.RUNNING)
    page = a.client().get(reverse("pages:run", args=["org-a", running.flow_run_id])).content.decode()
    assert "Summarizing since" in page
    assert "15 minutes" in page  # when it is given up on
    failed = store_failure(a.org, status=LlmSession.Status.FAILED, error_reason="Prefect refused the key")
    url = reverse("pages:run", args=["org-a", failed.flow_run_id])
    assert "ask an admin to regenerate" in a.client().get(url).content.decode()
    assert "Regenerate to try again" in a.client("admin").get(url).content.decode()


def test_the_evidence_summary_has_no_empty_brackets(sides: tuple[Side, Side]):
    a, _ = sides
    row = store_failure(
        a.org, context='ERROR psycopg.errors.UndefinedTable: relation "orders" does not exist'
    )
    page = a.client().get(reverse("pages:run", args=["org-a", row.flow_run_id])).content.decode()
    assert "()" not in page


def test_an_empty_list_says_how_failures_get_here(sides: tuple[Side, Side]):
    a, _ = sides
    page = a.client("admin").get(reverse("pages:failures", args=["org-a"])).content.decode()
    assert "failbrief setup-prefect" in page
    assert reverse("pages:settings", args=["org-a"]) in page.split("No failures yet", 1)[1]
    member = a.client().get(reverse("pages:failures", args=["org-a"])).content.decode()
    assert "No failures yet" in member


def test_each_briefs_buttons_say_which_brief_they_act_on(sides: tuple[Side, Side]):
    a, _ = sides
    root = store_failure(a.org)
    store_failure(
        a.org, flow_run_id=root.flow_run_id, position=1, is_cascade=True, failing_step="publish_report"
    )
    page = a.client("admin").get(reverse("pages:run", args=["org-a", root.flow_run_id])).content.decode()
    names = []
    for button in re.findall(r"<button[^>]*>.*?</button>", page, re.S):
        label = re.search(r'aria-label="([^"]+)"', button)
        names.append(label.group(1) if label else re.sub(r"<[^>]+>", "", button).strip())
    for action in ("Regenerate", "Send feedback"):
        named = [n for n in names if n.startswith(action)]  # the visible text first (label in name)
        assert len(named) == 2
        assert len(set(named)) == 2, named
        assert any("publish_report" in n for n in named)
