"""The failures list at scale: on PostgreSQL a trigram index for its text search, with statistics so
the planner knows a common word from a rare one; and a small index to count "seen N×" by.

The search is Django's `icontains`, which PostgreSQL runs as `UPPER(col::text) LIKE UPPER('%word%')`:
the index is on exactly those expressions (pg_trgm answers LIKE with a leading %), and only on the
listed rows (a run's root failure, first version), like the list's other indexes. Without
statistics on the expressions the planner guesses every word rare, reads the index, and sorts
every match of a common word; with them it walks the list newest first for a common word and uses
the index for a rare one (docs/pages.md, "Measured").

SQLite has no trigram index and searches by reading the org's rows, as before. On PostgreSQL the
indexes are built CONCURRENTLY (a migration outside a transaction), so webhooks keep storing
summaries meanwhile."""

from __future__ import annotations

from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

INDEX = "summary_list_search"
SEARCHED = ("root_cause", "failing_step", "task_name", "flow_name", "deployment_name")
TABLE = "summarize_llmsession"


def _expression(column: str) -> str:
    return f"UPPER({column}::text)"


def _statistics(column: str) -> str:
    return f"summary_search_{column}"


def create(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension: the database's owner may create it, no superuser needed.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    columns = ", ".join(f"({_expression(c)}) gin_trgm_ops" for c in SEARCHED)
    # An interrupted concurrent build leaves an invalid index of that name behind: start afresh.
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY {INDEX} ON {TABLE} USING gin ({columns}) "
        'WHERE "position" = 0 AND "version" = 1'
    )
    for column in SEARCHED:
        schema_editor.execute(
            f"CREATE STATISTICS IF NOT EXISTS {_statistics(column)} ON ({_expression(column)}) FROM {TABLE}"
        )
    schema_editor.execute(f"ANALYZE {TABLE}")


def drop(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in SEARCHED:
        schema_editor.execute(f"DROP STATISTICS IF EXISTS {_statistics(column)}")
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    # pg_trgm stays: something else of the database may use it.


SEEN = models.Index(fields=["org", "signature"], name="summary_seen", condition=models.Q(version=1))


def create_seen(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SEEN.name}")
        schema_editor.execute(
            f"CREATE INDEX CONCURRENTLY {SEEN.name} ON {TABLE} (org_id, signature) WHERE version = 1"
        )
    else:
        schema_editor.add_index(apps.get_model("summarize", "LlmSession"), SEEN)


def drop_seen(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {SEEN.name}")
    else:
        schema_editor.remove_index(apps.get_model("summarize", "LlmSession"), SEEN)


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("summarize", "0003_pages_list_columns"),
    ]

    operations = [
        migrations.RunPython(create, drop),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddIndex("llmsession", SEEN)],
            database_operations=[migrations.RunPython(create_seen, drop_seen)],
        ),
    ]
