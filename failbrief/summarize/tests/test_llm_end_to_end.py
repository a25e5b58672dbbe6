"""A webhook in, an LLM summary out: opt-in, fallback, reuse and regenerate through the real service
(webhook, Celery worker, fake Prefect, fake LLM through the official SDK)."""

from __future__ import annotations

import time

import httpx
import pytest

from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import dalgo_body, flow_run_id, robust_body

pytestmark = [
    pytest.mark.services,
    pytest.mark.usefixtures("celery_worker", "service_settings", "llm_settings"),
]


def api(base: str, token: str, method: str, path: str, **kwargs: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, f"{base}/api/v1{path}", headers=headers, timeout=10, **kwargs)  # type: ignore[arg-type]


def completed(base: str, token: str, run_id: str, count: int = 2) -> list[dict[str, object]] | None:
    answer = api(base, token, "GET", f"/flow-runs/{run_id}/summaries")
    if answer.status_code != 200:
        return None
    summaries: list[dict[str, object]] = answer.json()["summaries"]
    done = [s for s in summaries if s["status"] == "completed"]
    return summaries if len(done) == count == len(summaries) else None


def version_2(summaries: list[dict[str, object]] | None) -> list[dict[str, object]]:
    return [s for s in summaries or [] if s["version"] == 2]


def opt_in(base: str, token: str) -> dict[str, object]:
    answer = api(base, token, "POST", "/org/llm-optin", json={"optin": True, "by": "lead@demo.example"})
    assert answer.status_code == 200, answer.text
    body: dict[str, object] = answer.json()
    return body


def test_an_opted_in_orgs_failure_is_summarized_by_the_llm(live_server, default_org, fake_llm):
    _, token = default_org
    assert opt_in(live_server.url, token)["summarizer"] == "openai"
    assert post_webhook(live_server.url, robust_body("b")).status_code == 202

    summaries = wait_for(lambda: completed(live_server.url, token, flow_run_id("b")), timeout=20)

    assert {s["summarizer"] for s in summaries} == {"openai"}
    assert {s["model"] for s in summaries} == {"gpt-4o-mini"}
    assert all(s["tokens_in"] and s["prompt_version"] == "v1" for s in summaries)
    assert all(s["response"][0]["prompt"] == "Summary" for s in summaries)
    assert len(fake_llm.requests) == 2
    assert "column o.amount_usd does not exist" in "\n".join(r.text for r in fake_llm.requests)


def test_an_org_that_has_not_opted_in_sends_not_one_request(live_server, default_org, fake_llm):
    _, token = default_org
    assert post_webhook(live_server.url, robust_body("b")).status_code == 202

    summaries = wait_for(lambda: completed(live_server.url, token, flow_run_id("b")), timeout=20)

    assert {s["summarizer"] for s in summaries} == {"offline"}
    assert fake_llm.requests == []


def test_a_dead_llm_still_leaves_completed_offline_summaries(live_server, default_org, fake_llm):
    _, token = default_org
    opt_in(live_server.url, token)
    fake_llm.fail_next(100, status=500)
    assert post_webhook(live_server.url, robust_body("b")).status_code == 202

    summaries = wait_for(lambda: completed(live_server.url, token, flow_run_id("b")), timeout=30)

    assert {s["summarizer"] for s in summaries} == {"offline"}
    assert all("HTTP 500" in str(s["llm_error"]) for s in summaries)
    assert any("column o.amount_usd does not exist" in "\n".join(s["evidence"]) for s in summaries)


def test_the_same_failure_again_is_reused_and_regenerate_asks_the_llm_again(
    live_server, default_org, fake_llm, fake_prefect
):
    _, token = default_org
    opt_in(live_server.url, token)
    first_run = flow_run_id("b")
    assert post_webhook(live_server.url, robust_body("b")).status_code == 202
    wait_for(lambda: completed(live_server.url, token, first_run), timeout=20)
    second_run = fake_prefect.clone_scenario("b")[first_run]
    assert post_webhook(live_server.url, dalgo_body(second_run, "tonight")).status_code == 202

    again = wait_for(lambda: completed(live_server.url, token, second_run), timeout=20)

    assert len(fake_llm.requests) == 2
    assert {s["same_as"] for s in again} == {f"same as {first_run} (2 times)"}
    answer = api(live_server.url, token, "POST", f"/summaries/{again[0]['id']}/regenerate")
    assert answer.status_code == 202
    assert answer.json()["version"] == 2
    newest = wait_for(lambda: version_2(completed(live_server.url, token, second_run)), timeout=20)
    assert len(fake_llm.requests) == 3
    assert newest[0]["same_as"] is None
    assert newest[0]["summarizer"] == "openai"


def test_an_org_that_opts_out_while_its_run_is_summarized_sends_nothing_more(
    live_server, default_org, fake_llm
):
    _, token = default_org
    opt_in(live_server.url, token)
    fake_llm.delay(1.5)  # the first unit's request is still in flight when the org opts out
    assert post_webhook(live_server.url, robust_body("b")).status_code == 202
    wait_for(lambda: fake_llm.requests, timeout=20)
    fake_llm.delay(0)
    answer = api(
        live_server.url, token, "POST", "/org/llm-optin", json={"optin": False, "by": "lead@demo.example"}
    )
    assert answer.json()["summarizer"] == "offline"

    summaries = wait_for(lambda: completed(live_server.url, token, flow_run_id("b")), timeout=30)

    assert len(fake_llm.requests) == 1  # the unit summarized after the opt-out went to no LLM
    assert sorted(str(s["summarizer"]) for s in summaries) == ["offline", "openai"]


def test_a_run_whose_llm_keeps_timing_out_still_gets_every_unit_summarized_past_the_stuck_sweep(
    live_server, default_org, fake_llm, settings
):
    from failbrief.summarize.tasks import fail_stuck_summaries

    _, token = default_org
    opt_in(live_server.url, token)
    settings.STUCK_AFTER_SECONDS = 10.0
    fake_llm.delay(6)  # longer than LLM_TIMEOUT_SECONDS: each unit spends its 10 s deadline
    assert post_webhook(live_server.url, robust_body("b")).status_code == 202
    wait_for(lambda: len(fake_llm.requests) >= 3, timeout=30)  # the second unit's first request
    time.sleep(1)
    fail_stuck_summaries()  # the beat's sweep, while the worker is on the second unit

    summaries = wait_for(lambda: completed(live_server.url, token, flow_run_id("b")), timeout=30)

    assert {s["summarizer"] for s in summaries} == {"offline"}
    assert all("did not answer in time" in str(s["llm_error"]) for s in summaries)
