"""One delivery attempt at a time, through the real channel client to a loopback receiver: what is
recorded when it goes through, when it should be tried again, and when it is given up."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import httpx
import pytest
from cryptography.fernet import Fernet
from django.db import connections
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from failbrief.events.models import FailureEvent
from failbrief.notify.deliver import Outcome, deliver, due_for_requeue, http_client
from failbrief.notify.manage import add_channel, send_test, set_enabled
from failbrief.notify.models import Notification, NotifyChannel
from failbrief.notify.tests.test_repeats import plan
from failbrief.notify.trigger import notify_summaries
from failbrief.orgs.manage import add_org
from failbrief.orgs.models import Org
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_receivers import FakeReceiver
from failbrief.testing.fixtures import wait_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> Org:
    return add_org("acme")


@pytest.fixture
def hook() -> Iterator[FakeReceiver]:
    with FakeReceiver() as receiver:
        yield receiver


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with http_client() as client:
        yield client


@pytest.fixture
def channel(org: Org, hook: FakeReceiver) -> NotifyChannel:
    return add_channel(org, "ops", "slack", {"url": hook.url("/services/T0/B0/xoxbSecretTokenValue9f3a")})[0]


_signatures = iter(range(1_000_000))


def one_pending(org: Org) -> Notification:
    """A first failure (its own signature, so never held as a repeat) waiting to be sent."""
    _, [notification_id] = plan(org, signature=f"sig-{next(_signatures)}")
    return Notification.objects.get(pk=notification_id)


def test_a_sent_message_is_recorded_and_not_sent_again(org, channel, hook, http):
    notification = one_pending(org)
    assert deliver(notification.pk, http).status == "sent"
    assert deliver(notification.pk, http).status == "skipped"  # a duplicate task
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.reason) == ("sent", 1, "")
    assert notification.sent_at is not None
    assert len(hook.requests) == 1


def test_a_server_error_is_retried_until_the_attempts_run_out(org, channel, hook, http, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    hook.fail_next(503, times=5, body=b"upstream down")
    notification = one_pending(org)
    first = deliver(notification.pk, http)
    assert first.status == "retry"
    assert first.retry_in is not None
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert "503" in notification.reason
    Notification.objects.filter(pk=notification.pk).update(next_attempt_at=timezone.now())  # it is due
    assert deliver(notification.pk, http).status == "failed"
    notification.refresh_from_db()
    assert notification.status == "failed"
    assert notification.reason.startswith("attempt 2:")
    assert "xoxbSecretToken" not in notification.reason  # the webhook's token never lands in a reason


def test_retry_after_is_honoured(org, channel, hook, http):
    hook.fail_next(429, headers={"Retry-After": "42"})
    outcome = deliver(one_pending(org).pk, http)
    assert (outcome.status, outcome.retry_in) == ("retry", 42.0)


def test_a_long_retry_after_is_honoured_even_by_a_task_that_comes_back_sooner(org, channel, hook, http):
    # Slack, Discord and Power Automate may ask for more than ten minutes; sending sooner only
    # earns another 429 and burns the message's attempts.
    hook.fail_next(429, headers={"Retry-After": "1800"})
    notification = one_pending(org)
    before = timezone.now()
    assert deliver(notification.pk, http).status == "retry"
    notification.refresh_from_db()
    assert notification.next_attempt_at is not None
    assert notification.next_attempt_at >= before + timedelta(seconds=1800)
    early = deliver(notification.pk, http)  # the retry task (Celery caps its countdown) or a duplicate
    assert early.status != "sent"
    assert early.retry_in is not None
    assert early.retry_in > 0
    assert len(hook.requests) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts) == ("pending", 1)
    assert notification.pk not in due_for_requeue()


def test_a_disabled_channel_fails_its_pending_messages_with_the_reason(org, channel, hook, http):
    notification = one_pending(org)
    set_enabled(channel, False)
    outcome = deliver(notification.pk, http)
    assert outcome.status == "failed"
    assert "disabled" in outcome.reason
    assert hook.requests == []


def test_a_config_sealed_under_another_vault_key_fails_with_a_reason_to_act_on(
    org, channel, hook, http, settings
):
    notification = one_pending(org)
    settings.VAULT_KEYS = (Fernet.generate_key().decode(),)
    outcome = deliver(notification.pk, http)
    assert outcome.status == "failed"
    assert "FAILBRIEF_VAULT_KEY" in outcome.reason


def test_a_message_another_worker_is_sending_is_left_to_it(org, channel, hook, http):
    notification = one_pending(org)
    Notification.objects.filter(pk=notification.pk).update(
        locked_until=timezone.now() + timedelta(seconds=30)
    )
    assert deliver(notification.pk, http).status == "skipped"
    assert hook.requests == []


def test_beat_finds_pending_messages_whose_task_was_lost(org, channel):
    long_ago = timezone.now() - timedelta(minutes=5)
    never_published = one_pending(org)
    retry_lost = one_pending(org)
    sending_now = one_pending(org)
    fresh = one_pending(org)
    Notification.objects.filter(pk=never_published.pk).update(updated_at=long_ago)
    Notification.objects.filter(pk=retry_lost.pk).update(next_attempt_at=long_ago)
    Notification.objects.filter(pk=sending_now.pk).update(
        updated_at=long_ago, locked_until=timezone.now() + timedelta(seconds=30)
    )
    assert set(due_for_requeue()) == {never_published.pk, retry_lost.pk}
    assert fresh.pk not in due_for_requeue()


def test_a_backfilled_failure_is_stored_but_not_announced(org, channel, hook):
    event = FailureEvent.objects.create(
        raw_body="{}", shape="backfill", flow_run_id="run-1", state_name="Failed", dedup_key="k1"
    )
    row = LlmSession.objects.create(
        org=org, flow_run_id="run-1", task_id="t", session_status="completed", root_cause="boom", event=event
    )
    top = FlowRun.model_validate({"id": "run-1", "name": "nightly"})
    with PrefectClient("http://127.0.0.1:9/api") as client:  # never called
        assert notify_summaries(event, top, [row], client) == []
    assert not Notification.objects.exists()


def test_the_test_message_goes_out_now_and_a_refusal_says_why(org, channel, hook):
    assert send_test(channel) == ""
    assert "test message" in hook.requests[0].body.decode()
    hook.fail_next(404, body=b"channel_not_found")
    reason = send_test(channel)
    assert "404" in reason
    assert "channel_not_found" in reason


def test_operators_see_sent_and_failed_notifications_in_metrics(org, channel, hook, http):
    deliver(one_pending(org).pk, http)
    hook.fail_next(404)
    deliver(one_pending(org).pk, http)
    scraped = Client().get("/metrics").content.decode()
    families = {f.name: f for f in text_string_to_metric_families(scraped)}
    counts = {
        (s.labels["kind"], s.labels["status"]): s.value for s in families["failbrief_notifications"].samples
    }
    assert counts == {("slack", "sent"): 1.0, ("slack", "failed"): 1.0}


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline_and_retried(org, hook, settings):
    """httpx's timeouts are per read: a receiver sending one byte every 0.1 s never trips a 1 s read
    timeout, and would hold the worker as long as it likes. The whole send has a deadline."""
    settings.NOTIFY_TIMEOUT_SECONDS = 1.0
    settings.NOTIFY_DEADLINE_SECONDS = 1.0
    add_channel(org, "ops", "slack", {"url": hook.url("/services/T0/B0/xoxbSecretTokenValue9f3a")})
    hook.drip(0.1)  # its ~110-byte answer would take 11 s
    notification = one_pending(org)
    with http_client() as http:
        outcome = deliver(notification.pk, http)
    assert outcome.status == "retry"
    assert outcome.retry_in is not None
    assert "did not answer in time: the 1 s deadline of this send passed" in outcome.reason
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.locked_until) == ("pending", 1, None)
    assert "deadline" in notification.reason
    assert len(hook.requests) == 1


def test_a_name_server_that_does_not_answer_is_cut_off_at_the_deadline(org, channel, hook, settings):
    """The system resolver takes no timeout; a slow name server must not stretch the deadline."""
    settings.NOTIFY_DEADLINE_SECONDS = 1.0
    answered = threading.Event()

    def silent_name_server(host: str, port: int) -> list[str]:
        answered.wait(30)
        return ["127.0.0.1"]

    try:
        with http_client(resolver=silent_name_server) as http:
            outcome = deliver(one_pending(org).pk, http)
    finally:
        answered.set()
    assert outcome.status == "retry"
    assert "did not answer in time: resolving 127.0.0.1: the 1 s deadline of this send passed" in (
        outcome.reason
    )
    assert hook.requests == []


def deliver_on_own_connection(notification_id: int) -> Outcome:
    """What one worker does: its own HTTP client and database connection."""
    try:
        with http_client() as http:
            return deliver(notification_id, http)
    finally:
        connections.close_all()


@pytest.mark.services  # the cap holds across workers by the database's locks: on PostgreSQL too
@pytest.mark.django_db(transaction=True)
def test_an_org_has_at_most_its_cap_of_sends_in_flight_and_other_orgs_are_not_held_up(settings):
    settings.NOTIFY_ORG_CONCURRENCY = 2
    acme, globex = add_org("acme"), add_org("globex")
    with FakeReceiver() as stuck, FakeReceiver() as fine, ThreadPoolExecutor(4) as workers:
        stuck.hang()
        add_channel(acme, "ops", "slack", {"url": stuck.url("/services/T0/B0/acme")})
        add_channel(globex, "ops", "slack", {"url": fine.url("/services/T0/B0/globex")})
        waiting = [one_pending(acme) for _ in range(4)]
        try:
            sends = [workers.submit(deliver_on_own_connection, n.pk) for n in waiting]
            wait_for(lambda: len(stuck.requests) == 2 and sum(s.done() for s in sends) == 2, timeout=10)
            turned_away = [s.result() for s in sends if s.done()]
            assert [o.status for o in turned_away] == ["busy", "busy"]
            assert all(o.retry_in is not None and o.retry_in > 0 for o in turned_away)
            with http_client() as http:
                assert deliver(one_pending(globex).pk, http).status == "sent"
            assert len(fine.requests) == 1
        finally:
            stuck.release()
        assert sorted(s.result().status for s in sends) == ["busy", "busy", "sent", "sent"]
    attempts = sorted(Notification.objects.filter(pk__in=[n.pk for n in waiting]).values_list("attempts"))
    assert attempts == [(0,), (0,), (1,), (1,)]  # being turned away is not an attempt
    assert len(stuck.requests) == 2
