"""A delivery refused before the webhook view reads it (a method other than POST, text no database
column holds in the query string, a Host not in ALLOWED_HOSTS, plain HTTP redirected to HTTPS,
which Prefect does not follow) is lost like any refused one: the operator sees it in
failbrief_webhooks_received_total, and each delivery is counted once."""

from __future__ import annotations

import pytest

from failbrief.metrics.tests.reading import Samples, samples, value
from failbrief.testing.fixtures import WEBHOOK_KEY

pytestmark = pytest.mark.django_db

URL = "/webhooks/v1/notification/"
WEBHOOKS = "failbrief_webhooks_received_total"
RESULTS = (
    "accepted",
    "duplicate",
    "ignored",
    "bad_request",
    "unauthorized",
    "unsupported_media_type",
    "too_large",
    "no_key_configured",
    "method_not_allowed",
    "redirected",
    "error",
)


@pytest.fixture
def keyed(settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = WEBHOOK_KEY


def scrape(client) -> Samples:
    answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert answer.status_code == 200, answer.content
    return samples(answer.content.decode())


def moved(client, before: Samples) -> dict[str, float]:
    after = scrape(client)
    changed = {r: value(after, WEBHOOKS, result=r) - value(before, WEBHOOKS, result=r) for r in RESULTS}
    return {result: n for result, n in changed.items() if n}


def post(client, data: bytes = b"{}", path: str = URL, **extra: str):
    return client.post(
        path, data=data, content_type="application/json", headers={"X-Notification-Key": WEBHOOK_KEY}, **extra
    )


@pytest.mark.usefixtures("keyed")
def test_a_get_is_counted_as_method_not_allowed(client):
    before = scrape(client)

    assert client.get(URL).status_code == 405
    assert client.put("/webhooks/v1/notification", data=b"{}").status_code == 405

    assert moved(client, before) == {"method_not_allowed": 2}


@pytest.mark.usefixtures("keyed")
def test_a_nul_in_the_query_string_is_counted_as_a_bad_request_once(client):
    before = scrape(client)

    assert post(client, path=f"{URL}?flow=%00").status_code == 400
    assert post(client, data=b'{"state": "\\u0000"}').status_code == 400  # refused by the view itself

    assert moved(client, before) == {"bad_request": 2}


@pytest.mark.usefixtures("keyed")
def test_a_host_not_in_allowed_hosts_is_counted_as_a_bad_request(client, settings):
    settings.ALLOWED_HOSTS = ["failbrief.example.com"]
    before = scrape(client)

    assert post(client, HTTP_HOST="old-name.example.com").status_code == 400

    assert moved(client, before) == {"bad_request": 1}


@pytest.mark.usefixtures("keyed")
def test_plain_http_redirected_to_https_is_counted_as_redirected(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    before = scrape(client)

    assert post(client).status_code == 301

    assert moved(client, before) == {"redirected": 1}


def test_a_webhook_the_view_refuses_is_counted_once_under_its_own_result(client, settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = None
    before = scrape(client)

    assert post(client).status_code == 503

    assert moved(client, before) == {"no_key_configured": 1}
