"""FAILBRIEF_HTTPS=true (docs/deploy.md): behind an HTTPS-terminating proxy, plain HTTP is redirected
except the probes, and `check --deploy` has nothing left to say about HTTPS and cookies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

PROBE = """
import django, json
django.setup()
from django.core.management import call_command
from django.test import Client
call_command("migrate", verbosity=0)
client = Client()
plain = client.get("/api/docs")
forwarded = client.get("/api/docs", headers={"X-Forwarded-Proto": "https"})
probe = client.get("/healthz")
print(json.dumps([plain.status_code, plain.get("Location"), forwarded.status_code, probe.status_code]))
"""


def run(tmp_path: Path, code: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}} | {
        "FAILBRIEF_VAR_DIR": str(tmp_path),
        "FAILBRIEF_HTTPS": "true",
        "FAILBRIEF_HSTS_SECONDS": "3600",
        "DJANGO_SETTINGS_MODULE": "failbrief.settings",
        "ALLOWED_HOSTS": "testserver",
    }
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_plain_http_is_redirected_to_https_but_health_probes_are_not(tmp_path: Path):
    result = run(tmp_path, PROBE)
    assert result.returncode == 0, result.stderr
    plain, location, forwarded, probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert (plain, location) == (301, "https://testserver/api/docs")
    assert forwarded == 200
    assert probe in (200, 503)  # answered, whatever the broker's state: not redirected


def test_check_deploy_has_no_https_or_cookie_findings(tmp_path: Path):
    code = "import sys; from django.core.management import execute_from_command_line as run; run(sys.argv)"
    result = run(tmp_path, code, "django-admin", "check", "--deploy")
    findings = result.stdout + result.stderr
    for item in ("W002", "W003", "W004", "W008", "W012", "W016"):
        assert item not in findings, findings
