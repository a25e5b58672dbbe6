"""failbrief events: the webhooks failbrief received, newest first, with what became of each and why;
as a table, as JSON, and for one org."""

from __future__ import annotations

import json
import uuid
from functools import partial

import pytest
from click.testing import CliRunner, Result

from failbrief.cli import main
from failbrief.events.models import FailureEvent
from failbrief.orgs.manage import add_org
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import dalgo_body, flow_run_id, robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

ACME_KEY = "acme-own-webhook-key"


def failbrief(*args: str) -> Result:
    return CliRunner(env={"COLUMNS": "160"}).invoke(main, list(args))


def settled(event_id: int) -> bool:
    return FailureEvent.objects.get(pk=event_id).status not in {"pending", "processing"}


@pytest.fixture
def received(live_server, transactional_db) -> dict[str, str]:
    """Four webhooks, each settled: a summarized run, a run Prefect does not know, a state that is
    no failure, and acme's own-key webhook of a run Prefect does not know."""
    add_org("demo", default=True)
    add_org("acme", webhook_key=ACME_KEY)
    runs = {"done": flow_run_id("a2"), "ghost": str(uuid.uuid4()), "running": str(uuid.uuid4())}
    runs["acme"] = str(uuid.uuid4())
    bodies = [
        (robust_body("a2"), None),
        (dalgo_body(runs["ghost"], "ghost-run"), None),
        (dalgo_body(runs["running"], "still-going", state="Running"), None),
        (dalgo_body(runs["acme"], "acme-nightly"), ACME_KEY),
    ]
    for body, key in bodies:
        event_id = post_webhook(live_server.url, body, **({"key": key} if key else {})).json()["event_id"]
        wait_for(partial(settled, event_id), timeout=30)
    return runs


def test_the_table_shows_every_event_with_its_state_and_reason(received):
    done = failbrief("events")

    assert done.exit_code == 0, done.output
    for run_id in received.values():
        assert run_id in done.output
    assert "ghost-run" in done.output
    assert "RunNotFound" in done.output
    assert "'Running' is not a failure state" in done.output
    for state in ("done", "failed", "ignored"):
        assert state in done.output


def test_json_lists_them_newest_first(received):
    done = failbrief("events", "--json")

    assert done.exit_code == 0, done.output
    events = json.loads(done.stdout)
    assert [e["flow_run_id"] for e in events] == [
        received["acme"],
        received["running"],
        received["ghost"],
        received["done"],
    ]
    by_run = {e["flow_run_id"]: e for e in events}
    assert by_run[received["done"]]["state"] == "done"
    assert by_run[received["ghost"]]["state"] == "failed"
    assert "Flow run not found" in by_run[received["ghost"]]["reason"]
    assert by_run[received["running"]]["state"] == "ignored"
    assert by_run[received["done"]]["received_at"] < by_run[received["acme"]]["received_at"]


def test_one_orgs_events_leave_out_the_other_orgs(received):
    acme = json.loads(failbrief("events", "--org", "acme", "--json").stdout)
    demo = json.loads(failbrief("events", "--org", "demo", "--json").stdout)

    assert [e["flow_run_id"] for e in acme] == [received["acme"]]
    assert received["done"] in [e["flow_run_id"] for e in demo]
    assert received["acme"] not in [e["flow_run_id"] for e in demo]


def test_limit_and_status_narrow_the_list(received):
    failed = json.loads(failbrief("events", "--status", "failed", "--json").stdout)
    newest = json.loads(failbrief("events", "--limit", "1", "--json").stdout)

    assert {e["flow_run_id"] for e in failed} == {received["ghost"], received["acme"]}
    assert [e["flow_run_id"] for e in newest] == [received["acme"]]
