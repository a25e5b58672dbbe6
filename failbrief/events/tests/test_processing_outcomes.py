"""What an accepted event ends as when Prefect or the org lookup does not cooperate."""

from __future__ import annotations

import pytest

from failbrief.events.models import FailureEvent
from failbrief.orgs.manage import add_org, map_deployment
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import dalgo_body, flow_run_id, robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]


def finished(event_id: int) -> FailureEvent | None:
    event = FailureEvent.objects.get(pk=event_id)
    return (
        event if event.status not in {FailureEvent.Status.PENDING, FailureEvent.Status.PROCESSING} else None
    )


def test_a_run_prefect_does_not_know_ends_failed_with_the_reason(live_server, default_org):
    body = dalgo_body("11111111-2222-3333-4444-555555555555", "ghost")
    event_id = post_webhook(live_server.url, body).json()["event_id"]
    event = wait_for(lambda: finished(event_id), timeout=10)
    assert event.status == FailureEvent.Status.FAILED
    assert "RunNotFound" in event.status_reason
    assert LlmSession.objects.count() == 0


def test_prefect_answering_500_is_retried_until_it_recovers(live_server, default_org, fake_prefect):
    fake_prefect.fail_next(4, status=500)
    event_id = post_webhook(live_server.url, robust_body("a2")).json()["event_id"]
    event = wait_for(lambda: finished(event_id), timeout=15)
    assert event.status == FailureEvent.Status.DONE
    assert LlmSession.objects.filter(session_status="completed").count() == 2


def test_a_run_of_no_known_org_is_unmatched_with_the_reason(live_server, transactional_db):
    add_org("someone-else")
    event_id = post_webhook(live_server.url, robust_body("b")).json()["event_id"]
    event = wait_for(lambda: finished(event_id), timeout=10)
    assert event.status == FailureEvent.Status.UNMATCHED
    assert "no default org" in event.status_reason
    assert LlmSession.objects.count() == 0


def test_a_deployment_mapping_decides_the_org(live_server, transactional_db):
    add_org("fallback", default=True)
    acme = add_org("acme")
    map_deployment(acme, "2c723c20-5dda-4d12-a0e3-03864ad228d8")  # scenario c's deployment
    event_id = post_webhook(live_server.url, robust_body("c")).json()["event_id"]
    wait_for(lambda: finished(event_id), timeout=10)
    assert {s.org.slug for s in LlmSession.objects.select_related("org")} == {"acme"}
    assert LlmSession.objects.get().flow_run_id == flow_run_id("c")


def test_a_unit_whose_logs_prefect_refuses_fails_alone(live_server, default_org, fake_prefect):
    # Scenario b has two failed tasks (dbt-run, dbt-test). Prefect refusing the first one's log
    # read (400: retrying will not help) fails that summary with the reason; the other task is still
    # summarized, and no row is left "running" for the stuck-row sweep to fail with a wrong reason.
    fake_prefect.fail_next(
        1, status=400, body={"detail": "Injected: bad log filter"}, path="/api/logs/filter"
    )
    event_id = post_webhook(live_server.url, robust_body("b")).json()["event_id"]
    event = wait_for(lambda: finished(event_id), timeout=20)
    rows = {row.task_name: row for row in LlmSession.objects.filter(flow_run_id=flow_run_id("b"))}
    assert sorted(rows) == ["dbt-run", "dbt-test"]
    statuses = sorted(row.session_status for row in rows.values())
    assert statuses == ["completed", "failed"]
    failed = next(row for row in rows.values() if row.session_status == "failed")
    assert "bad log filter" in failed.error_reason
    assert event.status == FailureEvent.Status.FAILED
    assert f"{failed.task_name}: " in event.status_reason
    assert "bad log filter" in event.status_reason
