"""Whatever a sender posts, the answer is a JSON 2xx or 4xx, never a 500: on SQLite and, in the
services tiers, on PostgreSQL (which refuses NUL characters SQLite stores)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from failbrief.events.models import FailureEvent
from failbrief.testing.fixtures import WEBHOOK_KEY
from failbrief.testing.scenarios import captured

pytestmark = pytest.mark.services

URL = "/webhooks/v1/notification/"
ROBUST = {
    "flow_run_id": "168dcf82-4af3-4c87-a159-01c7d0b6341c",
    "flow_run_name": "rich-bobcat",
    "state_name": "Failed",
    "state_type": "FAILED",
    "state_timestamp": "2026-11-24T23:41:06.592589+00:00",
}
# Every code point, lone surrogates and NUL included.
any_text = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=60)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | any_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=20), inner, max_size=5),
    max_leaves=20,
)
known_keys = st.fixed_dictionaries(
    {},
    optional={
        "body": st.text(max_size=200) | json_values,
        "flow_run_id": st.uuids().map(str) | json_values,
        "state_name": st.sampled_from(["Failed", "Crashed", "Running"]) | json_values,
        "state_type": json_values,
        "state_timestamp": st.datetimes().map(str) | json_values,
        "event_id": st.uuids().map(str) | json_values,
        "tags": json_values,
        "resource": json_values,
        "related": json_values,
    },
)

# Dalgo's flow run body (a flow run object, or one JSON-encoded in the string), its fields replaced.
C_RUN = captured("c_flow_run.json")
flow_run_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": st.uuids().map(str) | json_values,
        "name": json_values,
        "tags": json_values,
        "deployment_id": json_values,
        "parent_task_run_id": json_values,
        "state": json_values
        | st.fixed_dictionaries(
            {"state_details": st.just({"flow_run_id": C_RUN["id"]}) | json_values},
            optional={
                "name": json_values,
                "type": json_values,
                "timestamp": json_values,
                "message": json_values,
            },
        ),
    },
)
dalgo_flow_runs = st.tuples(flow_run_fields, st.booleans()).map(
    lambda made: json.dumps({"body": json.dumps(C_RUN | made[0]) if made[1] else C_RUN | made[0]}).encode()
)


@pytest.fixture
def keyed_client(settings_override):
    return Client(HTTP_X_NOTIFICATION_KEY=WEBHOOK_KEY)


@pytest.fixture
def settings_override(settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = WEBHOOK_KEY
    return settings


@pytest.mark.django_db
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=st.binary(max_size=300)
    | json_values.map(lambda v: json.dumps(v).encode())
    | known_keys.map(lambda v: json.dumps(v).encode())
    | dalgo_flow_runs
)
def test_no_body_makes_the_webhook_fail_with_a_500(keyed_client, body):
    answer = keyed_client.post(URL, data=body, content_type="application/json")
    assert answer.status_code in {202, 400}
    assert isinstance(answer.json(), dict)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (json.dumps(ROBUST | {"flow_run_name": "x\ud800y"}).encode(), "surrogate"),  # a "\\ud800" escape
        (json.dumps(ROBUST | {"state_message": "boom\x00"}).encode(), "NUL"),  # a "\\u0000" escape
        (json.dumps(ROBUST | {"state_timestamp": "9999-12-31T23:59:59-23:59"}).encode(), "out of range"),
        (json.dumps(ROBUST | {"state_timestamp": "0001-01-01T00:00:00+23:59"}).encode(), "out of range"),
        (json.dumps(ROBUST).encode("utf-16"), "not UTF-8"),
        (json.dumps(ROBUST | {"state_message": "café"}, ensure_ascii=False).encode("latin-1"), "not UTF-8"),
        # Python refuses to read an integer of more than 4,300 digits (a ValueError, not a JSONDecodeError).
        (json.dumps(ROBUST | {"run_count": 7}).replace("7", "7" * 5000).encode(), "digits"),
        (json.dumps({"body": json.dumps({"id": 1}).replace("1", "1" * 5000)}).encode(), "digits"),
    ],
    ids=[
        "nested",
        "lone-surrogate",
        "nul",
        "offset-overflow-high",
        "offset-overflow-low",
        "utf-16",
        "latin-1",
        "huge-integer",
        "huge-integer-in-dalgos-body",
    ],
)
def test_crafted_bodies_are_a_400_saying_what_is_wrong(keyed_client, body, says):
    answer = keyed_client.post(URL, data=body, content_type="application/json")
    assert answer.status_code == 400
    assert says in answer.json()["detail"]
    assert not FailureEvent.objects.exists()
