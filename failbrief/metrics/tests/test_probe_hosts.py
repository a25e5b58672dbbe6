"""ALLOWED_HOSTS names what people and Prefect reach failbrief by (docs/deploy.md), but a load
balancer's health check and Prometheus reach each instance by its own address or internal name
(docs/metrics.md's scrape configuration targets failbrief.internal:8000): those still get answers."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def public_name_only(settings):
    settings.ALLOWED_HOSTS = ["failbrief.example.com"]
    settings.METRICS_HOSTS = ("failbrief.internal",)  # the scrape target's name, as docs/metrics.md says


@pytest.mark.usefixtures("public_name_only")
@pytest.mark.parametrize("host", ["10.0.3.7:8000", "failbrief.internal:8000"])
def test_health_checks_and_scrapes_by_an_instances_own_address_are_answered(client, host):
    health = client.get("/healthz", HTTP_HOST=host, REMOTE_ADDR="10.0.0.2")
    scrape = client.get("/metrics", HTTP_HOST=host, REMOTE_ADDR="127.0.0.1")

    assert (health.status_code, health.json()["status"]) == (200, "ok")
    assert scrape.status_code == 200
    assert b"failbrief_webhooks_received_total" in scrape.content


@pytest.mark.usefixtures("public_name_only")
def test_every_other_path_still_refuses_a_host_not_allowed(client):
    assert client.get("/api/docs", HTTP_HOST="10.0.3.7:8000").status_code == 400
    assert client.get("/api/docs", HTTP_HOST="failbrief.example.com").status_code == 200
