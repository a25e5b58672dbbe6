"""The read API: Bearer tokens per org, summaries by run, by id, and as pages."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from failbrief.summarize.models import LlmSession
from failbrief.summarize.store import claim_summary, complete_summary, link_runs, new_version

RUN = "0b59dfe2-2741-41e2-8685-dbc036b23e5d"
SUBFLOW = "350bade4-02c0-409c-8eda-e43d40bdb33f"


def stored(org, flow_run_id=RUN, task_id="t-1", position=0, root_cause="boom") -> LlmSession:
    row, _ = claim_summary(org, flow_run_id, task_id, "test", position=position, task_name=f"task {task_id}")
    link_runs(row, [flow_run_id, SUBFLOW])
    complete_summary(
        row,
        root_cause=root_cause,
        category="code_bug",
        evidence=[root_cause],
        response=[{"prompt": "Summary", "response": root_cause}],
    )
    row.refresh_from_db()
    return row


def client_for(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_it_lists_a_runs_summaries_root_failure_first(two_orgs):
    (org, token), _ = two_orgs
    stored(org, task_id="later", position=1)
    stored(org, task_id="root", position=0)
    body = client_for(token).get(f"/api/v1/flow-runs/{RUN}/summaries").json()
    assert body["flow_run_id"] == RUN
    assert [s["task_id"] for s in body["summaries"]] == ["root", "later"]
    assert body["summaries"][0]["root_cause"] == "boom"


def test_a_subflow_id_finds_the_same_summaries(two_orgs):
    (org, token), _ = two_orgs
    row = stored(org)
    body = client_for(token).get(f"/api/v1/flow-runs/{SUBFLOW}/summaries").json()
    assert [s["id"] for s in body["summaries"]] == [row.pk]


def test_org_a_cannot_read_org_bs_runs(two_orgs):
    (org_a, _), (_, token_b) = two_orgs
    row = stored(org_a)
    as_b = client_for(token_b)
    assert as_b.get(f"/api/v1/flow-runs/{RUN}/summaries").status_code == 404
    assert as_b.get(f"/api/v1/summaries/{row.pk}").status_code == 404
    assert as_b.get(f"/api/tasks/stp/{row.request_uuid}").status_code == 404
    assert as_b.get("/api/v1/summaries").json()["summaries"] == []


@pytest.mark.parametrize("header", [None, "Bearer nope", "Basic abc"])
def test_every_api_route_needs_a_valid_token(two_orgs, header):
    (org, _), _ = two_orgs
    row = stored(org)
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    for path in (
        f"/api/v1/flow-runs/{RUN}/summaries",
        f"/api/v1/summaries/{row.pk}",
        "/api/v1/summaries",
        f"/api/tasks/stp/{row.request_uuid}",
        f"/api/prefect/v1/flow_runs/{RUN}/logsummary?task_id=t-1",
    ):
        answer = client.get(path)
        assert answer.status_code == 401, path
        assert "detail" in answer.json()


def test_a_stored_summary_is_completed_on_the_first_poll(two_orgs):
    (org, token), _ = two_orgs
    row = stored(org, task_id="t-1")
    client = client_for(token)
    handle = client.get(f"/api/prefect/v1/flow_runs/{RUN}/logsummary?task_id=t-1").json()["task_id"]
    assert handle == str(row.request_uuid)
    progress = client.get(f"/api/tasks/stp/{handle}").json()["progress"]
    assert progress[-1] == {
        "message": "Summary ready",
        "status": "completed",
        "result": [{"prompt": "Summary", "response": "boom"}],
    }


def test_the_list_pages_with_a_cursor_and_filters_by_status(two_orgs):
    (org, token), _ = two_orgs
    rows = [stored(org, task_id=f"t-{i}") for i in range(5)]
    running = new_version(rows[0])
    client = client_for(token)
    first = client.get("/api/v1/summaries?limit=2").json()
    assert [s["id"] for s in first["summaries"]] == [running.pk, rows[4].pk]
    second = client.get(f"/api/v1/summaries?limit=2&cursor={first['next_cursor']}").json()
    assert [s["id"] for s in second["summaries"]] == [rows[3].pk, rows[2].pk]
    only_running = client.get("/api/v1/summaries?status=running").json()["summaries"]
    assert [s["id"] for s in only_running] == [running.pk]


def test_one_summary_carries_its_condensed_context_and_the_lists_do_not(two_orgs):
    (org, token), (_, token_b) = two_orgs
    row, _ = claim_summary(org, RUN, "t-ctx", "test")
    context = "Failed unit: load (Failed)\nERROR relation orders does not exist"
    complete_summary(row, root_cause="orders is missing", evidence=[context.splitlines()[1]], context=context)
    old = stored(org, task_id="t-old")  # stored before contexts were kept
    client = client_for(token)
    assert client.get(f"/api/v1/summaries/{row.pk}").json()["context"] == context
    assert client.get(f"/api/v1/summaries/{old.pk}").json()["context"] is None
    listed = client.get("/api/v1/summaries").json()["summaries"]
    by_run = client.get(f"/api/v1/flow-runs/{RUN}/summaries").json()["summaries"]
    assert [s for s in [*listed, *by_run] if "context" in s] == []
    assert client_for(token_b).get(f"/api/v1/summaries/{row.pk}").status_code == 404


@pytest.mark.parametrize("query", ["limit=0", "limit=500", "cursor=abc", "status=bogus", "since=yesterday"])
def test_bad_list_parameters_get_a_4xx_json_error(two_orgs, query):
    (_, token), _ = two_orgs
    answer = client_for(token).get(f"/api/v1/summaries?{query}")
    assert 400 <= answer.status_code < 500
    assert "detail" in answer.json()


def test_the_newest_completed_version_is_the_one_shown(two_orgs):
    (org, token), _ = two_orgs
    old = stored(org, task_id="t-1", root_cause="old cause")
    newer = new_version(old)
    complete_summary(newer, root_cause="new cause")
    new_version(old)  # a third, still running, is not shown over a completed one
    (summary,) = client_for(token).get(f"/api/v1/flow-runs/{RUN}/summaries").json()["summaries"]
    assert (summary["version"], summary["root_cause"]) == (2, "new cause")


def test_unknown_summary_ids_are_404(two_orgs):
    (_, token), _ = two_orgs
    client = client_for(token)
    assert client.get("/api/v1/summaries/999999").status_code == 404
    assert client.get("/api/tasks/stp/not-a-uuid").status_code == 404
    assert client.get(f"/api/v1/flow-runs/{RUN}/summaries").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        f"/api/prefect/v1/flow_runs/{RUN}/logsummary?task_id=t-1",
        "/api/airbyte/v1/connections/6f1c2a9e-3b7d-4e52-9a1f-0c8d2b7e4a15/logsummary?job_id=1",
    ],
)
def test_the_dalgo_triggers_are_gets_as_in_dalgo(two_orgs, path):
    (_, token), _ = two_orgs
    answer = client_for(token).post(path)
    assert answer.status_code == 405
    assert answer["Allow"] == "GET"


def test_a_summary_says_when_its_failure_happened_not_only_when_it_was_stored(two_orgs):
    # A backfilled failure of last week is stored today: a client building a timeline needs the
    # failure's own time, as the pages list by.
    (org, token), _ = two_orgs
    ended = datetime(2026, 11, 24, 23, 37, 53, tzinfo=UTC)
    row, _ = claim_summary(org, RUN, "t-old", "test", unit_ended_at=ended)
    complete_summary(row, root_cause="boom", category="code_bug", evidence=["boom"])

    [summary] = client_for(token).get(f"/api/v1/flow-runs/{RUN}/summaries").json()["summaries"]

    assert summary["failed_at"] == "2026-11-24T23:37:53Z"
    assert summary["created_at"] > summary["failed_at"]
