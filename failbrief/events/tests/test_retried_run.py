"""A flow run retried from Prefect's UI that fails again: the same flow run id, a second failure.
Prefect 3 runs the retried attempt's tasks as new task runs, so the second failure is a unit of its
own and must get its own summary, whatever the webhook's shape."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import httpx
import pytest
from django.utils import timezone

from failbrief.events.models import FailureEvent
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.fixtures import completed_summaries, post_webhook, wait_for
from failbrief.testing.scenarios import dalgo_body, flow_run_id, robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]


def second_attempt(fake: FakePrefect, run_id: str, error: str) -> str:
    """Scenario a's task runs and logs once more under `run_id`, as Prefect 3 records a retried
    attempt: new task runs, the failed one raising `error`. Returns the new failed task run's id."""
    copy = fake.clone_scenario("a")[flow_run_id("a")]
    tasks = _filter(fake, "task_runs", {"flow_runs": {"id": {"any_": [copy]}}})
    logs = _filter(fake, "logs", {"logs": {"flow_run_id": {"any_": [copy]}}})
    fake.add_task_runs([t | {"flow_run_id": run_id} for t in tasks])
    fake.add_logs(
        [
            log
            | {"flow_run_id": run_id, "message": log["message"].replace("unsupported currency None", error)}
            for log in logs
        ]
    )
    return str(next(t["id"] for t in tasks if t["state_type"] == "FAILED"))


def _filter(fake: FakePrefect, what: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = httpx.post(f"{fake.url}/{what}/filter", json=body, timeout=5).json()
    return records


def done(event_id: int) -> bool:
    return FailureEvent.objects.get(pk=event_id).status == FailureEvent.Status.DONE


def test_dalgos_sentence_for_the_second_failure_of_a_retried_run_gets_its_summary(
    live_server, default_org, fake_prefect
):
    run_id = fake_prefect.clone_scenario("a")[flow_run_id("a")]
    body = dalgo_body(run_id, "fine-cobra")
    first = post_webhook(live_server.url, body).json()
    wait_for(lambda: done(first["event_id"]), timeout=20)
    # Minutes later the run is retried and fails again, in a task run of the new attempt.
    FailureEvent.objects.filter(pk=first["event_id"]).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    retried_task = second_attempt(fake_prefect, run_id, "unsupported currency XYZ")

    again = post_webhook(live_server.url, body).json()

    assert again["duplicate"] is False
    wait_for(lambda: done(again["event_id"]), timeout=20)
    row = LlmSession.objects.get(flow_run_id=run_id, task_id=retried_task)
    assert row.session_status == LlmSession.Status.COMPLETED
    assert any("unsupported currency XYZ" in line for line in row.evidence)
    assert LlmSession.objects.filter(flow_run_id=run_id, is_cascade=False).count() == 2


def test_a_retried_run_that_crashes_again_gets_a_summary_of_the_second_crash(
    live_server, default_org, fake_prefect
):
    _, token = default_org
    run_id = fake_prefect.clone_scenario("d")[flow_run_id("d")]
    first = post_webhook(live_server.url, _renamed(robust_body("d"), flow_run_id("d"), run_id)).json()
    wait_for(lambda: done(first["event_id"]), timeout=20)
    # Retried from Prefect's UI, it crashes again ten minutes later, this time with exit code 3.
    run = _get(fake_prefect, f"flow_runs/{run_id}")
    later = "2026-11-24T23:49:51.814378+00:00"
    crash = "Process exited with status code: 3. Process exited with an unexpected status code."
    run["state"] |= {"timestamp": later, "message": crash, "id": str(uuid.uuid4())}
    fake_prefect.add_flow_run(run | {"end_time": later, "run_count": 2, "state_message": crash})
    second = json.loads(_renamed(robust_body("d"), flow_run_id("d"), run_id))
    second |= {"state_timestamp": later, "state_message": crash, "event_id": str(uuid.uuid4())}

    again = post_webhook(live_server.url, json.dumps(second)).json()

    assert again["duplicate"] is False
    wait_for(lambda: done(again["event_id"]), timeout=20)
    shown = completed_summaries(live_server.url, token, run_id)
    assert shown is not None
    assert "status code: 3" in json.dumps(shown)


def _get(fake: FakePrefect, path: str) -> dict[str, Any]:
    record: dict[str, Any] = httpx.get(f"{fake.url}/{path}", timeout=5).json()
    return record


def _renamed(body: str, old: str, new: str) -> str:
    return body.replace(old, new)
