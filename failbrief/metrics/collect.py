"""Series read at scrape time from the database and the broker. They are the same whichever
process or host answers the scrape, because they come from the shared state, not from memory."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from datetime import datetime

from celery import Celery
from django.db import DatabaseError
from django.db.models import Count, Min
from django.utils import timezone
from kombu import Connection
from prometheus_client.core import GaugeMetricFamily, Metric

from failbrief.events.models import FailureEvent
from failbrief.notify.models import Notification
from failbrief.summarize.models import LlmSession

log = logging.getLogger(__name__)
# Events not stored by a webhook: the missed-webhook reconciler's (events/reconcile.py) and
# `failbrief backfill`'s (events/backfill.py).
OTHER_SOURCES = {"reconciler", "backfill"}


class DatabaseCollector:
    """Events by status and source, the oldest pending event's age, summaries by status,
    summarizer, provider and category, notifications by channel kind and status. Four aggregate
    queries per scrape."""

    def collect(self) -> Iterator[Metric]:
        try:
            families = [
                events_by_status(),
                oldest_pending_age(),
                summaries_by_outcome(),
                notifications_by_status(),
            ]
        except DatabaseError as exc:
            log.warning("metrics: the database did not answer: %s", exc)
            yield _up("failbrief_database_up", "Whether the scrape could read the database", False)
            return
        yield _up("failbrief_database_up", "Whether the scrape could read the database", True)
        yield from families


def events_by_status() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "failbrief_events",
        "Stored failure events by status and source: webhook, reconciler (its webhook never came), backfill",
        labels=["status", "source"],
    )
    counts: dict[tuple[str, str], int] = {}
    for row in FailureEvent.objects.values("status", "shape").annotate(n=Count("id")).order_by():
        source = row["shape"] if row["shape"] in OTHER_SOURCES else "webhook"
        counts[(row["status"], source)] = counts.get((row["status"], source), 0) + row["n"]
    for (status, source), n in sorted(counts.items()):
        family.add_metric([status, source], n)
    return family


def oldest_pending_age() -> GaugeMetricFamily:
    pending = FailureEvent.objects.filter(status=FailureEvent.Status.PENDING)
    oldest: datetime | None = pending.aggregate(oldest=Min("received_at"))["oldest"]
    age = (timezone.now() - oldest).total_seconds() if oldest else 0.0
    return GaugeMetricFamily(
        "failbrief_oldest_pending_event_age_seconds",
        "How long the oldest event has waited for a worker (0 when none waits)",
        value=max(0.0, age),
    )


def summaries_by_outcome() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "failbrief_summaries",
        "Stored summaries by status, who wrote the brief (summarizer), the LLM asked (provider) and category",
        labels=["status", "summarizer", "provider", "category"],
    )
    fields = ("session_status", "summarizer", "provider", "category")
    for row in LlmSession.objects.values(*fields).annotate(n=Count("id")).order_by():
        family.add_metric([row[f] or "none" for f in fields], row["n"])
    return family


def notifications_by_status() -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "failbrief_notifications",
        "Notifications by channel kind and status (pending, sent, failed, held, folded)",
        labels=["kind", "status"],
    )
    rows = Notification.objects.values("channel__kind", "status").annotate(n=Count("id")).order_by()
    for row in rows:
        family.add_metric([row["channel__kind"], row["status"]], row["n"])
    return family


class BrokerCollector:
    """Messages waiting in each queue. A broker that does not answer gives failbrief_broker_up 0
    and no depth, rather than a failed scrape."""

    def __init__(self, app: Celery, queues: Iterable[str] | None = None, timeout: int = 2) -> None:
        self.app = app
        # Every queue the app declares (failbrief's: `celery` and `notify`).
        self.queues = list(queues or [str(name) for name in app.amqp.queues])
        self.timeout = timeout

    def collect(self) -> Iterator[Metric]:
        try:
            depths = self.depths()
        except Exception as exc:  # kombu raises transport-specific errors
            log.warning("metrics: the broker did not answer: %s: %s", type(exc).__name__, exc)
            yield _up("failbrief_broker_up", "Whether the scrape could read the broker's queues", False)
            return
        yield _up("failbrief_broker_up", "Whether the scrape could read the broker's queues", True)
        family = GaugeMetricFamily(
            "failbrief_queue_depth",
            "Tasks waiting in the broker queue (not those a worker holds)",
            labels=["queue"],
        )
        for queue, depth in depths.items():
            family.add_metric([queue], depth)
        yield family

    def depths(self) -> dict[str, int]:
        with self.app.connection_for_read() as conn:
            conn.ensure_connection(max_retries=1, timeout=self.timeout)
            return {queue: _depth(conn, queue) for queue in self.queues}


def _depth(conn: Connection, queue: str) -> int:
    with conn.channel() as channel:
        try:
            # Every transport's channel declares queues; the stubs' StdChannel does not say so.
            declared = channel.queue_declare(queue=queue, passive=True)  # type: ignore[attr-defined]
        except conn.channel_errors:
            # Redis keeps no empty queue, so "no such queue" means nothing is waiting.
            return 0
    return int(declared.message_count)


def _up(name: str, documentation: str, up: bool) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=1.0 if up else 0.0)
