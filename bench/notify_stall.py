"""Do hanging notification channels hold up other runs' summaries? `failbrief run` (what `make run`
starts) on PostgreSQL + Redis with a loopback fake Prefect and the offline summarizer.

    python -m bench.notify_stall [--runs 5] [--channels 10] [--database-url …] [--broker-url …]

Reference: `--runs` failed runs of org `other` (no channels), one a second; per run, webhook stored
-> summary stored. Then org `acme` gets `--channels` Slack channels at a receiver that never
answers, one of its runs fails (so its sends hang), and `--runs` more runs of `other` are timed the
same way. Both figures come from the same server in the same run. The channel timeouts are the
defaults (FAILBRIEF_NOTIFY_TIMEOUT_SECONDS 10; FAILBRIEF_NOTIFY_DEADLINE_SECONDS 15 where it exists).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import psycopg

from bench.harness import ROOT, VAULT_KEY, free_port
from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.fake_receivers import FakeReceiver
from failbrief.testing.scenarios import captured, robust_body

GLOBAL_KEY = "bench-webhook-key"  # runs under it belong to the default org, acme
OTHER_KEY = "bench-other-webhook-key"
SETUP = """
import sys
from failbrief.cli.django_setup import setup_django
setup_django()
from failbrief.orgs.manage import add_org
add_org("acme", default=True)
add_org("other", webhook_key=sys.argv[1])
"""
ADD_CHANNELS = """
import sys
from failbrief.cli.django_setup import setup_django
setup_django()
from failbrief.notify.manage import add_channel
from failbrief.orgs.manage import get_org
url, count = sys.argv[1], int(sys.argv[2])
for i in range(count):
    add_channel(get_org("acme"), f"stuck-{i}", "slack", {"url": f"{url}/services/T0/B0/{i}"})
"""
LATENCY_SQL = """
select e.flow_run_id, extract(epoch from max(s.updated_at) - e.received_at)
from summarize_llmsession s join events_failureevent e on e.id = s.event_id
where s.session_status = 'completed' and not s.is_cascade and e.flow_run_id = any(%s)
group by e.flow_run_id, e.received_at
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--channels", type=int, default=10)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/fb_notify")
    parser.add_argument("--broker-url", default="redis://127.0.0.1:6379/12")
    parser.add_argument("--deadline", type=float, default=300.0, help="seconds to wait for each phase")
    args = parser.parse_args()
    fresh_database(args.database_url)
    with FakePrefect() as prefect, FakeReceiver() as stuck, failbrief(args, prefect) as (base, env):
        stuck.hang()
        subprocess.run([sys.executable, "-c", SETUP, OTHER_KEY], env=env, check=True)
        reference = timed_runs(base, prefect, args, "reference")
        add = [sys.executable, "-c", ADD_CHANNELS, stuck.base_url, str(args.channels)]
        subprocess.run(add, env=env, check=True)
        post(base, prefect, GLOBAL_KEY)  # acme's run: its sends hang
        wait_until(lambda: len(stuck.requests) >= 2, args.deadline)
        stalled = timed_runs(base, prefect, args, "stalled")
        hanging = len(stuck.requests)
        stuck.release()
    print(f"other org's summary latency, webhook stored -> summary stored ({args.runs} runs each):")
    print(f"  reference, no hanging channels          {describe(reference, args.runs)}")
    print(f"  with {args.channels} of acme's channels hanging     {describe(stalled, args.runs)}")
    print(f"  acme's sends that reached the hanging receiver meanwhile: {hanging}")


def fresh_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def failbrief(args: argparse.Namespace, prefect: FakePrefect) -> Iterator[tuple[str, dict[str, str]]]:
    """`failbrief run` on a fresh database; yields its base URL and environment."""
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": args.database_url,
        "CELERY_BROKER_URL": args.broker_url,
        "SECRET_KEY": "bench-only-secret",
        "FAILBRIEF_VAULT_KEY": VAULT_KEY,
        "PORT": str(port),
        "PREFECT_API_URL": prefect.url,
        "PREFECT_NOTIFICATIONS_WEBHOOK_KEY": GLOBAL_KEY,
        "FAILBRIEF_RECONCILE_EVERY_SECONDS": "0",
        "FAILBRIEF_LOG_SETTLE_SECONDS": "0.3",
        "FAILBRIEF_LOG_SETTLE_CAP_SECONDS": "3",
        "FAILBRIEF_NOTIFY_ALLOW_PRIVATE": "true",  # the receiver is on 127.0.0.1
        "LOG_LEVEL": "WARNING",
    }
    with tempfile.TemporaryDirectory() as var:
        env["FAILBRIEF_VAR_DIR"] = var
        subprocess.run(
            [sys.executable, "-m", "failbrief.cli", "migrate"], env=env, check=True, capture_output=True
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "failbrief.cli", "run"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _answers(f"{base}/healthz"), 60)
            yield base, env
        finally:
            os.killpg(proc.pid, 2)  # SIGINT, as Ctrl-C
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)


def timed_runs(base: str, prefect: FakePrefect, args: argparse.Namespace, label: str) -> list[float]:
    """Post `args.runs` failures of org `other`, one a second; the latency of each that was
    summarized within the deadline."""
    run_ids = []
    for _ in range(args.runs):
        run_ids.append(post(base, prefect, OTHER_KEY, org="other"))
        time.sleep(1.0)
    done: dict[str, float] = {}
    deadline = time.monotonic() + args.deadline
    while len(done) < len(run_ids) and time.monotonic() < deadline:
        with psycopg.connect(args.database_url) as conn:
            done = {str(run): float(s) for run, s in conn.execute(LATENCY_SQL, (run_ids,)).fetchall()}
        time.sleep(0.2)
    if len(done) < len(run_ids):
        print(f"{label}: {len(run_ids) - len(done)} of {len(run_ids)} not summarized in {args.deadline:g} s")
    return list(done.values())


def post(base: str, prefect: FakePrefect, key: str, org: str | None = None) -> str:
    """A fresh copy of scenario a2 fails (tagged `org:<org>` when given: an org's own webhook key
    starts work only for runs that name the org); its flow run id."""
    ids = prefect.clone_scenario("a2")
    if org is not None:
        run = json.loads(renamed(json.dumps(captured("a2_flow_run.json")), ids))
        prefect.add_flow_run(run | {"tags": [f"org:{org}"]})
    body = renamed(robust_body("a2"), ids)
    headers = {"Content-Type": "application/json", "X-Notification-Key": key}
    answer = httpx.post(f"{base}/webhooks/v1/notification/", content=body, headers=headers, timeout=10)
    answer.raise_for_status()
    return ids[prefect.flow_run_id_of("a2")]


def renamed(text: str, ids: dict[str, str]) -> str:
    for old, new in ids.items():
        text = text.replace(old, new)
    return text


def describe(seconds: list[float], asked: int) -> str:
    if not seconds:
        return f"none of {asked} summarized"
    ms = sorted(s * 1000 for s in seconds)
    return f"p50={statistics.median(ms):8.0f} ms  max={ms[-1]:8.0f} ms  ({len(ms)} of {asked})"


def wait_until(check: Callable[[], object], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing after {timeout} s")


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.TransportError:
        return False


if __name__ == "__main__":
    main()
