"""GET /healthz tells an operator whether the database and the broker answer."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.mark.django_db
def test_healthz_is_200_when_database_and_broker_answer():
    answer = Client().get("/healthz")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.mark.services
@pytest.mark.django_db
def test_healthz_is_503_naming_the_broker_when_it_is_down(broker_proxy):
    broker_proxy.down()
    answer = Client().get("/healthz")
    assert answer.status_code == 503
    body = answer.json()
    assert (body["status"], body["database"]) == ("unavailable", "ok")
    assert body["broker"].startswith("error:")


@pytest.mark.services
@pytest.mark.django_db
def test_an_outsider_learns_only_that_the_broker_is_failing_not_why(broker_proxy, settings):
    settings.METRICS_TOKEN = "metrics-token-for-the-operator"
    broker_proxy.down()
    outsider = Client(REMOTE_ADDR="203.0.113.9").get("/healthz")
    assert outsider.status_code == 503
    assert outsider.json() == {"status": "unavailable", "database": "ok", "broker": "failing"}

    operator = Client(REMOTE_ADDR="203.0.113.9").get(
        "/healthz", headers={"Authorization": "Bearer metrics-token-for-the-operator"}
    )
    assert operator.json()["broker"].startswith("error:")
