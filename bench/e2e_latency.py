"""End-to-end latency on a real Prefect 3.9.1 server: a flow run fails, Prefect's automation (made by
`failbrief setup-prefect`) posts the webhook, failbrief (gunicorn + a Celery worker on PostgreSQL and
Redis, offline summarizer) stores the summary and sends it to a signed-webhook channel (a loopback
receiver in this process).

    python -m bench.e2e_latency [--runs 20] [--pause 2]

Per run, on one machine clock: Prefect's delivery (failed state timestamp -> webhook stored), ours
(webhook stored -> summary stored), the part of ours spent waiting for Prefect's logs to settle
(the flow process ships them every 2 s, after the webhook), ours without that wait, and the
notification (summary stored -> the channel's receiver got it).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import cast

import psycopg

from bench.harness import ROOT, cli, free_port, server_env
from failbrief.testing.fake_receivers import FakeReceiver
from failbrief.testing.prefect_server import FLOWS, PrefectServer, running_server, stop_group

# Its own database and Redis db, so it can run next to the other benchmarks.
DATABASE = "failbrief_bench_e2e"
DATABASE_URL = f"postgresql://postgres@127.0.0.1:5432/{DATABASE}"
BROKER_URL = "redis://127.0.0.1:6379/13"

SUMMARIES_SQL = """
select e.flow_run_id, e.state_timestamp, e.received_at, s.updated_at, s.timings
from summarize_llmsession s join events_failureevent e on e.id = s.event_id
where s.session_status = 'completed' and not s.is_cascade and e.flow_run_id = any(%s)
"""


@dataclass(frozen=True)
class Run:
    delivery: float  # Prefect: failed state -> webhook stored by us
    ours: float  # webhook stored -> summary stored
    settle: float  # of `ours`, waiting for Prefect's logs to settle
    notified: float | None  # summary stored -> the notification received; None if it never came

    @property
    def ours_without_settle(self) -> float:
        return self.ours - self.settle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between failing runs")
    args = parser.parse_args()
    fresh_database()
    with (
        tempfile.TemporaryDirectory() as home,
        running_server(Path(home)) as prefect,
        FakeReceiver() as receiver,
        failbrief(prefect, receiver),
    ):
        print(f"Prefect 3.9.1 healthy after {prefect.startup_seconds:.1f} s; {args.runs} failing runs ...")
        run_ids = failing_runs(prefect, args.runs, args.pause)
        runs = collect(run_ids, receiver, deadline=time.monotonic() + 60 + 5 * args.runs)
    report(runs, args.runs)


def fresh_database() -> None:
    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DATABASE} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DATABASE}")


@contextmanager
def failbrief(prefect: PrefectServer, receiver: FakeReceiver) -> Iterator[None]:
    """gunicorn and one Celery worker (2 processes) on a fresh database, with Prefect set up to post
    to them and the org's summaries sent to `receiver` (on loopback, hence ALLOW_PRIVATE). The
    reconciler is off: every summary here comes from a webhook. The repeat window is 0: every run
    fails the same way, and each is to be sent."""
    port = free_port()
    env = server_env(port) | {"DATABASE_URL": DATABASE_URL, "CELERY_BROKER_URL": BROKER_URL}
    env |= {"PREFECT_API_URL": prefect.api_url, "FAILBRIEF_RECONCILE_EVERY_SECONDS": "0"}
    env |= {"FAILBRIEF_NOTIFY_REPEAT_WINDOW_SECONDS": "0", "FAILBRIEF_NOTIFY_ALLOW_PRIVATE": "true"}
    cli(env, "org", "add", "bench", "--default")
    cli(env, "channel", "add", "bench", "receiver", "--kind", "webhook", "--url", receiver.url("/failbrief"))
    cli(env, "setup-prefect", "--prefect-url", prefect.api_url, "--public-url", f"http://127.0.0.1:{port}")
    bin_dir = Path(sys.executable).parent
    web = [str(bin_dir / "gunicorn"), "failbrief.wsgi:application", "--bind", f"127.0.0.1:{port}"]
    worker = [str(bin_dir / "celery"), "-A", "failbrief.celery", "worker", "--concurrency", "2"]
    procs = [_spawn([*web, "--workers", "2"], env), _spawn([*worker, "--loglevel", "WARNING"], env)]
    try:
        yield
    finally:
        for proc in procs:
            stop_group(proc)


def _spawn(command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True)


def failing_runs(prefect: PrefectServer, count: int, pause: float) -> list[str]:
    """Run orders_etl.py `count` times in one process, `pause` s apart; their flow run ids."""
    done = subprocess.run(
        [str(prefect.python), str(FLOWS / "orders_etl.py"), "bench", str(count), str(pause)],
        env=prefect.client_env(),
        capture_output=True,
        text=True,
        timeout=120 + count * (pause + 10),
    )
    ids = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("FLOW_RUN_ID ")]
    if len(ids) != count:
        raise RuntimeError(f"expected {count} flow runs, got {len(ids)}:\n{done.stderr[-3000:]}")
    return ids


def collect(run_ids: list[str], receiver: FakeReceiver, deadline: float) -> list[Run]:
    """The figures of every run once all are summarized and notified (or at the deadline, those
    that are)."""
    rows: list[tuple[object, ...]] = []
    while time.monotonic() < deadline:
        with psycopg.connect(DATABASE_URL) as conn:
            rows = conn.execute(SUMMARIES_SQL, (run_ids,)).fetchall()
        if len(rows) >= len(run_ids) and len(notified_at(receiver)) >= len(run_ids):
            break
        time.sleep(0.5)
    arrivals = notified_at(receiver)
    return [_run(row, arrivals) for row in rows]


def notified_at(receiver: FakeReceiver) -> dict[str, float]:
    """When the receiver got each flow run's notification (the first copy)."""
    arrivals: dict[str, float] = {}
    for request in receiver.requests:
        arrivals.setdefault(str(request.json["flow_run_id"]), request.received_at)
    return arrivals


