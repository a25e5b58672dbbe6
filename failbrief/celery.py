"""The Celery app: our distributed engine. Broker from CELERY_BROKER_URL (settings.py)."""

from __future__ import annotations

import logging.config
import os

from celery import Celery
from celery.signals import setup_logging
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "failbrief.settings")

app = Celery("failbrief")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["failbrief.events", "failbrief.summarize", "failbrief.sources", "failbrief.notify"])


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender: Celery, **_: object) -> None:
    from failbrief.events.tasks import requeue_pending_events
    from failbrief.summarize.tasks import fail_stuck_summaries

    sender.add_periodic_task(
        settings.REQUEUE_EVERY_SECONDS, requeue_pending_events.s(), name="requeue pending"
    )
    sender.add_periodic_task(60.0, fail_stuck_summaries.s(), name="fail stuck summaries")
    from failbrief.notify.tasks import flush_held_notifications, requeue_notifications

    sender.add_periodic_task(60.0, flush_held_notifications.s(), name="flush held notifications")
    sender.add_periodic_task(60.0, requeue_notifications.s(), name="requeue notifications")
    if settings.RECONCILE_EVERY_SECONDS > 0:  # 0 turns the missed-webhook reconciler off
        from failbrief.events.tasks import reconcile_missed_webhooks

        sender.add_periodic_task(
            settings.RECONCILE_EVERY_SECONDS, reconcile_missed_webhooks.s(), name="reconcile missed webhooks"
        )


def django_logging(**_: object) -> None:
    logging.config.dictConfig(settings.LOGGING)


# With no receiver for this signal Celery replaces the root logger's handlers with its own plain
# format, so a worker would not write JSON lines; with one, it logs as the web server does.
if settings.LOG_FORMAT == "json":
    setup_logging.connect(django_logging, weak=False)
