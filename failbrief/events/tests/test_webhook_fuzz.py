"""Whatever a sender posts, the answer is a JSON 2xx or 4xx, never a 500."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from failbrief.testing.fixtures import WEBHOOK_KEY

URL = "/webhooks/v1/notification/"
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=60),
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
)
def test_no_body_makes_the_webhook_fail_with_a_500(keyed_client, body):
    answer = keyed_client.post(URL, data=body, content_type="application/json")
    assert answer.status_code in {202, 400}
    assert isinstance(answer.json(), dict)
