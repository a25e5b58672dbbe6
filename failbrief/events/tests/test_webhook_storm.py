"""A burst of webhooks: a few dozen distinct failures posted at once, all acknowledged, each
summarized exactly once (none lost, none doubled). The 200-webhook load version, with its
acknowledgement and completion figures, is `python -m bench.webhook_storm`."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from failbrief.events.models import FailureEvent
from failbrief.events.tasks import requeue_pending_events
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import distinct_failures

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker")]

FAILURES = 30


def test_a_burst_of_distinct_failures_gives_one_summary_each(
    live_server, default_org, fake_prefect, service_settings
):
    failures = distinct_failures(fake_prefect, FAILURES)

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(lambda f: post_webhook(live_server.url, f[1]).status_code, failures))

    assert statuses == [202] * FAILURES
    # As beat does: an event whose publish failed (a pooled broker connection an earlier test's
    # outage left dead) is re-published 10 s on; the claim keeps a re-published one from a second summary.
    service_settings.REQUEUE_AFTER_SECONDS = 10
    assert wait_for(_all_done_with_beats_requeue, timeout=120, every=0.5) == FAILURES
    assert FailureEvent.objects.count() == FAILURES
    rows = LlmSession.objects.filter(session_status="completed")
    assert rows.count() == FAILURES
    assert {r.flow_run_id for r in rows} == {run_id for run_id, _ in failures}


def _all_done_with_beats_requeue() -> int | None:
    requeue_pending_events()
    return _all_done()


def _all_done() -> int | None:
    done = FailureEvent.objects.filter(status="done").count()
    return done if done == FAILURES else None
