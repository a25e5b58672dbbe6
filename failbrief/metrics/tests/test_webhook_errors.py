"""A webhook failbrief could not store (its database did not answer) is counted too: Prefect sends
each one once, so these are the failures only the reconciler will still catch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from failbrief.metrics.tests.reading import samples, value
from failbrief.testing.fixtures import WEBHOOK_KEY
from failbrief.testing.scenarios import robust_body

# One web process whose PostgreSQL does not answer (nothing listens on port 1): a webhook, then
# the scrape Prometheus on the same host makes.
POST_THEN_SCRAPE = """
import django, json, sys
django.setup()
from django.test import Client
client = Client(REMOTE_ADDR="127.0.0.1")
posted = client.post(
    "/webhooks/v1/notification/", data=sys.argv[1], content_type="application/json",
    headers={"X-Notification-Key": sys.argv[2]},
)
print(json.dumps([posted.status_code, client.get("/metrics").content.decode()]))
"""


def test_a_webhook_the_database_could_not_store_is_counted_as_an_error(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"} | {
        "DATABASE_URL": "postgresql://failbrief:pw@127.0.0.1:1/failbrief",
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
        "SECRET_KEY": "a-long-random-secret-key-for-this-test-only-0123456789",
        "FAILBRIEF_VAULT_KEY": Fernet.generate_key().decode(),
        "FAILBRIEF_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "failbrief.settings",
        "PREFECT_NOTIFICATIONS_WEBHOOK_KEY": WEBHOOK_KEY,
        "CACHE_URL": "",
    }

    done = subprocess.run(
        [sys.executable, "-c", POST_THEN_SCRAPE, robust_body("b"), WEBHOOK_KEY],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    status, scraped = json.loads(done.stdout.strip().splitlines()[-1])
    assert status == 500
    webhooks = samples(scraped)
    assert value(webhooks, "failbrief_webhooks_received_total", result="error") == 1
    assert value(webhooks, "failbrief_database_up") == 0
