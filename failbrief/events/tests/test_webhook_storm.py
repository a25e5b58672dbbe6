"""A storm of webhooks: 200 distinct failures within 10 seconds, all acknowledged, each summarized
exactly once. The acknowledgement percentiles are printed (run with -s), never asserted."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from failbrief.events.models import FailureEvent
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import post_webhook, wait_for
from failbrief.testing.scenarios import captured

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

FAILURES = 200
SPREAD_SECONDS = 8.0  # inside the 10 s of the storm


def distinct_failures(fake, count: int) -> list[tuple[str, str]]:
    """`count` copies of scenario a (one failed task each) as (flow run id, call-webhook body)."""
    template = json.loads(captured("a_webhook.json")["body"])
    failures = []
    for _ in range(count):
        run_id = fake.clone_scenario("a")[template["flow_run_id"]]
        body = template | {"flow_run_id": run_id, "event_id": str(uuid.uuid4())}
        failures.append((run_id, json.dumps(body)))
    return failures


def test_two_hundred_distinct_failures_in_ten_seconds_give_two_hundred_summaries(
    live_server, default_org, fake_prefect
):
    failures = distinct_failures(fake_prefect, FAILURES)
    start = time.monotonic()

    def send(i: int) -> tuple[int, float]:
        time.sleep(max(0.0, start + i * SPREAD_SECONDS / FAILURES - time.monotonic()))
        sent = time.monotonic()
        answer = post_webhook(live_server.url, failures[i][1])
        return answer.status_code, time.monotonic() - sent

    with ThreadPoolExecutor(max_workers=32) as pool:
        answers = list(pool.map(send, range(FAILURES)))

    assert [status for status, _ in answers] == [202] * FAILURES
    acks = sorted(seconds for _, seconds in answers)
    p50, p99 = statistics.median(acks), acks[int(0.99 * (len(acks) - 1))]
    print(
        f"\nstorm: {FAILURES} webhooks in {time.monotonic() - start:.1f} s, ack p50 {p50 * 1000:.0f} ms, "
        f"p99 {p99 * 1000:.0f} ms, max {acks[-1] * 1000:.0f} ms"
    )
    done = wait_for(lambda: _all_done(), timeout=180, every=0.5)
    print(f"storm: all {FAILURES} summarized {time.monotonic() - start:.1f} s after the first webhook")
    assert done == FAILURES
    rows = LlmSession.objects.filter(session_status="completed")
    assert rows.count() == FAILURES
    assert {r.flow_run_id for r in rows} == {run_id for run_id, _ in failures}


def _all_done() -> int | None:
    done = FailureEvent.objects.filter(status="done").count()
    return done if done == FAILURES else None
