"""Whatever a token holder sends, every API answer is JSON and no input makes it a 500.

Runs on SQLite and, in the services tiers, on PostgreSQL, which refuses NUL characters that SQLite
stores. Values are sent as bytes on the wire (percent-encoded) so that NUL, invalid UTF-8 and
over-long numbers all reach the server, not only what a well-behaved client would send."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote, quote_from_bytes

import pytest
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from failbrief.orgs.manage import add_org, create_token

pytestmark = pytest.mark.services

RUN = "168dcf82-4af3-4c87-a159-01c7d0b6341c"
CONNECTION = "6f1c2a9e-3b7d-4e52-9a1f-0c8e4b2d7a10"
PATHS = [  # (method, path with {} for the fuzzed segment)
    ("GET", "/api/v1/flow-runs/{}/summaries"),
    ("GET", "/api/v1/summaries/{}"),
    ("POST", "/api/v1/summaries/{}/regenerate"),
    ("DELETE", "/api/v1/channels/{}"),
    ("POST", "/api/v1/channels/{}/test"),
    ("GET", "/api/tasks/stp/{}"),
    ("GET", "/api/prefect/v1/flow_runs/{}/logsummary?task_id=" + RUN),
    ("GET", "/api/airbyte/v1/connections/{}/logsummary?job_id=1"),
]
QUERIES = [  # (path, its query parameters)
    ("/api/v1/summaries", ["status", "since", "limit", "cursor"]),
    ("/api/v1/notifications", ["status", "channel", "flow_run_id", "limit"]),
    (f"/api/prefect/v1/flow_runs/{RUN}/logsummary", ["task_id", "regenerate"]),
    (f"/api/airbyte/v1/connections/{CONNECTION}/logsummary", ["job_id", "attempt_number", "regenerate"]),
]
BODIES = [  # (method, path, fields of its JSON body)
    ("POST", "/api/v1/org/llm-optin", ["optin", "by"]),
    ("POST", "/api/v1/channels", ["name", "kind", "config"]),
    ("PATCH", "/api/v1/channels/ops", ["enabled"]),
]
# On the wire a value is bytes: NUL, invalid UTF-8 ("\xed\xa0\x80" is a UTF-8-encoded surrogate).
wire_values = (
    st.binary(max_size=40).map(lambda b: quote_from_bytes(b, safe=""))
    | st.text(max_size=40).map(lambda t: quote(t, safe=""))
    | st.integers().map(str)
    | st.sampled_from(["²", "9" * 40, "-1", "9999-12-31T23:59:59-23:59", "0001-01-01T00:00:00+23:59"]).map(
        lambda t: quote(t, safe="")
    )
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=8,
)
fuzz = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture
def client(db: None, service_settings: Any) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(add_org('acme', default=True))}")


def assert_json_answer(answer: Any) -> None:
    assert answer.status_code < 500, answer.content[:300]
    body = answer.json()  # never an HTML page
    if answer.status_code >= 400:
        assert body["detail"], body


@fuzz
@given(target=st.sampled_from(PATHS), value=wire_values)
@example(target=PATHS[0], value="%00")
@example(target=PATHS[3], value="x" * 5000)
@example(target=PATHS[5], value="%ED%A0%80")
def test_no_path_segment_makes_the_api_fail(client, target, value):
    method, path = target
    assert_json_answer(client.generic(method, path.replace("{}", value, 1)))


@fuzz
@given(target=st.sampled_from(QUERIES), data=st.data())
def test_no_query_parameter_makes_the_api_fail(client, target, data):
    path, names = target
    chosen = data.draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
    query = "&".join(f"{quote(name)}={data.draw(wire_values)}" for name in chosen)
    assert_json_answer(client.get(f"{path}?{query}"))


@pytest.mark.parametrize(
    "query",
    [
        "cursor=%C2%B2",  # "²": isdigit() says yes, int() says no
        "cursor=99999999999999999999999",
        "since=9999-12-31T23:59:59-23:59",
        "since=0001-01-01T00:00:00%2B23:59",
        "status=%00",
        "cursor=1%00",
    ],
)
def test_the_crafted_list_parameters_are_a_4xx(client, query):
    answer = client.get(f"/api/v1/summaries?{query}")
    assert 400 <= answer.status_code < 500
    assert answer.json()["detail"]


@fuzz
@given(target=st.sampled_from(BODIES), data=st.data())
@example(target=BODIES[0], data=None)
def test_no_json_body_makes_the_api_fail(client, target, data):
    method, path, names = target
    if data is None:  # the crafted case: a `by` far longer than the column
        body: Any = {"optin": True, "by": "a" * 5000}
    else:
        body = data.draw(st.fixed_dictionaries({}, optional=dict.fromkeys(names, json_values)) | json_values)
    assert_json_answer(client.generic(method, path, json.dumps(body), content_type="application/json"))


@pytest.mark.parametrize(
    "body",
    [
        {"optin": True, "by": "lead\u0000@acme.example"},
        {"optin": True, "by": "lead\ud800@acme.example"},
        {"name": "x" * 1000, "kind": "slack", "config": {"url": "https://hooks.slack.com/services/T/B/C"}},
        {"name": "ops\u0000", "kind": "slack", "config": {"url": "https://hooks.slack.com/services/T/B/C"}},
    ],
)
def test_text_no_column_can_hold_is_a_400_saying_why(client, body):
    path = "/api/v1/org/llm-optin" if "by" in body else "/api/v1/channels"
    answer = client.post(path, json.dumps(body), content_type="application/json")
    assert 400 <= answer.status_code < 500
    assert answer.json()["detail"]


def test_deeply_nested_json_is_a_400(client):
    answer = client.post("/api/v1/channels", "[" * 100_000 + "]" * 100_000, content_type="application/json")
    assert 400 <= answer.status_code < 500
    assert answer.json()["detail"]


@pytest.mark.django_db(transaction=False)
def test_an_internal_error_is_a_json_500_not_an_html_page(client):
    with connection.cursor() as cursor:  # a real fault: the table is gone (rolled back after)
        cascade = " CASCADE" if connection.vendor == "postgresql" else ""
        cursor.execute(f"DROP TABLE summarize_llmsession{cascade}")
    answer = client.get("/api/v1/summaries")
    assert answer.status_code == 500
    assert answer["Content-Type"] == "application/json"
    assert "internal error" in answer.json()["detail"]
    assert "summarize_llmsession" not in answer.content.decode()
