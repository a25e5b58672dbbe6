"""A worker process SIGKILLed in the middle of a task: the broker redelivers the unacknowledged task
(`acks_late`, `reject_on_worker_lost`) to another worker, which finishes it; one summary is stored.

Redis only (the services tier). The embedded SQLite broker (kombu's sqla transport) deletes a
message when a worker receives it, so nothing is redelivered there; instead beat's
`requeue_pending_events` re-sends an event left `processing` after FAILBRIEF_STUCK_AFTER_SECONDS.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlparse

import pytest
from django.conf import settings
from django.db import connection

from failbrief.events.models import FailureEvent
from failbrief.summarize.models import LlmSession
from failbrief.testing.fixtures import IN_SERVICES_TIER, WEBHOOK_KEY, post_webhook, wait_for
from failbrief.testing.scenarios import robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("service_settings")]
VISIBILITY_SECONDS = 10  # the smallest FAILBRIEF_VISIBILITY_TIMEOUT_SECONDS allows


def worker_env(prefect_url: str) -> dict[str, str]:
    """A worker process on the test database and the real broker (not the test's proxy)."""
    database = urlparse(settings.DATABASE_URL)._replace(path="/" + connection.settings_dict["NAME"])
    return os.environ | {
        "DATABASE_URL": database.geturl(),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PREFECT_API_URL": prefect_url,
        "PREFECT_NOTIFICATIONS_WEBHOOK_KEY": WEBHOOK_KEY,
        "FAILBRIEF_VISIBILITY_TIMEOUT_SECONDS": str(VISIBILITY_SECONDS),
        "FAILBRIEF_LOG_SETTLE_SECONDS": "0.3",
        "LOG_LEVEL": "WARNING",
    }


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "celery", "-A", "failbrief.celery", "worker", "--pool", "prefork"]
    command += ["--concurrency", "1", "--loglevel", "INFO", "--without-gossip", "--without-mingle"]
    command += ["-n", f"w{uuid.uuid4().hex[:8]}@%h"]
    with open(log, "ab") as out:
        return subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def event_in(status: str, event_id: int) -> FailureEvent | None:
    event = FailureEvent.objects.get(pk=event_id)
    return event if event.status == status else None


@pytest.fixture
def workers(tmp_path):
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)


def test_a_worker_killed_mid_task_is_redelivered_and_summarized_once(
    live_server, default_org, fake_prefect, workers, tmp_path
):
    if not IN_SERVICES_TIER:
        pytest.skip("redelivery needs Redis or RabbitMQ: the SQLite broker deletes a message on receipt")
    from failbrief.celery import app

    app.control.purge()
    env, log = worker_env(fake_prefect.url), tmp_path / "workers.log"
    fake_prefect.delay(0.5)  # every Prefect call is slow: the kill lands mid-task
    workers.append(start_worker(env, log))
    event_id = post_webhook(live_server.url, robust_body("a2")).json()["event_id"]
    # Killed once it owns a summary row, which it leaves `running`: the redelivery must re-claim it.
    wait_for(lambda: LlmSession.objects.filter(session_status="running").exists(), timeout=60, every=0.1)
    assert event_in("processing", event_id)

    os.killpg(workers[0].pid, signal.SIGKILL)
    workers[0].wait(timeout=10)
    fake_prefect.delay(0)
    # A worker sweeps unacknowledged messages older than the visibility timeout when it starts
    # (and then only every unacked_restore_interval x unacked_restore_throttle = 100 s): start
    # the replacement once the killed worker's message has become visible again.
    time.sleep(VISIBILITY_SECONDS + 1)
    workers.append(start_worker(env, log))

    event = wait_for(lambda: event_in("done", event_id), timeout=VISIBILITY_SECONDS + 60, every=0.2)
    rows = LlmSession.objects.filter(flow_run_id=event.flow_run_id)
    assert sorted(r.session_status for r in rows) == ["completed", "completed"]
    assert len({r.worker_task_id for r in rows}) == 1  # the redelivered task finished its own rows
