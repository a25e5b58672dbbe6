"""Webhook acknowledgement latency (store the event, enqueue it, answer 202) on PostgreSQL + Redis,
at a fixed rate, next to the same server answering a request that touches neither (the floor).

    python -m bench.webhook_ack [--rate 50] [--count 1000]
"""

from __future__ import annotations

import argparse
import json
import uuid

import httpx
import redis

from bench.harness import BROKER_URL, WEBHOOK_KEY, fixed_rate, web_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=50.0, help="requests per second")
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args()
    headers = {"X-Notification-Key": WEBHOOK_KEY, "Content-Type": "application/json"}

    def webhook(client: httpx.Client, i: int) -> int:
        body = {"body": f"Flow run bench-{i} with id {uuid.uuid4()} entered state Failed"}
        return client.post(
            f"{base}/webhooks/v1/notification/", content=json.dumps(body), headers=headers
        ).status_code

    def floor(client: httpx.Client, i: int) -> int:
        answer = client.post(f"{base}/webhooks/v1/notification/", content=b"{}")
        return 200 if answer.status_code == 401 else 500

    with web_server() as (base, _token):
        fixed_rate("warm-up", args.rate, 100, webhook)
        reference = fixed_rate("reference: same server, no key: 401, no I/O", args.rate, args.count, floor)
        ours = fixed_rate("webhook ack: store event + enqueue + 202", args.rate, args.count, webhook)
    redis.Redis.from_url(BROKER_URL).flushdb()
    print(f"rate {args.rate:.0f}/s, gunicorn 2 workers x 4 threads, PostgreSQL + Redis on 127.0.0.1")
    print(reference.line())
    print(ours.line())


if __name__ == "__main__":
    main()
