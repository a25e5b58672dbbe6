"""A storm of webhooks: `--count` distinct failures (200) posted within `--spread` seconds (8) to
gunicorn (2 workers x 4 threads) and one Celery worker on PostgreSQL + Redis, with a loopback fake
Prefect and the offline summarizer. Prints the acknowledgement latency, when the last summary was
stored, and whether every failure got exactly one summary (exit 1 when one was lost or doubled).

    python -m bench.webhook_storm [--count 200] [--spread 8] [--database-url …] [--broker-url …]

`failbrief/events/tests/test_webhook_storm.py` checks the same (no loss, no duplicates) on a few
dozen webhooks in the test suite.
"""

from __future__ import annotations

import argparse
import sys
import time

import httpx
import psycopg
import redis

from bench.harness import BROKER_URL, DATABASE_URL, WEBHOOK_KEY, fixed_rate, web_server
from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.scenarios import distinct_failures

COUNTS_SQL = """
select
  (select count(*) from events_failureevent),
  (select count(*) from events_failureevent where status = 'done'),
  (select count(*) from summarize_llmsession where session_status = 'completed'),
  (select count(distinct flow_run_id) from summarize_llmsession where session_status = 'completed')
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200, help="distinct failures")
    parser.add_argument("--spread", type=float, default=8.0, help="seconds to post them in")
    parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds to wait for the summaries")
    parser.add_argument("--database-url", default=DATABASE_URL)
    parser.add_argument("--broker-url", default=BROKER_URL)
    args = parser.parse_args()
    headers = {"X-Notification-Key": WEBHOOK_KEY, "Content-Type": "application/json"}
    redis.Redis.from_url(args.broker_url).flushdb()

    with FakePrefect() as prefect:
        failures = distinct_failures(prefect, args.count)
        env = {
            "DATABASE_URL": args.database_url,
            "CELERY_BROKER_URL": args.broker_url,
            "PREFECT_API_URL": prefect.url,
            "FAILBRIEF_RECONCILE_EVERY_SECONDS": "0",
            "FAILBRIEF_LOG_SETTLE_SECONDS": "0.3",
            "FAILBRIEF_LOG_SETTLE_CAP_SECONDS": "3",
        }

        def webhook(client: httpx.Client, i: int) -> int:
            url = f"{base}/webhooks/v1/notification/"
            return client.post(url, content=failures[i][1], headers=headers).status_code

        def unsigned(client: httpx.Client, i: int) -> int:
            # No key: 401 without touching the database or the broker; warms every gunicorn thread.
            answer = client.post(f"{base}/webhooks/v1/notification/", content=b"{}")
            return 200 if answer.status_code == 401 else 500

        with web_server(env=env, celery_concurrency=args.concurrency) as (base, _token):
            fixed_rate("warm-up", 50, 100, unsigned)
            start = time.monotonic()
            acks = fixed_rate(
                "webhook ack: store event + enqueue + 202", args.count / args.spread, args.count, webhook
            )
            posted = time.monotonic() - start
            counts = wait_for_summaries(args.database_url, args.count, args.deadline)
            summarized = time.monotonic() - start
    redis.Redis.from_url(args.broker_url).flushdb()
    events, done, completed, distinct = counts
    lost, doubled = args.count - distinct, completed - distinct
    print(f"{args.count} distinct failures posted in {posted:.1f} s; gunicorn 2 workers x 4 threads,")
    print(f"one Celery worker of {args.concurrency} processes, PostgreSQL + Redis on 127.0.0.1")
    print(acks.line())
    if done == args.count:
        print(f"all {done} events done {summarized:.1f} s after the first webhook")
    else:
        print(f"only {done} of {args.count} events done after {summarized:.1f} s")
    print(f"events {events}, summaries {completed} for {distinct} runs: lost {lost}, doubled {doubled}")
    if lost or doubled or acks.errors or events != args.count:
        sys.exit(1)


def wait_for_summaries(database_url: str, count: int, deadline: float) -> tuple[int, int, int, int]:
    """(events, events done, completed summaries, runs with one) once every event is done, or at
    the deadline."""
    give_up = time.monotonic() + deadline
    while True:
        with psycopg.connect(database_url) as conn:
            row = conn.execute(COUNTS_SQL).fetchone()
        assert row is not None
        counts = (int(row[0]), int(row[1]), int(row[2]), int(row[3]))
        if counts[1] >= count or time.monotonic() > give_up:
            return counts
        time.sleep(0.25)


if __name__ == "__main__":
    main()
