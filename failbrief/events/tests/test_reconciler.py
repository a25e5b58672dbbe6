"""The missed-webhook reconciler against the loopback fake Prefect: a run whose webhook never came is
found, summarized once, and never twice."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from failbrief.events.models import FailureEvent, ReconcilerWatermark
from failbrief.events.reconcile import WATERMARK, reconcile
from failbrief.events.tasks import reconcile_missed_webhooks
from failbrief.runs.prefect import PrefectClient
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_prefect import UUID_TEXT
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import captured

NOW = datetime.now(UTC).replace(microsecond=0)


def fresh_failure(fake, prefix: str, ended: datetime, state_type: str = "", state_name: str = "") -> str:
    """A copy of a captured scenario under new ids, as if its flow run had ended at `ended`."""
    mapping = fake.clone_scenario(prefix)
    text = json.dumps(captured(f"{prefix}_flow_run.json"))
    run = json.loads(UUID_TEXT.sub(lambda m: mapping.get(m.group(0), m.group(0)), text))
    stamp = ended.isoformat().replace("+00:00", "Z")
    run["end_time"] = run["state"]["timestamp"] = stamp
    if state_type:
        run["state_type"] = run["state"]["type"] = state_type
    if state_name:
        run["state_name"] = run["state"]["name"] = state_name
    fake.add_flow_run(run)
    return str(run["id"])


def robust_webhook_for(fake_run_id: str, prefix: str, ended: datetime) -> str:
    """The captured call-webhook body of `prefix`, retargeted at another run that ended at `ended`."""
    body = json.loads(captured(f"{prefix}_webhook.json")["body"])
    body["flow_run_id"] = fake_run_id
    body["event_id"] = str(uuid.uuid4())
    body["state_timestamp"] = ended.isoformat()
    return json.dumps(body)


def summaries_of(run_id: str) -> list[LlmSession] | None:
    rows = list(LlmSession.objects.filter(flow_run_id=run_id))
    return rows if rows and all(r.session_status == "completed" for r in rows) else None


def reconcile_once(fake, now: datetime = NOW):
    with PrefectClient(fake.url, timeout=5) as client:
        return reconcile(client, now=now)


def test_a_failed_run_whose_webhook_never_came_gets_an_event(db, fake_prefect):
    run_id = fresh_failure(fake_prefect, "a", NOW - timedelta(seconds=30))

    done = reconcile_once(fake_prefect)

    assert (done.runs, done.stored) == (1, 1)
    event = FailureEvent.objects.get(flow_run_id=run_id)
    assert (event.shape, event.state_name, event.status) == ("reconciler", "Failed", "pending")
    assert "Cannot convert order 0" in event.state_message
    assert json.loads(event.raw_body)["source"] == "reconciler"


def test_a_run_reported_by_its_webhook_gets_no_second_event(db, fake_prefect, client, settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = "k"
    ended = NOW - timedelta(seconds=30)
    run_id = fresh_failure(fake_prefect, "a", ended)
    body = robust_webhook_for(run_id, "a", ended)
    answer = client.post(
        "/webhooks/v1/notification/",
        body,
        content_type="application/json",
        headers={"X-Notification-Key": "k"},
    )
    assert answer.status_code == 202

    done = reconcile_once(fake_prefect)

    assert (done.runs, done.stored) == (1, 0)
    assert FailureEvent.objects.filter(flow_run_id=run_id).count() == 1


def test_the_reconciler_first_then_the_late_webhook_is_a_duplicate(db, fake_prefect, client, settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = "k"
    ended = NOW - timedelta(seconds=30)
    run_id = fresh_failure(fake_prefect, "a", ended)
    reconcile_once(fake_prefect)

    body = robust_webhook_for(run_id, "a", ended)
    answer = client.post(
        "/webhooks/v1/notification/",
        body,
        content_type="application/json",
        headers={"X-Notification-Key": "k"},
    )

    assert answer.json()["duplicate"] is True
    assert FailureEvent.objects.filter(flow_run_id=run_id).count() == 1


def test_a_completed_run_named_dbt_test_failed_is_reconciled_too(db, fake_prefect):
    run_id = fresh_failure(fake_prefect, "b", NOW - timedelta(seconds=5), "COMPLETED", "DBT_TEST_FAILED")
    fresh_failure(fake_prefect, "a2", NOW - timedelta(seconds=5), "COMPLETED", "Completed")

    done = reconcile_once(fake_prefect)

    assert done.stored == 1
    assert FailureEvent.objects.get().flow_run_id == run_id
    assert FailureEvent.objects.get().state_name == "DBT_TEST_FAILED"


def test_a_second_pass_reads_from_the_watermark_less_the_overlap(db, fake_prefect, settings):
    settings.RECONCILE_OVERLAP_SECONDS = 60
    reconcile_once(fake_prefect, NOW)
    assert ReconcilerWatermark.objects.get(name=WATERMARK).seen_until == NOW
    later = NOW + timedelta(minutes=5)
    too_old = fresh_failure(fake_prefect, "a", NOW - timedelta(seconds=61))
    in_overlap = fresh_failure(fake_prefect, "a", NOW - timedelta(seconds=59))
    since_then = fresh_failure(fake_prefect, "a2", NOW + timedelta(minutes=2))

    done = reconcile_once(fake_prefect, later)

    assert done.since == NOW - timedelta(seconds=60)
    stored = set(FailureEvent.objects.values_list("flow_run_id", flat=True))
    assert stored == {in_overlap, since_then}
    assert too_old not in stored
    assert ReconcilerWatermark.objects.get(name=WATERMARK).seen_until == later


def test_more_failed_runs_than_one_prefect_page_are_all_found(db, fake_prefect):
    template = captured("a_flow_run.json")
    ids = []
    for i in range(450):
        run = json.loads(json.dumps(template))
        run["id"] = str(uuid.uuid4())
        stamp = (NOW - timedelta(seconds=100) + timedelta(milliseconds=100 * i)).isoformat()
        run["end_time"] = run["state"]["timestamp"] = stamp
        fake_prefect.add_flow_run(run)
        ids.append(run["id"])

    done = reconcile_once(fake_prefect)

    assert done.complete
    assert done.stored == 450
    assert set(FailureEvent.objects.values_list("flow_run_id", flat=True)) == set(ids)


def test_prefect_down_leaves_the_watermark_and_the_next_pass_catches_up(db, fake_prefect, service_settings):
    ReconcilerWatermark.objects.create(name=WATERMARK, seen_until=datetime.now(UTC) - timedelta(seconds=10))
    run_id = fresh_failure(fake_prefect, "d", datetime.now(UTC) - timedelta(seconds=5))
    before = ReconcilerWatermark.objects.get().seen_until
    fake_prefect.set_down(True)

    assert reconcile_missed_webhooks() == 0
    assert ReconcilerWatermark.objects.get().seen_until == before

    fake_prefect.set_down(False)
    assert reconcile_missed_webhooks() == 1
    assert FailureEvent.objects.get().flow_run_id == run_id
    assert FailureEvent.objects.get().state_name == "Crashed"


@pytest.mark.services
@pytest.mark.usefixtures("celery_worker", "service_settings")
def test_a_missed_run_ends_in_a_stored_summary(default_org, fake_prefect):
    run_id = fresh_failure(fake_prefect, "a2", NOW - timedelta(seconds=30))

    reconcile_once(fake_prefect)

    rows = wait_for(lambda: summaries_of(run_id), timeout=10)
    root = next(r for r in rows if not r.is_cascade)
    assert any("unsupported currency None" in line for line in root.evidence)


@pytest.mark.services
@pytest.mark.usefixtures("celery_worker", "service_settings")
def test_the_reconciler_and_a_dalgo_webhook_on_one_run_give_one_summary(
    live_server, default_org, fake_prefect
):
    run_id = fresh_failure(fake_prefect, "a", NOW - timedelta(seconds=30))
    reconcile_once(fake_prefect)
    # Dalgo's body has no state timestamp, so it cannot be recognised as the same notice.
    dalgo = json.dumps({"body": f"Flow run rich-bobcat with id {run_id} entered state Failed"})
    assert post_webhook(live_server.url, dalgo).json()["duplicate"] is False

    events = wait_for(
        lambda: (
            [e for e in FailureEvent.objects.filter(flow_run_id=run_id) if e.status == "done"][1:] or None
        ),
        timeout=10,
    )

    assert len(events) == 1  # both events were processed...
    assert FailureEvent.objects.filter(flow_run_id=run_id).count() == 2
    assert LlmSession.objects.filter(flow_run_id=run_id).count() == 1  # ...into one summary
    assert summaries_of(run_id)


def test_an_undated_webhook_received_after_the_failure_covers_the_run(db, fake_prefect, client, settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = "k"
    run_id = fresh_failure(fake_prefect, "a", datetime.now(UTC) - timedelta(seconds=2))
    dalgo = json.dumps({"body": f"Flow run rich-bobcat with id {run_id} entered state Failed"})
    client.post(
        "/webhooks/v1/notification/",
        dalgo,
        content_type="application/json",
        headers={"X-Notification-Key": "k"},
    )

    assert reconcile_once(fake_prefect, datetime.now(UTC)).stored == 0
