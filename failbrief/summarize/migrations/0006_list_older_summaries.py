"""Summaries stored before the pages listed runs by flow, deployment and state get them from their
webhook event, as new ones do; a later version (regenerate) from the unit's first version. Rows
without an event (asked for through the API) stay listed by their flow run id."""

from __future__ import annotations

from typing import Any

from django.db import migrations

BATCH = 2000
LISTED = ("flow_name", "deployment_name", "run_state")


def fill_listed_facts(apps: Any, schema_editor: Any) -> None:
    from failbrief.events.run_facts import listed_facts

    summaries = apps.get_model("summarize", "LlmSession")
    unlisted = summaries.objects.filter(flow_name="", deployment_name="", run_state="")
    last = 0
    while True:
        # Keyset batches: a large table is read and written a slice at a time.
        batch = list(
            unlisted.filter(pk__gt=last, event__isnull=False).select_related("event").order_by("pk")[:BATCH]
        )
        if not batch:
            break
        for row in batch:
            for name, value in listed_facts(row.event).items():
                setattr(row, name, value)
        summaries.objects.bulk_update(batch, LISTED)
        last = batch[-1].pk
    for row in unlisted.filter(version__gt=1).iterator(chunk_size=BATCH):
        first = (
            summaries.objects.filter(
                org_id=row.org_id,
                flow_run_id=row.flow_run_id,
                task_id=row.task_id,
                session_type=row.session_type,
                version=1,
            )
            .values_list(*LISTED)
            .first()
        )
        if first is not None and any(first):
            summaries.objects.filter(pk=row.pk).update(**dict(zip(LISTED, first, strict=True)))


class Migration(migrations.Migration):
    dependencies = [("summarize", "0005_summary_context"), ("events", "0004_event_wait_reason")]

    operations = [migrations.RunPython(fill_listed_facts, migrations.RunPython.noop, elidable=True)]
