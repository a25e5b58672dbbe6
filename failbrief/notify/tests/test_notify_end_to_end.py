"""A failed run's webhook in, its summary out in Slack, email and a signed webhook; a broken
channel is recorded as failed and holds up neither the summary nor the other channels."""

from __future__ import annotations

import httpx
import pytest

from failbrief.notify.channels.webhook import verify_signature
from failbrief.notify.manage import add_channel
from failbrief.notify.models import Notification
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_receivers import FakeReceiver, FakeSmtp
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import dalgo_body, flow_run_id, robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

ROOT_CAUSE = "unsupported currency None"  # what the a2 run's failing task logged


@pytest.fixture
def slack():
    with FakeReceiver() as receiver:
        yield receiver


def finished(*statuses: str):
    def check():
        rows = list(Notification.objects.order_by("pk"))
        return rows if rows and all(n.status in statuses for n in rows) else None

    return check


def test_the_root_failure_reaches_slack_and_email_with_the_cause_and_the_run_link(
    live_server, default_org, slack, settings
):
    org, _ = default_org
    settings.RUN_URL_TEMPLATE = "https://dalgo.example.org/pipeline/{flow_run_id}"
    with FakeSmtp() as smtp:
        settings.EMAIL_HOST, settings.EMAIL_PORT = smtp.host, smtp.port
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"  # pytest-django sets locmem
        add_channel(org, "ops-slack", "slack", {"url": slack.url("/services/T0/B0/abcd")})
        add_channel(org, "data-team", "email", {"to": "data@acme.org"})
        run_id = flow_run_id("a2")
        assert post_webhook(live_server.url, robust_body("a2")).status_code == 202

        rows = wait_for(finished("sent", "failed"), timeout=15)

        assert [n.status for n in rows] == ["sent", "sent"]  # one per channel: the cascade is not sent
        [request] = slack.requests
        text = request.body.decode()
        assert ROOT_CAUSE in text
        assert f"https://dalgo.example.org/pipeline/{run_id}" in text
        [mail] = smtp.mails
        assert ROOT_CAUSE in mail.part("plain")
        assert ROOT_CAUSE in mail.part("html")
        summary = rows[0].summary
        assert not summary.is_cascade
        assert summary.task_name in text


def test_a_channel_that_refuses_is_recorded_failed_and_the_others_still_get_it(
    live_server, default_org, slack
):
    org, token = default_org
    with FakeReceiver() as revoked:
        revoked.fail_next(404, times=100, body=b"no_service")
        add_channel(org, "old-slack", "slack", {"url": revoked.url("/services/T0/B0/dead")})
        add_channel(org, "ops-slack", "slack", {"url": slack.url("/services/T0/B0/live")})
        assert post_webhook(live_server.url, robust_body("a2")).status_code == 202

        rows = wait_for(finished("sent", "failed"), timeout=15)

        by_channel = {n.channel.name: n for n in rows}
        assert by_channel["ops-slack"].status == "sent"
        failed = by_channel["old-slack"]
        assert (failed.status, failed.attempts) == ("failed", 1)  # a 404 would fail again: no retry
        assert "404" in failed.reason
        assert "no_service" in failed.reason
        assert len(revoked.requests) == 1
    assert LlmSession.objects.filter(is_cascade=False, session_status="completed").count() == 1
    listed = httpx.get(
        f"{live_server.url}/api/v1/notifications",
        params={"status": "failed"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    ).json()
    assert [(n["channel"], n["status"]) for n in listed] == [("old-slack", "failed")]


def test_a_rate_limited_webhook_is_retried_and_signed_the_same_way_each_time(live_server, default_org):
    org, _ = default_org
    with FakeReceiver() as hook:
        hook.fail_next(429, times=2, headers={"Retry-After": "0"})
        _, config = add_channel(org, "pager", "webhook", {"url": hook.url("/failbrief")})
        assert post_webhook(live_server.url, dalgo_body(flow_run_id("a2"), "rich-bobcat")).status_code == 202

        [row] = wait_for(finished("sent", "failed"), timeout=20)

        assert (row.status, row.attempts) == ("sent", 3)
        deliveries = {r.headers["x-failbrief-delivery"] for r in hook.requests}
        assert deliveries == {str(row.delivery_id)}  # a receiver can drop repeats by this id
        last = hook.requests[-1]
        assert verify_signature(
            config["secret"],
            last.headers["x-failbrief-timestamp"],
            last.body,
            last.headers["x-failbrief-signature"],
        )
        assert ROOT_CAUSE in last.json["root_cause"]


def test_the_same_run_notified_twice_sends_once(live_server, default_org, slack):
    """The robust and the Dalgo webhook for one run (Prefect may send both) end in one message."""
    org, _ = default_org
    add_channel(org, "ops-slack", "slack", {"url": slack.url()})
    run_id = flow_run_id("a2")
    assert post_webhook(live_server.url, robust_body("a2")).status_code == 202
    wait_for(finished("sent"), timeout=15)
    assert post_webhook(live_server.url, dalgo_body(run_id, "rich-bobcat")).status_code == 202
    wait_for(lambda: LlmSession.objects.filter(event__isnull=False).exists() and _events_done(), timeout=15)
    assert len(slack.requests) == 1
    assert Notification.objects.count() == 1


def _events_done() -> bool:
    from failbrief.events.models import FailureEvent

    return not FailureEvent.objects.exclude(status__in=["done", "failed", "unmatched", "ignored"]).exists()
