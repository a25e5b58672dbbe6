"""DNS rebinding: a web page whose name (evil.example) its DNS server turns to failbrief's address
makes the browser send /metrics requests from the browser's own address, an allowed one, but with
`Host: evil.example`. Such a page must not read the metrics (org slugs, counts, LLM spend) without
the token, while Prometheus keeps scraping by address, by localhost and by the names the operator
lists (docs/metrics.md)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from ipaddress import ip_network
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

pytestmark = pytest.mark.django_db

TOKEN = "metrics-scrape-token"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.evil.example:8000"])
def test_a_rebound_page_on_the_same_host_is_refused_and_told_what_to_set(client, settings, host):
    settings.METRICS_TOKEN = None

    answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_HOST=host)

    assert answer.status_code == 403
    assert b"failbrief_" not in answer.content
    detail = answer.json()["detail"]
    assert "FAILBRIEF_METRICS_HOSTS" in detail
    assert "FAILBRIEF_METRICS_TOKEN" in detail


def test_a_rebound_page_in_an_allowed_network_is_refused(client, settings):
    settings.METRICS_TOKEN = None
    settings.METRICS_ALLOW = (ip_network("10.0.0.0/8"),)

    answer = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_HOST="evil.example:8000")

    assert answer.status_code == 403
    assert b"failbrief_" not in answer.content


@pytest.mark.parametrize(
    "host", ["127.0.0.1:8000", "10.0.3.7:8000", "10.0.3.7", "[::1]:8000", "localhost:8000", "LOCALHOST"]
)
def test_a_scrape_by_address_or_localhost_needs_no_token(client, settings, host):
    settings.METRICS_TOKEN = None

    answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_HOST=host)

    assert answer.status_code == 200
    assert b"failbrief_webhooks_received_total" in answer.content


def test_a_scrape_by_a_name_in_failbrief_metrics_hosts_needs_no_token(client, settings):
    settings.METRICS_TOKEN = None
    settings.METRICS_HOSTS = ("failbrief.internal",)

    named = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_HOST="failbrief.internal:8000")
    other = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_HOST="evil.example:8000")

    assert named.status_code == 200
    assert other.status_code == 403


def test_a_name_in_allowed_hosts_needs_no_token_but_a_wildcard_admits_no_name(client, settings):
    settings.METRICS_TOKEN = None
    settings.ALLOWED_HOSTS = ["failbrief.example.com", ".corp.example"]

    assert client.get("/metrics", HTTP_HOST="failbrief.example.com").status_code == 200
    assert client.get("/metrics", HTTP_HOST="metrics.corp.example").status_code == 200

    settings.ALLOWED_HOSTS = ["*"]

    assert client.get("/metrics", HTTP_HOST="failbrief.example.com").status_code == 403


def test_with_a_token_configured_a_rebound_page_is_asked_for_it_and_the_token_reads_by_any_host(
    client, settings
):
    settings.METRICS_TOKEN = TOKEN

    refused = client.get("/metrics", REMOTE_ADDR="127.0.0.1", HTTP_HOST="evil.example")
    answer = client.get(
        "/metrics",
        REMOTE_ADDR="127.0.0.1",
        HTTP_HOST="any.name.example",
        HTTP_AUTHORIZATION=f"Bearer {TOKEN}",
    )

    assert refused.status_code == 401
    assert "FAILBRIEF_METRICS_HOSTS" in refused.json()["detail"]
    assert b"failbrief_" not in refused.content
    assert answer.status_code == 200
    assert b"failbrief_webhooks_received_total" in answer.content


def test_the_hosts_setting_reads_names_and_refuses_a_wildcard_or_a_port(monkeypatch):
    from failbrief.settings import env_host_names

    monkeypatch.setenv("FAILBRIEF_METRICS_HOSTS", " Failbrief.Internal, .metrics.example ")
    assert env_host_names("FAILBRIEF_METRICS_HOSTS") == ("failbrief.internal", ".metrics.example")

    for bad in ("*", "failbrief.internal:8000", "http://failbrief.internal"):
        monkeypatch.setenv("FAILBRIEF_METRICS_HOSTS", bad)
        with pytest.raises(ImproperlyConfigured, match="FAILBRIEF_METRICS_HOSTS"):
            env_host_names("FAILBRIEF_METRICS_HOSTS")


# A web process whose broker does not answer (nothing listens on port 1), asked for /healthz from
# its own host by Prometheus (by address) and by a rebound page.
HEALTH = """
import django, json
django.setup()
from django.test import Client
answers = {}
for who, host in (("prometheus", "127.0.0.1:8000"), ("rebound", "evil.example:8000")):
    answers[who] = Client(REMOTE_ADDR="127.0.0.1").get("/healthz", HTTP_HOST=host).json()
print(json.dumps(answers))
"""


def test_a_rebound_page_learns_only_that_healthz_fails_not_why(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in {"PROMETHEUS_MULTIPROC_DIR"}} | {
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "FAILBRIEF_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "failbrief.settings",
        "FAILBRIEF_VAULT_KEY": Fernet.generate_key().decode(),
        "CACHE_URL": "",
    }

    done = subprocess.run(
        [sys.executable, "-c", HEALTH], env=env, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    assert answers["prometheus"]["broker"].startswith("error:")
    assert answers["rebound"]["broker"] == "failing"
