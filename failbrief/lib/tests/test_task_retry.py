"""The one task-retry policy: a task waiting out an unavailable service retries until its bound,
then records why it gave up; the work is never dropped without a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from celery import Celery, Task

from failbrief.lib.http import ApiUnavailable
from failbrief.lib.task_retry import retry_or_give_up

app = Celery("task-retry-test", set_as_current=False)  # run eagerly with apply(): no broker


def unavailable_task(**bounds: Any) -> tuple[Task[Any, Any], list[int], list[str]]:
    tries: list[int] = []
    reasons: list[str] = []

    @app.task(bind=True, max_retries=None, name=f"unavailable-{id(tries)}")
    def task(self: Task[Any, Any]) -> None:
        tries.append(self.request.retries)
        exc = ApiUnavailable("GET /flow_runs/x answered 503: busy", status=503)
        retry_or_give_up(self, exc, lambda error: reasons.append(f"gave up: {error}"), what="test", **bounds)

    return task, tries, reasons


def test_a_task_with_a_retry_budget_retries_that_often_then_records_why() -> None:
    task, tries, reasons = unavailable_task(max_retries=3)
    task.apply()
    assert tries == [0, 1, 2, 3]
    assert reasons == ["gave up: GET /flow_runs/x answered 503: busy"]


def test_a_task_with_a_deadline_stops_retrying_before_it_and_records_why() -> None:
    # The waits grow 1-2 s, 2-4 s, 4-8 s: the third would end past a deadline 3 s away.
    task, tries, reasons = unavailable_task(deadline=datetime.now(UTC) + timedelta(seconds=3))
    task.apply()
    assert 2 <= len(tries) <= 3
    assert reasons == ["gave up: GET /flow_runs/x answered 503: busy"]


def test_a_deadline_already_passed_gives_up_at_once() -> None:
    task, tries, reasons = unavailable_task(deadline=datetime.now(UTC) - timedelta(seconds=1))
    task.apply()
    assert tries == [0]
    assert len(reasons) == 1
