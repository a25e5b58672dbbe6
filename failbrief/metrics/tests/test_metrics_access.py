"""Who may read GET /metrics: an allowed address, or the metrics token; everyone else is told why."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from django.core.exceptions import ImproperlyConfigured

from failbrief.settings import env_networks

pytestmark = pytest.mark.django_db

TOKEN = "metrics-scrape-token"


def test_prometheus_on_the_same_host_reads_the_metrics(client):
    answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1")

    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/plain; version=0.0.4")
    assert b"failbrief_webhooks_received_total" in answer.content


def test_a_dual_stack_socket_reporting_localhost_as_ipv6_is_allowed(client):
    assert client.get("/metrics", REMOTE_ADDR="::ffff:127.0.0.1").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="::1").status_code == 200


def test_another_address_without_a_configured_token_is_forbidden_and_told_what_to_set(client, settings):
    settings.METRICS_TOKEN = None

    answer = client.get("/metrics", REMOTE_ADDR="10.1.2.3")

    assert answer.status_code == 403
    assert "FAILBRIEF_METRICS_ALLOW" in answer.json()["detail"]
    assert "FAILBRIEF_METRICS_TOKEN" in answer.json()["detail"]
    assert b"failbrief_" not in answer.content


def test_another_address_with_the_token_reads_the_metrics(client, settings):
    settings.METRICS_TOKEN = TOKEN

    answer = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")

    assert answer.status_code == 200
    assert b"failbrief_webhooks_received_total" in answer.content


@pytest.mark.parametrize(
    ("authorization", "detail"),
    [
        ("", "Authorization: Bearer"),
        (f"Bearer {TOKEN}x", "wrong metrics token"),
        (f"Basic {TOKEN}", "Bearer"),
    ],
)
def test_another_address_without_the_right_token_is_asked_for_it(client, settings, authorization, detail):
    settings.METRICS_TOKEN = TOKEN

    answer = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_AUTHORIZATION=authorization)

    assert answer.status_code == 401
    assert answer["WWW-Authenticate"].startswith("Bearer")
    assert detail in answer.json()["detail"]


def test_a_network_in_the_allow_list_needs_no_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOW = (ip_network("10.0.0.0/8"),)

    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 401


def test_only_get_is_answered(client):
    assert client.post("/metrics", REMOTE_ADDR="127.0.0.1").status_code == 405


def test_the_allow_list_setting_reads_networks_and_none(monkeypatch):
    monkeypatch.setenv("FAILBRIEF_METRICS_ALLOW", "10.0.0.0/8, 192.168.1.7,fd00::/8")
    assert env_networks("FAILBRIEF_METRICS_ALLOW", "") == (
        ip_network("10.0.0.0/8"),
        ip_network("192.168.1.7/32"),
        ip_network("fd00::/8"),
    )
    monkeypatch.setenv("FAILBRIEF_METRICS_ALLOW", "none")
    assert env_networks("FAILBRIEF_METRICS_ALLOW", "127.0.0.1/32") == ()


def test_a_network_with_host_bits_stops_start_up_with_the_variable_named(monkeypatch):
    monkeypatch.setenv("FAILBRIEF_METRICS_ALLOW", "10.0.0.5/8")

    with pytest.raises(ImproperlyConfigured, match="FAILBRIEF_METRICS_ALLOW must be comma-separated"):
        env_networks("FAILBRIEF_METRICS_ALLOW", "")


# What a reverse proxy on the same host adds to what it passes on (nginx as docs/deploy.md sets it
# up, Caddy, Traefik, Apache, a cloud load balancer): the TCP peer is then the proxy, 127.0.0.1.
PROXY_HEADERS = {
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "203.0.113.9",
    "X-Real-IP": "203.0.113.9",
    "Forwarded": "for=203.0.113.9;proto=https",
    "Via": "1.1 proxy.example.org",
}


@pytest.mark.parametrize("header", sorted(PROXY_HEADERS))
def test_a_request_a_proxy_on_the_same_host_passed_on_is_not_admitted_by_the_loopback_address(
    client, settings, header
):
    settings.METRICS_TOKEN = None

    answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1", headers={header: PROXY_HEADERS[header]})

    assert answer.status_code == 403
    assert b"failbrief_" not in answer.content
    assert header in answer.json()["detail"]
    assert "FAILBRIEF_METRICS_TOKEN" in answer.json()["detail"]


def test_through_a_proxy_the_token_still_reads_the_metrics(client, settings):
    settings.METRICS_TOKEN = TOKEN

    refused = client.get("/metrics", REMOTE_ADDR="127.0.0.1", headers={"X-Forwarded-Proto": "https"})
    answer = client.get(
        "/metrics",
        REMOTE_ADDR="127.0.0.1",
        headers={"X-Forwarded-Proto": "https", "Authorization": f"Bearer {TOKEN}"},
    )

    assert refused.status_code == 401
    assert answer.status_code == 200


def test_a_forged_forwarded_for_naming_an_allowed_address_admits_no_one(client, settings):
    settings.METRICS_TOKEN = None

    answer = client.get("/metrics", REMOTE_ADDR="203.0.113.9", headers={"X-Forwarded-For": "127.0.0.1"})

    assert answer.status_code == 403


def test_the_authorization_scheme_is_read_in_any_case(client, settings):
    settings.METRICS_TOKEN = TOKEN

    answer = client.get("/metrics", REMOTE_ADDR="10.1.2.3", headers={"Authorization": f"bearer {TOKEN}"})

    assert answer.status_code == 200
