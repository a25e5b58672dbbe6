"""failbrief setup-prefect / check-prefect, run as a person would: a real process, a loopback fake of
Prefect's block and automation routes (the real Prefect 3.9.1: tests/prefect/)."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from failbrief.orgs.secrets import secret_hash
from failbrief.testing.black_hole import BlackHole
from failbrief.testing.fake_automations import FakeAutomations


def failbrief(var_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {
        k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "PREFECT_NOTIFICATIONS_WEBHOOK_KEY"}
    }
    return subprocess.run(
        [sys.executable, "-m", "failbrief.cli", *args],
        capture_output=True,
        text=True,
        env=base | {"FAILBRIEF_VAR_DIR": str(var_dir)} | env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


@pytest.fixture
def prefect():
    with FakeAutomations() as fake:
        yield fake


def test_the_dry_run_prints_the_json_and_changes_nothing(var_dir, prefect):
    done = failbrief(
        var_dir, "setup-prefect", "--prefect-url", prefect.url, "--public-url", "https://fb.example.org",
        "--deployed-only", "--tag", "dalgo", "--dry-run",
    )  # fmt: skip

    assert done.returncode == 0, done.stderr
    shown = json.loads(done.stdout)
    assert shown["automation"]["trigger"]["within"] == 0
    assert shown["automation"]["trigger"]["match_related"][0] == {"prefect.resource.role": "deployment"}
    assert shown["block_document"]["data"]["url"] == "https://fb.example.org/webhooks/v1/notification/"
    assert prefect.blocks == {}
    assert prefect.automations == {}


def test_without_a_webhook_key_it_says_how_to_set_one(var_dir, prefect):
    done = failbrief(var_dir, "setup-prefect", "--prefect-url", prefect.url, "--public-url", "http://fb")

    assert done.returncode == 1
    assert "PREFECT_NOTIFICATIONS_WEBHOOK_KEY is not set" in done.stderr
    assert prefect.blocks == {}


def test_the_global_key_goes_into_the_block_and_a_second_run_updates_in_place(var_dir, prefect):
    args = ("setup-prefect", "--prefect-url", prefect.url, "--public-url", "http://fb:8000")
    first = failbrief(var_dir, *args, PREFECT_NOTIFICATIONS_WEBHOOK_KEY="global-key")
    second = failbrief(var_dir, *args, PREFECT_NOTIFICATIONS_WEBHOOK_KEY="global-key")

    assert "automation 'failbrief' created" in first.stdout
    assert "automation 'failbrief' updated" in second.stdout
    assert (len(prefect.blocks), len(prefect.automations)) == (1, 1)
    assert prefect.block_data("failbrief")["headers"]["X-Notification-Key"] == "global-key"


def test_an_org_gets_a_new_key_that_only_its_block_knows(var_dir, prefect):
    assert failbrief(var_dir, "org", "add", "acme").returncode == 0

    done = failbrief(
        var_dir, "setup-prefect", "--prefect-url", prefect.url, "--public-url", "http://fb", "--org", "acme"
    )

    assert done.returncode == 0, done.stderr
    assert "org acme has a new webhook key" in done.stderr
    key = prefect.block_data("failbrief-acme")["headers"]["X-Notification-Key"]
    assert key not in done.stdout + done.stderr
    with sqlite3.connect(var_dir / "failbrief.sqlite3") as db:
        (stored,) = db.execute("select webhook_key_hash from orgs_org where slug = 'acme'").fetchone()
    assert stored == secret_hash(key)


def test_a_key_that_is_not_the_orgs_is_refused(var_dir, prefect):
    failbrief(var_dir, "org", "add", "acme", "--webhook-key", "the-real-key")

    done = failbrief(
        var_dir, "setup-prefect", "--prefect-url", prefect.url, "--public-url", "http://fb",
        "--org", "acme", "--webhook-key", "a-guess",
    )  # fmt: skip

    assert done.returncode == 1
    assert "is not org acme's key" in done.stderr
    assert prefect.blocks == {}


def test_check_prefect_exits_1_without_the_automation_and_0_with_it(var_dir, prefect):
    missing = failbrief(var_dir, "check-prefect", "--prefect-url", prefect.url)
    failbrief(var_dir, "setup-prefect", "--prefect-url", prefect.url, "--public-url", "http://fb",
              PREFECT_NOTIFICATIONS_WEBHOOK_KEY="k")  # fmt: skip
    present = failbrief(var_dir, "check-prefect", "--prefect-url", prefect.url)

    assert missing.returncode == 1
    assert "no automation named 'failbrief'" in missing.stderr
    assert present.returncode == 0, present.stderr
    assert "Prefect version: 3.9.1" in present.stdout
    assert "automation 'failbrief': present, enabled" in present.stdout
    assert "posts to: http://fb/webhooks/v1/notification/" in present.stdout


def test_setup_prefect_against_a_prefect_that_does_not_answer_fails_with_one_line(var_dir):
    with FakeAutomations() as gone:
        url = gone.url
    done = failbrief(var_dir, "setup-prefect", "--prefect-url", url, "--public-url", "http://fb",
                     PREFECT_NOTIFICATIONS_WEBHOOK_KEY="k")  # fmt: skip

    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: Prefect at {url} refused the connection; start Prefect, or set")


NOT_THE_API = (
    "answered 404 Not Found (GET /block_types/slug/webhook); "
    "set PREFECT_API_URL (or --prefect-url) to Prefect's REST API, ending in /api"
)
STALE_KEY = "refused our credentials (HTTP 401): PREFECT_API_KEY is missing or wrong; set PREFECT_API_KEY"


@pytest.mark.parametrize(
    ("cut", "api_key", "says"), [("/api", "the-right-key", NOT_THE_API), ("", "a-stale-key", STALE_KEY)]
)
def test_setup_prefect_says_what_is_wrong_with_the_prefect_it_was_given_and_the_fix(
    var_dir, cut, api_key, says
):
    with FakeAutomations(api_key="the-right-key") as prefect:
        url = prefect.url.removesuffix(cut)
        done = failbrief(var_dir, "setup-prefect", "--prefect-url", url, "--public-url", "http://fb",
                         PREFECT_NOTIFICATIONS_WEBHOOK_KEY="k", PREFECT_API_KEY=api_key)  # fmt: skip

    assert done.returncode == 1
    assert done.stderr.startswith(f"Error: Prefect at {url} {says}"), done.stderr


def test_check_prefect_gives_up_on_a_prefect_that_never_answers_after_one_timeout(var_dir):
    with BlackHole() as hole:
        url = f"http://127.0.0.1:{hole.port}/api"
        done = failbrief(var_dir, "check-prefect", "--prefect-url", url, PREFECT_TIMEOUT_SECONDS="3")
        tries = hole.connections

    assert done.returncode == 1
    assert f"Prefect API {url}: NOT reachable" in done.stdout
    assert tries == 1  # no retries with backoff on top of the timeout


def stored_keys(var_dir: Path, slug: str) -> tuple[str | None, str, str | None]:
    with sqlite3.connect(var_dir / "failbrief.sqlite3") as db:
        current, previous, until = db.execute(
            "select webhook_key_hash, webhook_key_previous_hash, webhook_key_previous_until "
            "from orgs_org where slug = ?",
            [slug],
        ).fetchone()
    return current, previous, until


def test_an_org_keeps_its_key_when_prefect_does_not_take_the_new_one(var_dir):
    """Rotating first would leave Prefect's block sending the old key, which failbrief then
    refuses (401): every one of the org's failures lost until setup-prefect succeeds."""
    assert failbrief(var_dir, "org", "add", "acme", "--webhook-key", "the-key-prefect-sends").returncode == 0
    with FakeAutomations() as gone:
        url = gone.url

    done = failbrief(
        var_dir, "setup-prefect", "--prefect-url", url, "--public-url", "http://fb", "--org", "acme"
    )

    assert done.returncode == 1
    assert "has a new webhook key" not in done.stderr
    assert "org acme keeps its webhook key" in done.stderr
    assert stored_keys(var_dir, "acme")[0] == secret_hash("the-key-prefect-sends")


