"""The broker hands the worker one task twice at once (Redis restores unacknowledged messages after
a reconnect): the work is done once, and the event does not end failed."""

from __future__ import annotations

import threading

import pytest

from failbrief.events.models import FailureEvent
from failbrief.events.tasks import process_event
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker")]


def test_two_copies_of_one_delivery_at_once_do_the_work_once(live_server, default_org, fake_prefect):
    event_id = post_webhook(live_server.url, robust_body("b")).json()["event_id"]
    wait_for(lambda: FailureEvent.objects.get(pk=event_id).status == "done", timeout=20)
    # Replay it by hand, as if the broker delivered its task twice at once.
    FailureEvent.objects.filter(pk=event_id).update(status="pending")
    LlmSession.objects.all().delete()
    fake_prefect.delay(0.3)  # both copies are inside the task at the same time
    asked_before = len(fake_prefect.requests)

    copies = [
        threading.Thread(target=process_event.apply, kwargs={"args": (event_id,), "task_id": "same-delivery"})
        for _ in range(2)
    ]
    for copy in copies:
        copy.start()
    for copy in copies:
        copy.join(timeout=60)

    event = FailureEvent.objects.get(pk=event_id)
    assert (event.status, event.status_reason.startswith("2 failed unit(s)")) == ("done", True)
    assert LlmSession.objects.filter(session_status="completed").count() == 2
    task_run_reads = [p for _, p, _ in fake_prefect.requests[asked_before:] if p.endswith("task_runs/filter")]
    assert len(task_run_reads) == 1  # one copy looked for the failed tasks; the other was dropped
