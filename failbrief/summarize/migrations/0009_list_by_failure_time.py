"""The failures list by the time each failure happened: every stored row's `failed_at` (the unit's
end time, else its webhook's state time, else when it was stored; a regenerated version's from its
first version), then the list's partial indexes on (org, [filter,] -failed_at, -id) in place of
those on (org, [filter,] -id).

The rows are written in keyset batches, each its own transaction, so no lock is held on the whole
table and a worker completing a summary waits for one batch at most; rows stored meanwhile get
their time as they are stored. On PostgreSQL the new indexes are built CONCURRENTLY before the old
ones are dropped (a migration outside a transaction), so summaries keep being stored and the list
always has an index."""

from __future__ import annotations

from typing import Any

from django.db import migrations, models, transaction
from django.db.models import OuterRef, Q, Subquery
from django.db.models.functions import Coalesce

BATCH = 5000
TABLE = "summarize_llmsession"
LISTED = Q(position=0, version=1)
OLD = {
    "summary_list": ["org"],
    "summary_list_category": ["org", "category"],
    "summary_list_deployment": ["org", "deployment_name"],
    "summary_list_flow": ["org", "flow_name"],
    "summary_list_state": ["org", "run_state"],
}
NEW = {  # as summarize.models.LIST_INDEXES (a migration keeps its own copy)
    "summary_failed": ["org"],
    "summary_failed_category": ["org", "category"],
    "summary_failed_deployment": ["org", "deployment_name"],
    "summary_failed_flow": ["org", "flow_name"],
    "summary_failed_state": ["org", "run_state"],
}


def fill_failed_at(apps: Any, schema_editor: Any) -> None:
    summaries = apps.get_model("summarize", "LlmSession")
    events = apps.get_model("events", "FailureEvent")
    state_time = Subquery(events.objects.filter(pk=OuterRef("event_id")).values("state_timestamp")[:1])
    failed_at = Coalesce("unit_ended_at", state_time, "created_at")
    last = 0
    while True:
        ids = list(summaries.objects.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:BATCH])
        if not ids:
            break
        with transaction.atomic(using=schema_editor.connection.alias):
            summaries.objects.filter(pk__gte=ids[0], pk__lte=ids[-1]).update(failed_at=failed_at)
        last = ids[-1]
    # A later version (regenerate) is the same failure as its first version.
    first = summaries.objects.filter(
        org_id=OuterRef("org_id"),
        flow_run_id=OuterRef("flow_run_id"),
        task_id=OuterRef("task_id"),
        session_type=OuterRef("session_type"),
        version=1,
    ).values("failed_at")[:1]
    with transaction.atomic(using=schema_editor.connection.alias):
        summaries.objects.filter(version__gt=1).update(failed_at=Coalesce(Subquery(first), "failed_at"))


BY_TIME, BY_ID = ["-failed_at", "-id"], ["-id"]
Indexes = dict[str, list[str]]


def _sql(name: str, fields: list[str]) -> str:
    columns = ", ".join(
        f"{f[1:]} DESC" if f.startswith("-") else ("org_id" if f == "org" else f) for f in fields
    )
    return f'CREATE INDEX CONCURRENTLY {name} ON {TABLE} ({columns}) WHERE "position" = 0 AND "version" = 1'


def _swap(
    apps: Any, schema_editor: Any, add: Indexes, add_tail: list[str], drop: Indexes, drop_tail: list[str]
) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for name, fields in add.items():
            # An interrupted concurrent build leaves an invalid index of that name behind.
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
            schema_editor.execute(_sql(name, [*fields, *add_tail]))
        for name in drop:
            schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {name}")
        schema_editor.execute(f"ANALYZE {TABLE}")
        return
    model = apps.get_model("summarize", "LlmSession")
    for name, fields in add.items():
        schema_editor.add_index(model, models.Index(fields=[*fields, *add_tail], name=name, condition=LISTED))
    for name, fields in drop.items():
        schema_editor.remove_index(
            model, models.Index(fields=[*fields, *drop_tail], name=name, condition=LISTED)
        )


def by_failure_time(apps: Any, schema_editor: Any) -> None:
    _swap(apps, schema_editor, NEW, BY_TIME, OLD, BY_ID)


def by_id(apps: Any, schema_editor: Any) -> None:
    _swap(apps, schema_editor, OLD, BY_ID, NEW, BY_TIME)


class Migration(migrations.Migration):
    atomic = False  # batches of their own; CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [("summarize", "0008_failed_at"), ("events", "0004_event_wait_reason")]

    operations = [
        migrations.RunPython(fill_failed_at, migrations.RunPython.noop, elidable=True),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                *(migrations.RemoveIndex("llmsession", name) for name in OLD),
                *(
                    migrations.AddIndex(
                        "llmsession",
                        models.Index(fields=[*fields, *BY_TIME], name=name, condition=LISTED),
                    )
                    for name, fields in NEW.items()
                ),
            ],
            database_operations=[migrations.RunPython(by_failure_time, by_id)],
        ),
    ]
