"""The Celery app: our distributed engine. Broker from CELERY_BROKER_URL (settings.py)."""

from __future__ import annotations

import os

from celery import Celery
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "failbrief.settings")

app = Celery("failbrief")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks(["failbrief.events", "failbrief.summarize", "failbrief.sources"])


@app.on_after_finalize.connect
def schedule_periodic_tasks(sender: Celery, **_: object) -> None:
    from failbrief.events.tasks import requeue_pending_events
    from failbrief.summarize.tasks import fail_stuck_summaries

    sender.add_periodic_task(
        settings.REQUEUE_EVERY_SECONDS, requeue_pending_events.s(), name="requeue pending"
    )
    sender.add_periodic_task(60.0, fail_stuck_summaries.s(), name="fail stuck summaries")
    if settings.RECONCILE_EVERY_SECONDS > 0:  # 0 turns the missed-webhook reconciler off
        from failbrief.events.tasks import reconcile_missed_webhooks

        sender.add_periodic_task(
            settings.RECONCILE_EVERY_SECONDS, reconcile_missed_webhooks.s(), name="reconcile missed webhooks"
        )
