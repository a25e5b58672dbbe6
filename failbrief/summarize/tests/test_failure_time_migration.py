"""Upgrading gives every stored summary the time its failure happened, so the failures list shows,
orders and date-filters the rows stored before `failed_at` existed as it does new ones."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("summarize", "0007_unit_ended_at"), ("events", "0004_event_wait_reason")]
AFTER = [("summarize", "0009_list_by_failure_time")]
ENDED = datetime(2024, 5, 1, 3, 4, tzinfo=UTC)
STATED = datetime(2024, 5, 2, 5, 6, tzinfo=UTC)


@pytest.mark.django_db(transaction=True)
def test_stored_rows_take_the_units_end_else_the_webhooks_state_time_else_when_they_were_stored():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    org = apps.get_model("orgs", "Org").objects.create(slug="acme", name="Acme")
    event = apps.get_model("events", "FailureEvent").objects.create(
        raw_body="{}",
        shape="backfill",
        flow_run_id="run-1",
        flow_run_name="crimson-fox",
        state_name="Failed",
        state_timestamp=STATED,
        dedup_key="run-1|Failed|1",
    )
    summaries = apps.get_model("summarize", "LlmSession")
    ended = summaries.objects.create(
        org=org, flow_run_id="run-1", task_id="t1", event=event, unit_ended_at=ENDED
    )
    regenerated = summaries.objects.create(org=org, flow_run_id="run-1", task_id="t1", version=2)
    stated = summaries.objects.create(org=org, flow_run_id="run-1", task_id="t2", event=event)
    asked_for = summaries.objects.create(org=org, flow_run_id="run-2", task_id="t3")
    stored = datetime(2024, 6, 1, tzinfo=UTC)
    summaries.objects.filter(pk=asked_for.pk).update(created_at=stored)

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    summaries = executor.loader.project_state(AFTER).apps.get_model("summarize", "LlmSession")
    failed = dict(summaries.objects.values_list("pk", "failed_at"))
    assert failed[ended.pk] == ENDED
    assert failed[regenerated.pk] == ENDED  # a later version is the same failure
    assert failed[stated.pk] == STATED
    assert abs(failed[asked_for.pk] - stored) < timedelta(seconds=1)
    # Leave the database as the other tests expect it: every migration applied.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
