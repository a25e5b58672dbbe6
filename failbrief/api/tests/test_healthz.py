"""GET /healthz tells an operator whether the database and the broker answer."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
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


# A web process whose database and broker do not answer (nothing listens on port 1), asked by a
# load balancer, by Prometheus on the same host, and through the reverse proxy on the same host.
DOWN = """
import django, json
django.setup()
from django.test import Client
answers = {}
for who, headers in (("probe", {}), ("proxied", {"X-Forwarded-Proto": "https"})):
    answer = Client(REMOTE_ADDR="127.0.0.1").get("/healthz", headers=headers)
    answers[who] = [answer.status_code, answer["Content-Type"], answer.content.decode()]
print(json.dumps(answers))
"""
PASSWORD = "pg-Pass-w0rd-4-healthz"


def test_with_the_database_and_broker_down_healthz_says_so_without_a_password(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in {"PROMETHEUS_MULTIPROC_DIR"}} | {
        "DATABASE_URL": f"postgresql://failbrief:{PASSWORD}@127.0.0.1:1/failbrief",
        "CELERY_BROKER_URL": f"redis://:{PASSWORD}@127.0.0.1:1/0",
        "SECRET_KEY": "a-long-random-secret-key-for-this-test-only-0123456789",
        "FAILBRIEF_VAULT_KEY": Fernet.generate_key().decode(),
        "FAILBRIEF_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "failbrief.settings",
        "CACHE_URL": "",
    }

    done = subprocess.run([sys.executable, "-c", DOWN], env=env, capture_output=True, text=True, timeout=120)

    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    for status, content_type, _ in answers.values():
        assert (status, content_type) == (503, "application/json")
    probe = json.loads(answers["probe"][2])
    assert probe["status"] == "unavailable"
    assert probe["database"].startswith("error: OperationalError")
    assert probe["broker"].startswith("error:")
    assert json.loads(answers["proxied"][2]) == {
        "status": "unavailable",
        "database": "failing",
        "broker": "failing",
    }
    assert PASSWORD not in done.stdout + done.stderr


class Silent:
    """A TCP server that accepts connections and never says a word: a database host behind a
    firewall that drops packets, or a half-dead PostgreSQL."""

    def __enter__(self) -> int:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        port: int = self.sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def test_a_database_that_never_answers_makes_healthz_answer_503_not_hang(tmp_path: Path):
    # libpq waits for ever by default: /healthz (and every page) hung on the silent socket, the load
    # balancer's probe timed out instead of reading 503, and the database_up alert never fired.
    with Silent() as port:
        env = {k: v for k, v in os.environ.items() if k not in {"PROMETHEUS_MULTIPROC_DIR"}} | {
            "DATABASE_URL": f"postgresql://failbrief@127.0.0.1:{port}/failbrief",
            "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
            "SECRET_KEY": "a-long-random-secret-key-for-this-test-only-0123456789",
            "FAILBRIEF_VAULT_KEY": Fernet.generate_key().decode(),
            "FAILBRIEF_VAR_DIR": str(tmp_path),
            "DJANGO_SETTINGS_MODULE": "failbrief.settings",
            "CACHE_URL": "",
        }
        done = subprocess.run(
            [sys.executable, "-c", DOWN], env=env, capture_output=True, text=True, timeout=100
        )

    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    probe = json.loads(answers["probe"][2])
    assert answers["probe"][0] == 503
    assert "timeout" in probe["database"].lower()
