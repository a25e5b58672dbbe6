"""Upgrading lists the summaries stored before the pages had flow, deployment and state columns by
what their webhook said, as new ones are."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("summarize", "0003_pages_list_columns"), ("events", "0004_event_wait_reason")]
AFTER = [("summarize", "0006_list_older_summaries")]


@pytest.mark.django_db(transaction=True)
def test_older_rows_take_flow_deployment_and_state_from_their_event_and_first_version():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    apps = executor.loader.project_state(BEFORE).apps
    org = apps.get_model("orgs", "Org").objects.create(slug="acme", name="Acme")
    event = apps.get_model("events", "FailureEvent").objects.create(
        raw_body=json.dumps(
            {"flow_name": "orders_etl", "deployment_name": "nightly", "state_name": "Crashed"}
        ),
        shape="robust",
        flow_run_id="run-1",
        flow_run_name="crimson-fox",
        state_name="Crashed",
        dedup_key="run-1|Crashed|1",
    )
    summaries = apps.get_model("summarize", "LlmSession")
    unit = {"org": org, "flow_run_id": "run-1", "task_id": "task-1"}
    first = summaries.objects.create(**unit, event=event, version=1)
    regenerated = summaries.objects.create(**unit, version=2)
    asked_for = summaries.objects.create(org=org, flow_run_id="run-2", task_id="task-2")

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    summaries = executor.loader.project_state(AFTER).apps.get_model("summarize", "LlmSession")
    assert summaries.objects.filter(pk=first.pk).values_list(
        "flow_name", "deployment_name", "run_state"
    ).get() == (
        "orders_etl",
        "nightly",
        "Crashed",
    )
    assert summaries.objects.filter(pk=regenerated.pk).values_list("flow_name", "deployment_name").get() == (
        "orders_etl",
        "nightly",
    )
    assert summaries.objects.filter(pk=asked_for.pk).values_list("flow_name", "run_state").get() == ("", "")
    # Leave the database as the other tests expect it: every migration applied.
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
