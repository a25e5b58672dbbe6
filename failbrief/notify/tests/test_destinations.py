"""A channel URL that points into failbrief's own network (loopback, private, link-local) is
refused, when the channel is added and again before every send, unless the operator allows it."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator

import pytest
from django.test import Client

from failbrief.notify.channels.registry import channel
from failbrief.notify.deliver import deliver, http_client
from failbrief.notify.destinations import BlockedDestination
from failbrief.notify.manage import ChannelError, add_channel, send_test
from failbrief.notify.models import Notification
from failbrief.notify.tests.test_channels import message
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
        "https://[::127.0.0.1]/hook",  # IPv4-compatible IPv6, which Python counts as global
        "https://[64:ff9b::a9fe:a9fe]/latest/meta-data",  # the metadata service through NAT64
        "https://[2002:c0a8:101::1]/hook",  # 6to4 for 192.168.1.1
    ],
)
def test_an_org_cannot_add_a_channel_into_failbriefs_network(org, settings, url):
    settings.NOTIFY_ALLOW_PRIVATE = False
    with pytest.raises(ChannelError, match="points into a private, loopback or link-local network"):
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
    ops, _ = add_channel(org, "ops", "slack", {"url": hook.url("/services/T/B/x")})  # allowed then
    _, [notification_id] = plan(org)
    settings.NOTIFY_ALLOW_PRIVATE = False
    with http_client() as http:
        outcome = deliver(notification_id, http)
    assert outcome.status == "failed"
    assert "127.0.0.1" in outcome.reason
    assert Notification.objects.get(pk=notification_id).status == "failed"
    assert "points into a private, loopback or link-local network" in send_test(ops)
    assert hook.requests == []  # nothing reached it


def test_a_refused_name_does_not_say_what_it_resolves_to(org, hook, settings):
    """Any org's token must not learn what failbrief's internal names resolve to."""
    resolved = {str(sockaddr[0]) for *_, sockaddr in socket.getaddrinfo("localhost", 80)}
    internal_url = hook.url("/services/T/B/x").replace("127.0.0.1", "localhost")
    ops, _ = add_channel(org, "ops", "slack", {"url": internal_url})  # allowed then
    _, [notification_id] = plan(org)
    settings.NOTIFY_ALLOW_PRIVATE = False
    admin = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(org)}")
    body = {"name": "sneaky", "kind": "webhook", "config": {"url": "http://localhost:6379/"}}
    added = admin.post("/api/v1/channels", json.dumps(body), content_type="application/json")
    with http_client() as http:
        delivered = deliver(notification_id, http)
    said = [added.json()["detail"], delivered.reason, send_test(ops)]
    for reason in said:
        assert "localhost points into a private, loopback or link-local network" in reason
        assert not [address for address in resolved if address in reason], reason
    assert hook.requests == []


def test_the_request_goes_to_the_address_that_was_checked():
    """DNS rebinding: a name can answer one address to the check and another to the connect (a
    public one first, then 127.0.0.1). The name is resolved once and the socket opened to the
    address that was checked, whatever the resolver would answer next. Here both answers are
    loopback receivers on one port, so we can see which one the message reached."""
    asked: list[str] = []

    def rebinding(host: str, port: int) -> list[str]:
        asked.append(host)
        return ["127.0.0.1"] if len(asked) == 1 else ["127.0.0.2"]

    with FakeReceiver() as checked, FakeReceiver(port=checked.port, host="127.0.0.2") as rebound:
        url = f"http://rebind.example:{checked.port}/services/T/B/x"
        with http_client(resolver=rebinding) as http:
            channel("slack").send({"url": url}, message(), http, "d-1")
        assert len(checked.requests) == 1
        assert checked.requests[0].headers["host"] == f"rebind.example:{checked.port}"
        assert rebound.requests == []
    assert asked == ["rebind.example"]


def test_a_name_with_one_private_address_among_public_ones_is_refused_before_connecting(settings, hook):
    settings.NOTIFY_ALLOW_PRIVATE = False
    url = f"http://mixed.example:{hook.port}/services/T/B/x"
    with (
        http_client(resolver=lambda host, port: ["1.1.1.1", "127.0.0.1"]) as http,
        pytest.raises(BlockedDestination, match=r"mixed\.example points into a private"),
    ):
        channel("slack").send({"url": url}, message(), http, "d-1")
    assert hook.requests == []