def _run(row: tuple[object, ...], arrivals: dict[str, float]) -> Run:
    flow_run_id, failed_at, received_at, stored_at, timings = row
    if not all(isinstance(t, datetime) for t in (failed_at, received_at, stored_at)):
        raise TypeError(f"unexpected row {row!r}")
    failed_at, received_at, stored_at = cast(
        tuple[datetime, datetime, datetime], (failed_at, received_at, stored_at)
    )
    arrived = arrivals.get(str(flow_run_id))
    return Run(
        delivery=received_at.timestamp() - failed_at.timestamp(),
        ours=stored_at.timestamp() - received_at.timestamp(),
        settle=float(timings.get("logs_waited", 0.0)) if isinstance(timings, dict) else 0.0,
        notified=None if arrived is None else arrived - stored_at.timestamp(),
    )


def report(runs: list[Run], asked: int) -> None:
    print(f"{len(runs)} of {asked} runs summarized (offline summarizer, PostgreSQL + Redis, 2-core machine)")
    if len(runs) < 2:
        return
    figures = {
        "Prefect delivery: failed state -> webhook stored": [r.delivery for r in runs],
        "failbrief: webhook stored -> summary stored": [r.ours for r in runs],
        "  of which waiting for Prefect's logs to settle": [r.settle for r in runs],
        "failbrief without the log settle wait": [r.ours_without_settle for r in runs],
        "notification: summary stored -> receiver got it": [
            r.notified for r in runs if r.notified is not None
        ],
    }
    for label, seconds in figures.items():
        print(f"{label:<52} {percentiles(seconds) if len(seconds) > 1 else f'{len(seconds)} values'}")
    print(f"notifications received for {sum(r.notified is not None for r in runs)} of {len(runs)} summaries")


def percentiles(seconds: list[float]) -> str:
    ms = sorted(s * 1000 for s in seconds)
    p95 = statistics.quantiles(ms, n=20, method="inclusive")[18]
    return f"p50 {statistics.median(ms):7.0f} ms  p95 {p95:7.0f} ms  max {ms[-1]:7.0f} ms"


if __name__ == "__main__":
    main()
