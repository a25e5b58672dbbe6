"""A channel URL that points into failbrief's own network (loopback, private, link-local) is
refused, when the channel is added and again before every send, unless the operator allows it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from django.test import Client

from failbrief.notify.deliver import deliver, http_client
from failbrief.notify.manage import ChannelError, add_channel, send_test
from failbrief.notify.models import Notification
from failbrief.notify.tests.test_repeats import plan
from failbrief.orgs.manage import add_org, create_token
from failbrief.orgs.models import Org
from failbrief.testing.fake_receivers import FakeReceiver

pytestmark = pytest.mark.django_db


@pytest.fixture
def org() -> Org:
    return add_org("acme")


@pytest.fixture
def hook() -> Iterator[FakeReceiver]:
    with FakeReceiver() as receiver:
        yield receiver


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:4200/api/flow_runs/filter",  # Prefect's API on the same machine
        "https://localhost/hook",
        "https://169.254.169.254/latest/meta-data",  # a cloud metadata service
        "https://10.1.2.3/hook",
        "https://[::1]/hook",
    ],
)
def test_an_org_cannot_add_a_channel_into_failbriefs_network(org, settings, url):
    settings.NOTIFY_ALLOW_PRIVATE = False
    with pytest.raises(ChannelError, match="not a public address"):
        add_channel(org, "sneaky", "webhook", {"url": url})


def test_the_api_says_why_and_stores_nothing(org, settings):
    settings.NOTIFY_ALLOW_PRIVATE = False
    admin = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(org)}")
    body = {"name": "sneaky", "kind": "slack", "config": {"url": "http://127.0.0.1:6379/"}}
    answer = admin.post("/api/v1/channels", json.dumps(body), content_type="application/json")
    assert answer.status_code == 400
    assert "FAILBRIEF_NOTIFY_ALLOW_PRIVATE" in answer.json()["detail"]
    assert admin.get("/api/v1/channels").json() == []


def test_a_stored_channel_is_checked_again_before_each_send(org, hook, settings):
    channel, _ = add_channel(org, "ops", "slack", {"url": hook.url("/services/T/B/x")})  # allowed then
    _, [notification_id] = plan(org)
    settings.NOTIFY_ALLOW_PRIVATE = False
    with http_client() as http:
        outcome = deliver(notification_id, http)
    assert outcome.status == "failed"
    assert "127.0.0.1" in outcome.reason
    assert Notification.objects.get(pk=notification_id).status == "failed"
    assert "not a public address" in send_test(channel)
    assert hook.requests == []  # nothing reached it
