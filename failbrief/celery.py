"""The Celery app: our distributed engine. Broker from CELERY_BROKER_URL (settings.py).

This module only wires the app: it imports no task module (they import it). Workers find the tasks
by autodiscovery, and beat names its periodic tasks by their registered names."""

from __future__ import annotations

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "failbrief.settings")

app = Celery("failbrief")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["failbrief.events", "failbrief.summarize", "failbrief.notify"])


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender: Celery, **_: object) -> None:
    def every(seconds: float, task: str, name: str) -> None:
        sender.add_periodic_task(seconds, sender.signature(task), name=name)

    every(settings.REQUEUE_EVERY_SECONDS, "failbrief.events.tasks.requeue_pending_events", "requeue pending")
    every(60.0, "failbrief.summarize.tasks.fail_stuck_summaries", "fail stuck summaries")
    every(60.0, "failbrief.notify.tasks.flush_held_notifications", "flush held notifications")
    every(60.0, "failbrief.notify.tasks.requeue_notifications", "requeue notifications")
    if settings.RECONCILE_EVERY_SECONDS > 0:  # 0 turns the missed-webhook reconciler off
        every(
            settings.RECONCILE_EVERY_SECONDS,
            "failbrief.events.tasks.reconcile_missed_webhooks",
            "reconcile missed webhooks",
        )


def django_logging(**_: object) -> None:
    logging.config.dictConfig(settings.LOGGING)


# With no receiver for this signal Celery replaces the root logger's handlers with its own plain
# format, so a worker would not write JSON lines; with one, it logs as the web server does.
if settings.LOG_FORMAT == "json":
    setup_logging.connect(django_logging, weak=False)
