"""What a Grafana panel shows after real webhooks go through the service (webhook, Celery worker,
fake Prefect, fake LLM): the counters move by what happened, the database series match the rows."""

from __future__ import annotations

import httpx
import pytest
from django.conf import settings

from failbrief.metrics.tests.reading import Samples, samples, total, value
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import flow_run_id, robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]


def scrape(client) -> Samples:
    answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert answer.status_code == 200, answer.content
    return samples(answer.content.decode())


def done_scrape(client) -> Samples | None:
    scraped = scrape(client)
    return scraped if value(scraped, "failbrief_events", status="done", source="webhook") == 1 else None


def summaries_of(base: str, token: str, run_id: str, count: int) -> list[dict[str, object]] | None:
    answer = httpx.get(
        f"{base}/api/v1/flow-runs/{run_id}/summaries", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    found: list[dict[str, object]] = answer.json()["summaries"] if answer.status_code == 200 else []
    done = [s for s in found if s["status"] == "completed"]
    return found if len(done) == count == len(found) else None


def test_a_failure_shows_up_as_an_accepted_webhook_a_done_event_and_two_stored_summaries(
    live_server, default_org, client
):
    _, token = default_org
    before = scrape(client)

    assert post_webhook(live_server.url, robust_body("b")).status_code == 202
    wait_for(lambda: summaries_of(live_server.url, token, flow_run_id("b"), 2), timeout=20)
    wait_for(lambda: value(scrape(client), "failbrief_events", status="done", source="webhook"), timeout=5)
    after = scrape(client)

    accepted = "failbrief_webhooks_received_total"
    assert value(after, accepted, result="accepted") == value(before, accepted, result="accepted") + 1
    stored = "failbrief_webhook_to_summary_seconds_count"
    assert value(after, stored, summarizer="offline") == value(before, stored, summarizer="offline") + 2
    assert value(after, "failbrief_events", status="done", source="webhook") == 1
    assert total(after, "failbrief_summaries", status="completed", summarizer="offline", provider="none") == 2
    assert value(after, "failbrief_oldest_pending_event_age_seconds") == 0
    assert value(after, "failbrief_database_up") == 1
    assert value(after, "failbrief_broker_up") == 1
    assert ("failbrief_queue_depth", frozenset({("queue", "celery")})) in after


def test_each_refused_or_repeated_webhook_is_counted_under_its_own_result(live_server, default_org, client):
    webhooks = "failbrief_webhooks_received_total"
    before = scrape(client)

    assert post_webhook(live_server.url, robust_body("b")).status_code == 202
    assert post_webhook(live_server.url, robust_body("b")).json()["duplicate"] is True
    assert post_webhook(live_server.url, robust_body("b"), key="wrong").status_code == 401
    assert post_webhook(live_server.url, robust_body("b"), key=None).status_code == 401
    assert post_webhook(live_server.url, "not json").status_code == 400
    assert post_webhook(live_server.url, "{}", **{"Content-Type": "text/plain"}).status_code == 415
    assert post_webhook(live_server.url, "x" * (settings.WEBHOOK_MAX_BYTES + 1)).status_code == 413
    after = wait_for(lambda: done_scrape(client), timeout=20)  # the worker is done with the one event

    moved = {
        result: value(after, webhooks, result=result) - value(before, webhooks, result=result)
        for result in (
            "accepted",
            "duplicate",
            "unauthorized",
            "bad_request",
            "unsupported_media_type",
            "too_large",
        )
    }
    assert moved == {
        "accepted": 1,
        "duplicate": 1,
        "unauthorized": 2,
        "bad_request": 1,
        "unsupported_media_type": 1,
        "too_large": 1,
    }


@pytest.mark.usefixtures("llm_settings")
def test_an_llm_summary_adds_its_latency_and_tokens_under_the_provider_and_model(
    live_server, default_org, client
):
    from failbrief.summarize.models import LlmSession

    _, token = default_org
    optin = httpx.post(
        f"{live_server.url}/api/v1/org/llm-optin",
        json={"optin": True, "by": "lead@demo.example"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert optin.status_code == 200, optin.text
    llm = {"provider": "openai", "model": "gpt-4o-mini"}
    before = scrape(client)

    assert post_webhook(live_server.url, robust_body("b")).status_code == 202
    wait_for(lambda: summaries_of(live_server.url, token, flow_run_id("b"), 2), timeout=20)
    after = scrape(client)

    rows = LlmSession.objects.filter(flow_run_id=flow_run_id("b"))
    calls = "failbrief_llm_request_seconds_count"
    assert value(after, calls, **llm, outcome="ok") == value(before, calls, **llm, outcome="ok") + 2
    for counter, field in (
        ("failbrief_llm_tokens_in_total", "tokens_in"),
        ("failbrief_llm_tokens_out_total", "tokens_out"),
    ):
        assert value(after, counter, **llm) - value(before, counter, **llm) == sum(
            getattr(r, field) for r in rows
        )
    assert (
        total(after, "failbrief_summaries", status="completed", summarizer="openai", provider="openai") == 2
    )
