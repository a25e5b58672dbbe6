"""Two orgs on one failbrief: a run belongs to the org it names, whoever's key or token asks.

Org `demo` owns scenario c (its run is tagged org:demo); org `acme` is the default org, so it owns
the untagged runs (scenarios a2 and b). acme has its own webhook key, an API token and an LLM."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from failbrief.cli import main
from failbrief.events.models import FailureEvent
from failbrief.orgs.manage import add_org, create_token, set_llm_optin
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import completed_summaries, post_webhook, wait_for
from failbrief.testing.scenarios import flow_run_id, robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

ACME_KEY = "acme-own-webhook-key"
C_FAILED_TASK = "7fa8b3be-ccb8-4987-8dd9-dd0a1db7d1ad"  # scenario c's failed task, demo's
C_SUBFLOW = "350bade4-02c0-409c-8eda-e43d40bdb33f"  # scenario c's subflow run, demo's
B_DBT_RUN = "01a20fec-41a7-7e01-9e03-dc6641808cf4"  # scenario b's failed dbt task, acme's


@pytest.fixture
def orgs(transactional_db: None, llm_settings: Any) -> dict[str, str]:
    demo = add_org("demo")
    acme = add_org("acme", default=True, webhook_key=ACME_KEY)
    set_llm_optin(acme, True, by="lead@acme.example")
    return {"demo": create_token(demo), "acme": create_token(acme)}


def finished(event_id: int) -> FailureEvent | None:
    event = FailureEvent.objects.get(pk=event_id)
    return event if event.status not in {"pending", "processing"} else None


def summaries(base: str, token: str, run_id: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.get(f"{base}/api/v1/flow-runs/{run_id}/summaries", headers=headers, timeout=5)


def test_an_orgs_key_cannot_claim_another_orgs_run(live_server, orgs, fake_llm):
    c_run = flow_run_id("c")
    claimed = post_webhook(live_server.url, robust_body("c"), key=ACME_KEY)
    assert claimed.status_code == 202
    event = wait_for(lambda: finished(claimed.json()["event_id"]), timeout=10)

    assert event.status == FailureEvent.Status.IGNORED
    assert "only starts work for its own org's runs" in event.status_reason
    assert "demo" not in event.status_reason  # whose run it is stays the owner's business
    assert LlmSession.objects.count() == 0
    assert fake_llm.requests == []  # acme's LLM never saw demo's logs

    # The owner's own notification still comes through, and only the owner reads the result.
    owned = post_webhook(live_server.url, robust_body("c"))
    assert owned.json()["duplicate"] is False
    assert owned.json()["event_id"] != claimed.json()["event_id"]
    assert wait_for(lambda: completed_summaries(live_server.url, orgs["demo"], c_run), timeout=15)
    assert summaries(live_server.url, orgs["acme"], c_run).status_code == 404
    assert fake_llm.requests == []  # demo never opted in


def test_an_orgs_key_still_starts_work_for_its_own_runs(live_server, orgs, fake_llm):
    answer = post_webhook(live_server.url, robust_body("a2"), key=ACME_KEY)
    event = wait_for(lambda: finished(answer.json()["event_id"]), timeout=15)
    assert event.status == FailureEvent.Status.DONE
    assert wait_for(lambda: completed_summaries(live_server.url, orgs["acme"], flow_run_id("a2")), timeout=15)
    assert fake_llm.requests  # acme opted in: its own logs go to its LLM


def test_a_duplicate_answer_never_names_another_signers_event(live_server, orgs):
    first = post_webhook(live_server.url, robust_body("c"), key=ACME_KEY).json()
    again = post_webhook(live_server.url, robust_body("c"), key=ACME_KEY).json()
    other = post_webhook(live_server.url, robust_body("c")).json()

    assert (again["duplicate"], again["event_id"]) == (True, first["event_id"])
    assert other["duplicate"] is False
    assert other["event_id"] != first["event_id"]


def trigger(base: str, token: str, run_id: str, task_id: str) -> httpx.Response:
    return httpx.get(
        f"{base}/api/prefect/v1/flow_runs/{run_id}/logsummary",
        params={"task_id": task_id},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


@pytest.mark.parametrize("other_orgs_unit", [C_FAILED_TASK, C_SUBFLOW], ids=["task", "subflow"])
def test_the_dalgo_trigger_reads_no_unit_outside_the_callers_run(live_server, orgs, other_orgs_unit):
    # acme's own run, demo's task: the run check alone would let it through.
    answer = trigger(live_server.url, orgs["acme"], flow_run_id("b"), other_orgs_unit)

    assert answer.status_code == 404
    assert "detail" in answer.json()
    assert LlmSession.objects.count() == 0


def test_the_dalgo_trigger_reads_a_unit_of_the_callers_own_run(live_server, orgs):
    answer = trigger(live_server.url, orgs["acme"], flow_run_id("b"), B_DBT_RUN)
    assert answer.status_code == 200
    assert trigger(live_server.url, orgs["demo"], flow_run_id("c"), C_FAILED_TASK).status_code == 200


def test_a_webhooks_org_tag_stops_counting_once_the_run_names_another_org(live_server, orgs, fake_prefect):
    """Scenario c's run is tagged org:demo, but this copy's Dalgo parameters name acme, which win
    (orgs/resolve.py): demo's token must then read it as a run failbrief never heard of, neither
    its failed-unit count nor its existence, and `failbrief events --org demo` must not list it."""
    template = json.loads(robust_body("c"))
    run_id = fake_prefect.clone_scenario("c")[template["flow_run_id"]]
    run = httpx.get(f"{fake_prefect.url}/flow_runs/{run_id}", timeout=5).json()
    run["parameters"]["config"]["org_slug"] = "acme"
    fake_prefect.add_flow_run(run)
    body = json.dumps(template | {"flow_run_id": run_id, "event_id": str(uuid.uuid4())})
    event_id = post_webhook(live_server.url, body).json()["event_id"]
    event = wait_for(lambda: finished(event_id), timeout=15)
    assert event.status == FailureEvent.Status.DONE
    assert wait_for(lambda: completed_summaries(live_server.url, orgs["acme"], run_id), timeout=15)

    seen_by_demo = summaries(live_server.url, orgs["demo"], run_id)

    assert seen_by_demo.status_code == 404
    assert "has not heard of" in seen_by_demo.json()["detail"]
    listed = CliRunner().invoke(main, ["events", "--org", "demo", "--json"])
    assert run_id not in listed.stdout
    listed = CliRunner().invoke(main, ["events", "--org", "acme", "--json"])
    assert run_id in listed.stdout


def test_a_failed_read_of_another_orgs_parent_run_tells_the_signer_nothing_of_it(
    live_server, orgs, fake_prefect
):
    """Acme's key names demo's subflow. Before failbrief can tell whose run it is, it reads the
    subflow's parent; Prefect refusing that read must not hand acme the parent's id or Prefect's
    answer about it in the event's reason (acme reads it through the API and `failbrief events`)."""
    parent = flow_run_id("c")
    fake_prefect.fail_next(
        1,
        status=400,
        body={"detail": "deployment demo-nightly of the demo workspace"},
        path=f"/api/flow_runs/{parent}",
    )
    claimed = post_webhook(live_server.url, robust_body("c_subflow"), key=ACME_KEY)
    event = wait_for(lambda: finished(claimed.json()["event_id"]), timeout=10)

    assert event.status == FailureEvent.Status.FAILED
    assert parent not in event.status_reason
    assert "demo" not in event.status_reason
    assert "whose run" in event.status_reason
    assert LlmSession.objects.count() == 0
