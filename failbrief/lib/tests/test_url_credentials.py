"""A PREFECT_API_URL may carry a user and password (a Prefect server behind basic auth); the links
and messages made from it must not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from failbrief.lib.url_credentials import without_credentials

LINK = """
import django
django.setup()
from django.conf import settings
print(settings.RUN_URL_TEMPLATE.format(prefect_ui=settings.PREFECT_UI_URL, flow_run_id="RUN", org="acme"))
"""


def test_the_run_link_notifications_and_pages_give_carries_no_password(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}} | {
        "PREFECT_API_URL": "https://admin:pr3fect-pa55@prefect.example.org/api",
        "FAILBRIEF_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "failbrief.settings",
    }
    env.pop("PREFECT_UI_URL", None)
    env.pop("FAILBRIEF_PUBLIC_URL", None)
    env.pop("FAILBRIEF_RUN_URL_TEMPLATE", None)

    done = subprocess.run([sys.executable, "-c", LINK], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "https://prefect.example.org/runs/flow-run/RUN"


def test_without_credentials_keeps_everything_but_the_user_and_password():
    assert without_credentials("https://u:p@h.example:8443/api?x=1") == "https://h.example:8443/api?x=1"
    assert without_credentials("redis://:p@h:6379/0") == "redis://h:6379/0"
    assert without_credentials("http://127.0.0.1:4200/api") == "http://127.0.0.1:4200/api"
    assert without_credentials("postgresql://u:p@[::1]:5432/db") == "postgresql://[::1]:5432/db"