def test_a_new_org_key_stops_every_older_one_at_once(var_dir, prefect):
    """An org whose key was rotated on its settings page has the key before that still working
    for a grace period; setup-prefect says the old key stops working, so it must, all of them."""
    assert failbrief(var_dir, "org", "add", "acme", "--webhook-key", "current").returncode == 0
    with sqlite3.connect(var_dir / "failbrief.sqlite3") as db:
        db.execute(
            "update orgs_org set webhook_key_previous_hash = ?, webhook_key_previous_until = ? "
            "where slug = 'acme'",
            [secret_hash("leaked-one-rotated-on-the-page"), "2999-01-01 00:00:00"],
        )

    done = failbrief(
        var_dir, "setup-prefect", "--prefect-url", prefect.url, "--public-url", "http://fb", "--org", "acme"
    )

    assert done.returncode == 0, done.stderr
    key = prefect.block_data("failbrief-acme")["headers"]["X-Notification-Key"]
    current, previous, until = stored_keys(var_dir, "acme")
    in_grace = until is not None and datetime.fromisoformat(until).replace(tzinfo=UTC) > datetime.now(UTC)
    accepted = {current} | ({previous} if in_grace else set())
    assert accepted == {secret_hash(key)}


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ("failbrief.example.org", "not an http(s) URL"),
        ("https://failbrief.example.org/webhooks/v1/notification/", "(https://failbrief.example.org)"),
        ("https://failbrief.example.org/?x=1", "without a path to the webhook or a query"),
    ],
)
def test_a_public_url_prefect_could_not_post_to_is_refused_before_anything_is_written(
    var_dir, prefect, given, said
):
    """Prefect would store it and fail every call later, once, silently (it never retries)."""
    done = failbrief(var_dir, "setup-prefect", "--prefect-url", prefect.url, "--public-url", given,
                     PREFECT_NOTIFICATIONS_WEBHOOK_KEY="k")  # fmt: skip

    assert done.returncode == 2
    assert "Invalid value for '--public-url'" in done.stderr
    assert said in done.stderr
    assert prefect.blocks == {}
    assert prefect.automations == {}


@pytest.mark.parametrize("command", ["setup-prefect", "check-prefect"])
def test_a_password_in_the_prefect_url_is_never_printed(var_dir, command):
    with FakeAutomations() as gone:
        url = gone.url.replace("http://", "http://ops:the-proxy-password@")
    args = ["--public-url", "http://fb"] if command == "setup-prefect" else []

    done = failbrief(var_dir, command, "--prefect-url", url, *args, PREFECT_NOTIFICATIONS_WEBHOOK_KEY="k")

    assert done.returncode == 1
    assert "http://127.0.0.1:" in done.stdout + done.stderr  # shown without credentials
    assert "the-proxy-password" not in done.stdout + done.stderr


def test_check_prefect_for_an_org_failbrief_does_not_know_says_so(var_dir, prefect):
    """It used to look for an automation 'failbrief-nope' and report it missing: a typo read as
    a broken setup."""
    assert failbrief(var_dir, "migrate").returncode == 0

    done = failbrief(var_dir, "check-prefect", "--prefect-url", prefect.url, "--org", "nope")

    assert done.returncode == 1
    assert done.stderr.strip() == "Error: no org 'nope' (see 'failbrief org list')"
