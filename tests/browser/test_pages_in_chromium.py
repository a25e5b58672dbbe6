"""The pages in a real headless browser: Debian's chromium driven by Playwright (no browser
download), against a live failbrief on the test database.

A person signs in, opens the failures list, filters it, opens a run, expands the condensed context
with its evidence marked, gives feedback, writes a team note and sees it on the next failure of the
same signature, regenerates; the whole page is usable by keyboard. Screenshots (light and dark,
desktop and phone width) go to a temporary directory, or to docs/screenshots/ with
FAILBRIEF_WRITE_SCREENSHOTS=1.

Marked `browser`: its own tier in `make test`, skipped when chromium is missing unless
FAILBRIEF_REQUIRE_BROWSER=1 (CI), where it fails instead."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from failbrief.pages.models import Feedback, TeamNote
from failbrief.pages.tests.conftest import PASSWORD, person, store_failure
from failbrief.summarize.models import LlmSession

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("FAILBRIEF_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIG = "e" * 64
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("FAILBRIEF_REQUIRE_BROWSER") == "1":
            pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
        pytest.skip(f"{CHROMIUM} is missing (apt-get install -y chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    # plain synchronous calls between browser steps.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def shots(tmp_path: Path) -> Path:
    if os.environ.get("FAILBRIEF_WRITE_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        return SCREENSHOTS
    return tmp_path


@pytest.fixture
def failures(transactional_db: None) -> dict[str, Any]:
    from failbrief.orgs.manage import add_org

    org = add_org("acme", name="Acme Data")
    admin = person("lead@acme.test", org, "admin")
    older = store_failure(
        org,
        deployment="nightly-orders",
        flow="orders_etl",
        signature=SIG,
        summarizer="openai",
        provider="openai",
        model="gpt-4o-mini",
        tokens_in=2100,
        tokens_out=180,
        log_lines=1200,
        context_tokens=48,
        context="\n".join(
            [
                "Flow run: crimson-fox",
                "Failed unit: load_orders (Failed)",
                "INFO Loading 1204 rows into analytics.orders",
                'ERROR psycopg.errors.UndefinedTable: relation "orders" does not exist',
                "INFO Rolled back the transaction",
            ]
        ),
    )
    store_failure(
        org,
        flow_run_id=older.flow_run_id,
        position=1,
        is_cascade=True,
        cascade_reason="never ran: load_orders failed",
        failing_step="publish_dashboard",
        task_name="publish_dashboard",
        # What the pipeline writes for a cascade (the screenshots in docs/ show this row).
        summarizer="cascade",
        root_cause="Not a failure of its own: never ran: load_orders failed (see the summary of load_orders)",
        category="sql_error",
        evidence=[],
        suggested_fix="Fix the upstream failure; this task runs again with it.",
        explanation="This task did not run to completion because a task it depends on failed.",
    )
    store_failure(
        org,
        deployment="hourly-sync",
        flow="crm_sync",
        category="auth_credentials",
        root_cause="401 Unauthorized: the CRM API token was revoked",
        state="Crashed",
    )
    return {"org": org, "admin": admin, "run": older}


def test_a_person_reads_judges_and_annotates_failures_in_a_real_browser(
    browser, live_server, failures, shots
):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    base = live_server.url

    # Anonymous → sign-in; sign in by keyboard.
    page.goto(f"{base}/o/acme/")
    assert page.url.startswith(f"{base}/signin/")
    page.get_by_label("Email").fill("lead@acme.test")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/o/acme/")
    assert page.get_by_role("heading", name="Failures").is_visible()
    rows = page.locator("table.failures tbody tr")
    assert rows.count() == 2
    assert "hourly-sync" in rows.nth(0).inner_text()  # newest first
    page.screenshot(path=str(shots / "failures-light-desktop.png"), full_page=True)

    # Filter by category, then clear.
    page.get_by_label("Category").select_option("auth_credentials")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**category=auth_credentials**")
    assert rows.count() == 1
    assert "CRM API token was revoked" in rows.nth(0).inner_text()
    page.get_by_role("link", name="Clear").click()
    assert rows.count() == 2

    # Open the run; the condensed context, evidence marked in it, is collapsed until asked for.
    page.get_by_role("link", name="nightly-orders").click()
    page.wait_for_url(f"**/runs/{failures['run'].flow_run_id}/")
    evidence = page.locator("details.evidence").first
    assert not evidence.locator("mark").first.is_visible()
    evidence.get_by_text("Evidence: 1 line marked ▶ in the condensed context").click()
    mark = evidence.locator("mark").first
    assert mark.is_visible()
    # Marked not by colour alone: a ▶ beside the line, and "Evidence:" for a screen reader.
    quoted = 'ERROR psycopg.errors.UndefinedTable: relation "orders" does not exist'
    assert mark.text_content() == f"Evidence: {quoted}"
    assert evidence.locator(".gutter", has_text="▶").first.is_visible()
    assert evidence.get_by_text("INFO Rolled back the transaction").is_visible()
    assert "Cascade: publish_dashboard" in page.locator(f"#summary-{failures['run'].pk}").inner_text()
    assert (
        page.get_by_role("link", name="Open in Prefect ↗")
        .get_attribute("href")
        .endswith(f"/runs/flow-run/{failures['run'].flow_run_id}")
    )
    page.screenshot(path=str(shots / "run-light-desktop.png"), full_page=True)

    # Feedback: 👎, the right category and a comment.
    root = page.locator(f"#summary-{failures['run'].pk}")
    form = root.locator("form.feedback").first
    form.get_by_label("👎 Wrong").check()
    form.get_by_label("The category is actually").select_option("schema_mismatch")
    form.get_by_label("Comment").fill("the column was renamed upstream")
    form.get_by_role("button", name="Send feedback").click()
    page.wait_for_selector("text=Thanks: your feedback is saved.")
    saved = Feedback.objects.get()
    assert (saved.helpful, saved.category_correction) == (False, "schema_mismatch")

    # A team note on the recurring failure; the next failure of the same signature carries it.
    page.goto(f"{base}/o/acme/recurring/{SIG}/")
    page.get_by_label("Write the note").fill("Rerun the orders migration, then the flow")
    page.get_by_role("button", name="Save note").click()
    page.wait_for_selector("text=Team note saved.")
    assert TeamNote.objects.get().text == "Rerun the orders migration, then the flow"
    later = store_failure(failures["org"], deployment="nightly-orders", signature=SIG)
    page.goto(f"{base}/o/acme/runs/{later.flow_run_id}/")
    note = page.locator("p.note").first
    assert note.inner_text().startswith("Last time: Rerun the orders migration, then the flow — Lead, ")
    assert page.get_by_role("link", name="seen 2×").is_visible()

    # Regenerate (an admin): a new running version.
    page.get_by_role("button", name="Regenerate").first.click()
    page.wait_for_selector("text=Regenerating: version 2")
    assert LlmSession.objects.filter(flow_run_id=later.flow_run_id, version=2).exists()

    # Keyboard: the skip link is the first stop and leads to the content.
    page.goto(f"{base}/o/acme/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"

    # Dark mode follows the system; the phone width keeps every row readable.
    dark = browser.new_context(viewport=DESKTOP, color_scheme="dark")
    dark.add_cookies(context.cookies())
    dark_page = dark.new_page()
    dark_page.goto(f"{base}/o/acme/")
    background = dark_page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)"
    dark_page.screenshot(path=str(shots / "failures-dark-desktop.png"), full_page=True)
    dark_page.goto(f"{base}/o/acme/runs/{failures['run'].flow_run_id}/")
    dark_page.screenshot(path=str(shots / "run-dark-desktop.png"), full_page=True)
    for scheme in ("light", "dark"):
        phone = browser.new_context(viewport=PHONE, color_scheme=scheme, is_mobile=True)
        phone.add_cookies(context.cookies())
        small = phone.new_page()
        small.goto(f"{base}/o/acme/")
        width = small.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], "the list must not scroll sideways at phone width"
        small.screenshot(path=str(shots / f"failures-{scheme}-phone.png"), full_page=True)
        small.goto(f"{base}/o/acme/runs/{failures['run'].flow_run_id}/")
        assert small.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        small.screenshot(path=str(shots / f"run-{scheme}-phone.png"), full_page=True)
        phone.close()
    dark.close()
    context.close()
