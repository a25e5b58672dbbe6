"""The failures list (home) and the run page, as a person in each of two orgs sees them."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from failbrief.pages.tests.conftest import store_failure
from failbrief.summarize.models import LlmSession


def listed(client, slug: str = "org-a", **params: str) -> str:
    answer = client.get(reverse("pages:failures", args=[slug]), params)
    assert answer.status_code == 200
    return str(answer.content.decode())


def test_each_org_lists_its_own_failures_newest_first_with_what_a_person_needs(sides):
    a, b = sides
    store_failure(a.org, deployment="nightly-orders", root_cause="older cause")
    store_failure(
        a.org, deployment="hourly-sync", flow="sync_flow", root_cause="newer cause", category="network"
    )
    store_failure(b.org, deployment="b-only", root_cause="b's cause")
    page = listed(a.client())
    assert page.index("newer cause") < page.index("older cause")
    for shown in ("hourly-sync", "sync_flow", "load_orders", "network", "high"):
        assert shown in page
    assert "b-only" not in page
    assert "b&#x27;s cause" not in listed(a.client("admin"))
    page_b = listed(b.client(), "org-b")
    assert "b-only" in page_b
    assert "newer cause" not in page_b


def test_a_recurring_failure_says_how_often_it_was_seen(sides):
    a, b = sides
    for _ in range(3):
        store_failure(a.org, signature="r" * 64)
    store_failure(b.org, signature="r" * 64)  # the same signature in another org does not count
    store_failure(a.org, signature="", root_cause="one-off")
    page = listed(a.client())
    assert page.count("seen 3×") == 3
    assert "seen 4×" not in page


def test_filters_narrow_the_list(sides):
    a, _ = sides
    # Failed a month ago (and stored a month ago).
    month_ago = timezone.now() - timedelta(days=30)
    old = store_failure(a.org, deployment="dep-old", root_cause="cause old", unit_ended_at=month_ago)
    LlmSession.objects.filter(pk=old.pk).update(created_at=month_ago)
    store_failure(
        a.org,
        deployment="dep-one",
        flow="flow-one",
        category="sql_error",
        state="Failed",
        root_cause="cause one",
    )
    store_failure(
        a.org,
        deployment="dep-two",
        flow="flow-two",
        category="network",
        state="Crashed",
        root_cause="cause two",
    )
    client = a.client()

    def causes(**params: str) -> set[str]:
        return set(re.findall(r"cause (?:one|two|old)", listed(client, **params)))

    assert causes() == {"cause one", "cause two", "cause old"}
    assert causes(deployment="dep-one") == {"cause one"}
    assert causes(flow="flow-two") == {"cause two"}
    assert causes(category="network") == {"cause two"}
    assert causes(state="Crashed") == {"cause two"}
    today = timezone.now().date()
    assert causes(since=(today - timedelta(days=1)).isoformat()) == {"cause one", "cause two"}
    assert causes(until=(today - timedelta(days=2)).isoformat()) == {"cause old"}
    assert causes(q="TWO") == {"cause two"}
    assert causes(q="cause", category="sql_error") == {"cause one", "cause old"}
    bad = client.get(reverse("pages:failures", args=["org-a"]), {"since": "yesterday"})
    assert bad.status_code == 400
    assert "YYYY-MM-DD" in bad.content.decode()


def test_the_last_day_a_date_can_name_is_a_filter_not_a_server_error(sides):
    a, _ = sides
    store_failure(a.org, root_cause="cause kept")
    client = a.client()
    for params in ({"until": "9999-12-31"}, {"since": "0001-01-01", "until": "9999-12-31"}):
        assert "cause kept" in listed(client, **params)
    assert "cause kept" not in listed(client, since="9999-12-31")


def test_the_list_is_paged_by_older_links(sides, settings):
    settings.PAGE_SIZE = 5
    a, _ = sides
    for n in range(12):
        store_failure(a.org, root_cause=f"cause number {n:02d}")
    client = a.client()
    seen: list[str] = []
    url = reverse("pages:failures", args=["org-a"])
    for _ in range(3):
        page = client.get(url).content.decode()
        seen += re.findall(r"cause number (\d\d)", page)
        more = re.search(r'href="(\?[^"]*before=[\d.]+[^"]*)" rel="next"', page)
        if not more:
            break
        url = reverse("pages:failures", args=["org-a"]) + more.group(1).replace("&amp;", "&")
    assert seen == [f"{n:02d}" for n in range(11, -1, -1)]


def test_the_run_page_shows_every_brief_with_cascades_under_their_root(sides):
    a, _ = sides
    root = store_failure(
        a.org,
        provider="openai",
        model="gpt-4o-mini",
        summarizer="openai",
        tokens_in=1234,
        tokens_out=56,
        log_lines=900,
    )
    store_failure(
        a.org,
        flow_run_id=root.flow_run_id,
        position=1,
        is_cascade=True,
        cascade_reason="skipped because load_orders failed",
        failing_step="publish_report",
        task_name="publish_report",
        root_cause="upstream task failed",
    )
    answer = a.client().get(reverse("pages:run", args=["org-a", root.flow_run_id]))
    assert answer.status_code == 200
    page = answer.content.decode()
    for shown in (
        "relation &quot;orders&quot; does not exist",
        "The load step queried a table that is not there.",
        "Run the migration that creates orders.",
        "openai/gpt-4o-mini",
        "1234 tokens in, 56 out",
        "summarized in",
        "condensed from 900 log lines",
        "skipped because load_orders failed",
        f"/runs/flow-run/{root.flow_run_id}",
    ):
        assert shown in page, shown
    assert "openai · openai/gpt-4o-mini" not in page  # the LLM that wrote it, named once
    # The evidence is inside a collapsible <details>, and the cascade inside its root's article.
    details = page[page.index('<details class="evidence">') :]
    assert details.index("<mark>") < details.index("</details>")
    root_article = page[page.index(f'id="summary-{root.pk}"') :]
    assert "Cascade: publish_report" in root_article
    # Another org's run id, or none at all, is 404.
    assert a.client().get(reverse("pages:run", args=["org-a", "no-such-run"])).status_code == 404


CONTEXT = "\n".join(
    [
        "Flow run: crimson-fox",
        "Failed unit: load_orders (Failed)",
        "INFO loading <script>alert('x')</script> into the staging schema",
        'ERROR psycopg.errors.UndefinedTable: relation "orders" does not exist',
        "INFO rolled back",
    ]
)


def test_the_run_page_marks_the_evidence_inside_the_condensed_context_as_escaped_text(sides):
    a, b = sides
    row = store_failure(a.org, context=CONTEXT, context_tokens=61, log_lines=900)
    page = a.client().get(reverse("pages:run", args=["org-a", row.flow_run_id])).content.decode()
    start = page.index('<details class="evidence context">')
    details = page[start : page.index("</details>", start)]
    assert "Evidence: 1 line marked ▶ in the condensed context (61 tokens, condensed from 900 log lines)" in (
        details
    )
    lines = details[details.index("<pre") :].split("\n")
    evidence = [line for line in lines if "UndefinedTable" in line]
    assert evidence == [
        '<span class="gutter" aria-hidden="true">▶ </span>'
        '<mark><span class="visually-hidden">Evidence: </span>'
        "ERROR psycopg.errors.UndefinedTable: relation &quot;orders&quot; does not exist</mark>"
    ]
    # The rest of the context is there, unmarked, and a log line's HTML is shown as text.
    assert "<mark>" not in "".join(line for line in lines if "UndefinedTable" not in line)
    assert "INFO loading &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; into the staging schema" in details
    assert "<script>alert" not in page
    assert "INFO rolled back" in details
    # Another org's member asking for the run: 404, and nothing of the context.
    answer = b.client().get(reverse("pages:run", args=["org-b", row.flow_run_id]))
    assert answer.status_code == 404
    assert "staging schema" not in answer.content.decode()


def test_quotes_of_part_of_a_line_or_of_two_lines_are_marked_where_they_are(sides):
    a, _ = sides
    context = "\n".join(
        [
            "12:00:01 dbt run: 1 of 3 START sql table model analytics.orders",
            "12:00:04 Database Error in model orders (models/orders.sql)",
            '12:00:04   column "amount_usd" does not exist',
            "12:00:05 Done. PASS=2 ERROR=1",
        ]
    )
    quotes = [
        'Database Error in model orders (models/orders.sql)\n  column "amount_usd" does not exist',
        "PASS=2 ERROR=1",
        "a line from a part of the log that was not kept",
    ]
    row = store_failure(a.org, context=context, evidence=quotes)
    page = a.client().get(reverse("pages:run", args=["org-a", row.flow_run_id])).content.decode()
    start = page.index('<details class="evidence context">')
    details = page[start : page.index("</details>", start)]
    assert "Evidence: 3 lines marked ▶" in details
    context_part = details[details.index('<pre class="context">') :]
    marked = re.findall(r'<mark><span class="visually-hidden">Evidence: </span>(.*?)</mark>', context_part)
    assert marked == [
        "Database Error in model orders (models/orders.sql)",
        "column &quot;amount_usd&quot; does not exist",
        "PASS=2 ERROR=1",
    ]
    assert "12:00:05 Done. <mark>" in context_part  # only the quoted part of the line
    apart = details[: details.index('<pre class="context">')]
    assert "Quoted in the brief but not found in the context below" in apart
    assert "a line from a part of the log that was not kept</mark>" in apart


def test_a_summary_stored_before_contexts_were_kept_shows_its_evidence_and_says_so(sides):
    a, _ = sides
    row = store_failure(a.org, log_lines=900)
    page = a.client().get(reverse("pages:run", args=["org-a", row.flow_run_id])).content.decode()
    start = page.index('<details class="evidence">')
    details = page[start : page.index("</details>", start)]
    assert (
        "<mark>ERROR psycopg.errors.UndefinedTable: relation &quot;orders&quot; does not exist</mark>"
        in details
    )
    assert "The condensed context was not kept for summaries stored before this version" in details


def test_an_admin_regenerates_and_the_history_keeps_every_version(sides):
    a, _ = sides
    row = store_failure(a.org, root_cause="first answer")
    admin = a.client("admin")
    answer = admin.post(reverse("pages:regenerate", args=["org-a", row.pk]))
    assert answer.status_code == 302
    fresh = LlmSession.objects.get(org=a.org, task_id=row.task_id, version=2)
    assert fresh.session_status == LlmSession.Status.RUNNING
    assert fresh.orguser == "admin@org-a.test"
    assert fresh.deployment_name == "nightly"  # the new version is listed like the first
    LlmSession.objects.filter(pk=fresh.pk).update(
        session_status=LlmSession.Status.COMPLETED, root_cause="second answer", summarizer="offline"
    )
    page = admin.get(reverse("pages:run", args=["org-a", row.flow_run_id]), follow=True).content.decode()
    assert "History (2 versions)" in page
    assert "second answer" in page
    assert "first answer" in page  # in the history
    listing = listed(admin)
    assert "second answer" in listing
    assert listing.count("nightly") == 1  # one row per run, not per version


def test_regenerate_is_rate_limited_like_the_api(sides, settings):
    settings.RATE_REGENERATE_PER_SUMMARY = "1/h"
    a, _ = sides
    row = store_failure(a.org)
    admin = a.client("admin")
    admin.post(reverse("pages:regenerate", args=["org-a", row.pk]))
    page = admin.post(reverse("pages:regenerate", args=["org-a", row.pk]), follow=True).content.decode()
    assert "Not regenerated: too many regenerations of this summary" in page
    assert LlmSession.objects.filter(task_id=row.task_id).count() == 2


def test_pages_work_at_phone_width_and_in_dark_mode_from_one_stylesheet(sides):
    a, _ = sides
    page = listed(a.client())
    assert 'name="viewport" content="width=device-width' in page
    assert "https://" not in page.split("<body>")[0]  # nothing from a CDN
    css = a.client().get(reverse("pages:stylesheet"))
    assert css.status_code == 200
    assert css["Content-Type"].startswith("text/css")
    text = css.content.decode()
    assert "prefers-color-scheme: dark" in text
    assert "max-width: 40rem" in text
    assert ":focus-visible" in text
    # Every filter input has a label.
    for field_id in re.findall(r'<(?:input|select) id="([^"]+)"', page):
        assert f'for="{field_id}"' in page


def test_with_a_public_url_notifications_link_to_this_run_page():
    script = (
        "import django; django.setup(); from failbrief.notify.compose import run_url; "
        "print(run_url('acme', 'abc-123'))"
    )
    env = os.environ | {
        "FAILBRIEF_PUBLIC_URL": "https://fb.example.org/",
        "DJANGO_SETTINGS_MODULE": "failbrief.settings",
    }
    env.pop("FAILBRIEF_RUN_URL_TEMPLATE", None)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    link = out.stdout.strip()
    assert link == "https://fb.example.org" + reverse("pages:run", args=["acme", "abc-123"])
    # An explicit template still wins.
    env["FAILBRIEF_RUN_URL_TEMPLATE"] = "https://dalgo.example.org/{flow_run_id}"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "https://dalgo.example.org/abc-123"


def test_a_brief_the_rules_wrote_after_the_llm_failed_says_both(sides):
    a, _ = sides
    row = store_failure(
        a.org, summarizer="offline", provider="openai", model="gpt-4o-mini", llm_error="RateLimitError: 429"
    )
    page = a.client().get(reverse("pages:run", args=["org-a", row.flow_run_id])).content.decode()
    assert "offline · openai/gpt-4o-mini" in page
    assert "LLM fallback: RateLimitError: 429" in page
