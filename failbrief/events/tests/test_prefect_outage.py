"""Prefect going away while an event is being processed: retried until it returns, and a run that
was deleted meanwhile ends failed with the reason instead of staying stuck."""

from __future__ import annotations

import json
import uuid

import pytest

from failbrief.events.models import FailureEvent
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import captured

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]


def webhook_for_clone(fake, prefix: str) -> tuple[str, str]:
    """A fresh copy of a captured scenario and its call-webhook body: (flow run id, body)."""
    mapping = fake.clone_scenario(prefix)
    body = json.loads(captured(f"{prefix}_webhook.json")["body"])
    run_id = mapping[body["flow_run_id"]]
    return run_id, json.dumps(body | {"flow_run_id": run_id, "event_id": str(uuid.uuid4())})


def finished(event_id: int) -> FailureEvent | None:
    event = FailureEvent.objects.get(pk=event_id)
    return event if event.status not in {"pending", "processing"} else None


def asked_about(fake, run_id: str) -> int:
    return sum(run_id in path for _, path, _ in fake.requests)


def test_prefect_down_while_processing_is_retried_until_it_comes_back(live_server, default_org, fake_prefect):
    run_id, body = webhook_for_clone(fake_prefect, "a2")
    fake_prefect.set_down(True)
    event_id = post_webhook(live_server.url, body).json()["event_id"]
    # The client's three tries, then the task's own retry with backoff.
    wait_for(lambda: asked_about(fake_prefect, run_id) >= 6, timeout=30)
    assert FailureEvent.objects.get(pk=event_id).status in {"pending", "processing"}

    fake_prefect.set_down(False)

    event = wait_for(lambda: finished(event_id), timeout=30)
    assert event.status == "done"
    rows = LlmSession.objects.filter(flow_run_id=run_id)
    assert sorted(r.session_status for r in rows) == ["completed", "completed"]


def test_a_run_deleted_while_prefect_was_down_ends_failed_with_the_reason(
    live_server, default_org, fake_prefect
):
    run_id, body = webhook_for_clone(fake_prefect, "a2")
    fake_prefect.set_down(True)
    event_id = post_webhook(live_server.url, body).json()["event_id"]
    wait_for(lambda: asked_about(fake_prefect, run_id) >= 3, timeout=30)

    fake_prefect.delete_flow_run(run_id)
    fake_prefect.set_down(False)

    event = wait_for(lambda: finished(event_id), timeout=30)
    assert event.status == "failed"
    assert "RunNotFound" in event.status_reason
    assert "Flow run not found" in event.status_reason
    assert not LlmSession.objects.filter(flow_run_id=run_id, session_status="running").exists()


def test_prefect_down_past_the_retry_deadline_ends_failed_with_the_reason(
    live_server, default_org, fake_prefect, settings
):
    settings.RETRY_DEADLINE_SECONDS = 5.0  # room for one task retry (1-2 s), not for three
    run_id, body = webhook_for_clone(fake_prefect, "a2")
    fake_prefect.set_down(True)
    event_id = post_webhook(live_server.url, body).json()["event_id"]

    event = wait_for(lambda: finished(event_id), timeout=30)
    assert event.status == "failed"
    assert event.status_reason.startswith("Prefect unavailable until the retry deadline: ")
    assert asked_about(fake_prefect, run_id) >= 6  # the client's tries, then at least one task retry
    assert not LlmSession.objects.filter(flow_run_id=run_id, session_status="running").exists()
