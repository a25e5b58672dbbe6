"""Before a run's summary exists, reading it says why: the webhook event's state (pending, retrying,
failed), the last reason in words and when the webhook arrived; the Dalgo poll says the same; a run
failbrief never heard of is a 404 saying so. Only the org the event is visible to sees it."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from failbrief.cli import main
from failbrief.events.models import FailureEvent
from failbrief.orgs.manage import add_org, create_token
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.prefect_server import free_port
from failbrief.testing.scenarios import captured, dalgo_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

A_KEY = "org-a-own-webhook-key"
# "trying again now" once the retry's countdown has passed (a loaded machine may poll that late).
RETRYING = r"; (?:next try in \d+ s|trying again now); giving up at \d\d:\d\d UTC$"


def run_of(base: str, token: str, run_id: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{base}/api/v1/flow-runs/{run_id}/summaries", headers=headers, timeout=5)


def retry_scheduled(event_id: int) -> FailureEvent | None:
    event = FailureEvent.objects.get(pk=event_id)
    return event if event.next_try_at is not None else None


def settled(event_id: int) -> FailureEvent | None:
    event = FailureEvent.objects.get(pk=event_id)
    return event if event.status not in {"pending", "processing"} else None


def refused_prefect(settings: Any) -> str:
    """PREFECT_API_URL at a loopback port nobody listens on."""
    settings.PREFECT_API_URL = f"http://127.0.0.1:{free_port()}/api"
    return str(settings.PREFECT_API_URL)


def test_a_run_failbrief_never_heard_of_is_a_404_that_says_so(live_server, default_org):
    run_id = str(uuid.uuid4())

    answer = run_of(live_server.url, default_org[1], run_id)

    assert answer.status_code == 404
    assert answer.json()["detail"] == (
        f"failbrief has not heard of flow run {run_id}: no webhook for it and no summary (for this org)"
    )


def test_while_a_worker_reads_prefect_the_run_is_pending(live_server, default_org, fake_prefect):
    run_id = fake_prefect.clone_scenario("a")[captured("a_flow_run.json")["id"]]
    fake_prefect.delay(3.0)
    event_id = post_webhook(live_server.url, dalgo_body(run_id, "nightly")).json()["event_id"]
    wait_for(lambda: FailureEvent.objects.get(pk=event_id).status == "processing", timeout=10)

    body = run_of(live_server.url, default_org[1], run_id).json()
    fake_prefect.delay(0)

    assert body["state"] == "pending"
    assert body["reason"] == "a worker is reading the run from Prefect and summarizing it"
    assert body["summaries"] == []
    assert body["received_at"] is not None
    wait_for(lambda: settled(event_id), timeout=30)
    done = run_of(live_server.url, default_org[1], run_id).json()
    assert (done["state"], done["reason"]) == ("summarized", "")
    assert [s["status"] for s in done["summaries"]] == ["completed"]


def test_a_refused_prefect_reads_as_retrying_with_the_next_try_and_the_deadline(
    live_server, default_org, settings
):
    url = refused_prefect(settings)
    run_id = str(uuid.uuid4())
    event_id = post_webhook(live_server.url, dalgo_body(run_id, "nightly")).json()["event_id"]
    wait_for(lambda: retry_scheduled(event_id), timeout=30, every=0.2)

    answer = run_of(live_server.url, default_org[1], run_id)

    assert answer.status_code == 200
    body = answer.json()
    assert body["state"] == "retrying"
    assert re.fullmatch(re.escape(f"Prefect at {url} refused the connection") + RETRYING, body["reason"])
    assert body["received_at"].startswith(str(FailureEvent.objects.get(pk=event_id).received_at.date()))
    listed = CliRunner().invoke(main, ["events", "--status", "retrying", "--json"])
    (shown,) = json.loads(listed.stdout)
    assert (shown["flow_run_id"], shown["state"]) == (run_id, "retrying")
    assert re.fullmatch(re.escape(f"Prefect at {url} refused the connection") + RETRYING, shown["reason"])


def test_past_the_retry_deadline_the_run_reads_as_failed_with_the_reason(live_server, default_org, settings):
    url = refused_prefect(settings)
    settings.RETRY_DEADLINE_SECONDS = 3.0  # the client's own tries take about that: no task retry
    run_id = str(uuid.uuid4())
    event_id = post_webhook(live_server.url, dalgo_body(run_id, "nightly")).json()["event_id"]
    wait_for(lambda: settled(event_id), timeout=30, every=0.2)

    body = run_of(live_server.url, default_org[1], run_id).json()

    assert body["state"] == "failed"
    assert re.fullmatch(
        re.escape(f"Prefect unavailable until the retry deadline: Prefect at {url} refused the connection")
        + r"; gave up at \d\d:\d\d UTC",
        body["reason"],
    )


def test_org_b_does_not_see_org_as_waiting_event(live_server, transactional_db, settings):
    refused_prefect(settings)
    token_a = create_token(add_org("a", webhook_key=A_KEY))
    token_b = create_token(add_org("b", default=True))
    a_run, unnamed_run = str(uuid.uuid4()), str(uuid.uuid4())
    a_event = post_webhook(live_server.url, dalgo_body(a_run, "a-nightly"), key=A_KEY).json()["event_id"]
    unnamed = post_webhook(live_server.url, dalgo_body(unnamed_run, "nightly")).json()["event_id"]
    wait_for(lambda: retry_scheduled(a_event) and retry_scheduled(unnamed), timeout=30, every=0.2)

    assert run_of(live_server.url, token_a, a_run).json()["state"] == "retrying"
    seen_by_b = run_of(live_server.url, token_b, a_run)
    assert seen_by_b.status_code == 404
    assert "has not heard of" in seen_by_b.json()["detail"]
    # A webhook signed with the global key that names no org is the default org's until Prefect tells.
    assert run_of(live_server.url, token_b, unnamed_run).json()["state"] == "retrying"
    assert run_of(live_server.url, token_a, unnamed_run).status_code == 404


def test_the_dalgo_poll_says_running_while_prefect_is_away_then_failed_with_the_same_reason(
    live_server, default_org, fake_prefect, settings
):
    # Prefect goes away while the worker waits for the run's logs, after the summary rows exist.
    settings.LOG_SETTLE_SECONDS = 6.0
    settings.LOG_SETTLE_CAP_SECONDS = 20.0
    settings.RETRY_DEADLINE_SECONDS = 20.0
    template = json.loads(captured("a2_webhook.json")["body"])
    ids = fake_prefect.clone_scenario("a2")
    run_id = ids[template["flow_run_id"]]
    fake_prefect.hold_logs(run_id, visible=0, release_after=120)
    body = json.dumps(template | {"flow_run_id": run_id, "event_id": str(uuid.uuid4())})
    event_id = post_webhook(live_server.url, body).json()["event_id"]
    root = wait_for(
        lambda: LlmSession.objects.filter(flow_run_id=run_id, position=0).first(), timeout=15, every=0.1
    )
    token = default_org[1]
    headers = {"Authorization": f"Bearer {token}"}
    trigger = f"{live_server.url}/api/prefect/v1/flow_runs/{run_id}/logsummary"
    handle = httpx.get(trigger, params={"task_id": root.task_id}, headers=headers, timeout=10).json()[
        "task_id"
    ]
    fake_prefect.set_down(True)
    wait_for(lambda: retry_scheduled(event_id), timeout=30, every=0.2)

    def poll() -> dict[str, Any]:
        progress = httpx.get(f"{live_server.url}/api/tasks/stp/{handle}", headers=headers, timeout=5)
        last: dict[str, Any] = progress.json()["progress"][-1]
        return last

    running = poll()
    assert running["status"] == "running"
    assert re.fullmatch(
        re.escape(f"Prefect at {fake_prefect.url} dropped the connection") + RETRYING, running["message"]
    )
    read = run_of(live_server.url, token, run_id).json()
    assert (read["state"], read["reason"][:60]) == ("retrying", running["message"][:60])

    event = wait_for(lambda: settled(event_id), timeout=40, every=0.5)
    failed = poll()
    assert failed == {"message": event.status_reason, "status": "failed", "result": None}
    assert failed["message"].startswith(
        f"Prefect unavailable until the retry deadline: Prefect at {fake_prefect.url}"
    )
