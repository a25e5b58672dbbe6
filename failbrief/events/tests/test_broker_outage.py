"""The broker goes away while failures arrive: every webhook is still acknowledged, and every
event is summarized once the broker is back (beat re-enqueues what could not be published)."""

from __future__ import annotations

import os

import pytest

from failbrief.events.models import FailureEvent
from failbrief.events.tasks import requeue_pending_events
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import robust_body

pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(
        os.environ.get("FAILBRIEF_TIER") != "services",
        reason="needs a network broker (the Redis and RabbitMQ tiers)",
    ),
]


def test_twenty_webhooks_during_a_broker_outage_are_all_processed_after_it(
    live_server, default_org, broker_proxy, celery_worker, service_settings, fake_prefect
):
    service_settings.REQUEUE_AFTER_SECONDS = 0
    runs = [fake_prefect.clone_scenario("a2") for _ in range(20)]
    original = robust_body("a2")
    bodies = [_renamed(original, ids) for ids in runs]

    broker_proxy.down()
    answers = [post_webhook(live_server.url, body) for body in bodies]
    assert [a.status_code for a in answers] == [202] * 20
    assert FailureEvent.objects.filter(status="pending", enqueued_at__isnull=True).count() == 20

    broker_proxy.up()

    def beat_requeues_until_all_are_done() -> bool | None:
        # As beat does: each pass re-publishes what is still pending. The first publish after the
        # outage may meet the producer's stale connection, so a pass can send only part of them.
        requeue_pending_events()
        return FailureEvent.objects.filter(status="done").count() == 20 or None

    wait_for(beat_requeues_until_all_are_done, timeout=45, every=1.0)
    # Re-published copies of one event still make one summary per failed task.
    assert LlmSession.objects.filter(session_status="completed", is_cascade=False).count() == 20


def _renamed(body: str, ids: dict[str, str]) -> str:
    for old, new in ids.items():
        body = body.replace(old, new)
    return body
