"""Prefect delivers a webhook at most once: with failbrief unreachable, the real automation's call
fails once for good, `check-prefect` shows it, and the reconciler still produces the summary."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from failbrief.events.models import FailureEvent, ReconcilerWatermark
from failbrief.events.reconcile import WATERMARK
from failbrief.events.tasks import reconcile_missed_webhooks
from failbrief.testing.fixtures import completed_summaries, wait_for
from failbrief.testing.prefect_server import free_port, run_flow
from tests.prefect.conftest import failbrief_cli, setup_prefect

pytestmark = pytest.mark.prefect


def test_a_failure_while_failbrief_is_unreachable_is_summarized_by_the_reconciler(
    real_prefect, live_server, settings
):
    server, token = real_prefect
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = datetime.now(UTC)
    setup_prefect(server, nobody)
    try:
        run_id = run_flow(server, "orders_etl.py", str(uuid.uuid4()))
        check = wait_for(lambda: _failed_check(server.api_url), timeout=30, every=0.5)
    finally:
        setup_prefect(server, live_server.url)
    assert "Webhook call failed: ConnectError" in check.stdout
    assert not FailureEvent.objects.filter(flow_run_id=run_id).exists()

    ReconcilerWatermark.objects.create(name=WATERMARK, seen_until=datetime.now(UTC))
    settings.RECONCILE_OVERLAP_SECONDS = (datetime.now(UTC) - started + timedelta(seconds=5)).total_seconds()
    assert reconcile_missed_webhooks() >= 1

    (summary,) = wait_for(lambda: completed_summaries(live_server.url, token, run_id), timeout=60, every=0.5)
    assert "Cannot convert order 0: unsupported currency None" in "\n".join(summary["evidence"])
    assert FailureEvent.objects.get(flow_run_id=run_id).shape == "reconciler"


def _failed_check(api_url: str):
    done = failbrief_cli("check-prefect", "--prefect-url", api_url, "--hours", "0.05")
    return done if done.returncode == 1 and "Webhook call failed" in done.stdout else None
