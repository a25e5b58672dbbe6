"""Dalgo's trigger-and-poll flow for a unit with no stored summary yet, and regenerate."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from failbrief.orgs.manage import add_org, create_token
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import wait_for
from failbrief.testing.scenarios import flow_run_id

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

B_DBT_RUN = "01a20fec-41a7-7e01-9e03-dc6641808cf4"


def trigger(base: str, token: str, run_id: str, task_id: str, regenerate: int = 0) -> httpx.Response:
    return httpx.get(
        f"{base}/api/prefect/v1/flow_runs/{run_id}/logsummary",
        params={"task_id": task_id, "regenerate": regenerate},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


def final_progress(base: str, token: str, handle: str) -> dict[str, object] | None:
    answer = httpx.get(
        f"{base}/api/tasks/stp/{handle}", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    last: dict[str, object] = answer.json()["progress"][-1]
    return last if last["status"] != "running" else None


def test_a_unit_without_a_summary_is_summarized_on_demand_and_polled_to_completion(live_server, default_org):
    _, token = default_org
    answer = trigger(live_server.url, token, flow_run_id("b"), B_DBT_RUN)
    assert answer.status_code == 200
    last = wait_for(lambda: final_progress(live_server.url, token, answer.json()["task_id"]), timeout=10)
    assert last["status"] == "completed"
    assert "column o.amount_usd does not exist" in str(last["result"])
    # Asked for with no webhook, it is listed on the pages at the time the task failed in Prefect,
    # not at the time it was asked for.
    failed_at = LlmSession.objects.values_list("failed_at", flat=True).get()
    assert failed_at == datetime(2026, 11, 24, 23, 37, 53, 947332, tzinfo=UTC)


def test_regenerate_makes_a_new_version_and_keeps_the_old(live_server, default_org):
    _, token = default_org
    first = trigger(live_server.url, token, flow_run_id("b"), B_DBT_RUN).json()["task_id"]
    wait_for(lambda: final_progress(live_server.url, token, first), timeout=10)
    again = trigger(live_server.url, token, flow_run_id("b"), B_DBT_RUN).json()["task_id"]
    assert again == first  # stored: reused, no new work
    regenerated = trigger(live_server.url, token, flow_run_id("b"), B_DBT_RUN, regenerate=1).json()["task_id"]
    assert regenerated != first
    wait_for(lambda: final_progress(live_server.url, token, regenerated), timeout=10)
    versions = list(LlmSession.objects.order_by("version").values_list("version", "session_status"))
    assert versions == [(1, "completed"), (2, "completed")]


def test_a_run_of_another_org_is_a_404_and_starts_nothing(live_server, transactional_db):
    add_org("owner", default=True)
    stranger = add_org("stranger")
    scenario_c = flow_run_id("c")  # tagged org:demo, owned by the default org here
    answer = trigger(
        live_server.url, create_token(stranger), scenario_c, "7fa8b3be-ccb8-4987-8dd9-dd0a1db7d1ad"
    )
    assert answer.status_code == 404
    assert "detail" in answer.json()
    assert LlmSession.objects.count() == 0


def test_prefect_down_on_a_trigger_is_a_503_saying_so(live_server, default_org, fake_prefect):
    _, token = default_org
    fake_prefect.fail_next(10, status=503)
    answer = trigger(live_server.url, token, flow_run_id("b"), B_DBT_RUN)
    assert answer.status_code == 503
    assert "Prefect did not answer" in answer.json()["detail"]
