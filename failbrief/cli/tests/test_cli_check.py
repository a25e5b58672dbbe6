"""failbrief check, run as a person would (a real process) against a loopback fake of Prefect's API:
each misconfiguration is named with its fix, and the exit status says whether anything is wrong."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from failbrief.cli.tests.test_cli_prefect import failbrief
from failbrief.testing.black_hole import BlackHole
from failbrief.testing.fake_automations import FakeAutomations
from failbrief.testing.prefect_server import free_port

KEY = "global-webhook-key"


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated embedded database for the module; `check` only reads it."""
    folder = tmp_path_factory.mktemp("check") / "var"
    done = failbrief(folder, "migrate")
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture
def prefect():
    with FakeAutomations() as fake:
        yield fake


def install_automation(
    fake: FakeAutomations,
    enabled: bool = True,
    *,
    name: str = "failbrief",
    key: str = KEY,
    url: str = "http://fb:8000/webhooks/v1/notification/",
) -> None:
    """An automation and its webhook block, as setup-prefect makes them."""
    block_id, automation_id = str(uuid.uuid4()), str(uuid.uuid4())
    headers = {"Content-Type": "application/json", "X-Notification-Key": key}
    fake.blocks[block_id] = {"id": block_id, "name": name, "data": {"url": url, "headers": headers}}
    fake.automations[automation_id] = {
        "id": automation_id,
        "name": name,
        "enabled": enabled,
        "actions": [{"type": "call-webhook", "block_document_id": block_id, "payload": "{}"}],
    }


def check(var_dir: Path, prefect_url: str, **env: str):
    return failbrief(
        var_dir, "check", **{"PREFECT_API_URL": prefect_url, "PREFECT_NOTIFICATIONS_WEBHOOK_KEY": KEY} | env
    )


def test_a_complete_setup_is_all_good(var_dir, prefect):
    install_automation(prefect)

    done = check(var_dir, prefect.url)

    assert done.returncode == 0, done.stdout + done.stderr
    assert "PROBLEM" not in done.stdout
    assert "'failbrief' enabled" in done.stdout
    assert "posts to http://fb:8000/webhooks/v1/notification/ with a key failbrief accepts" in done.stdout
    assert "all good" in done.stdout


def test_a_prefect_url_with_a_password_is_named_without_it(var_dir):
    """The same words are the reason an event shows (the read API, the Dalgo poll, failbrief events)
    while Prefect does not answer."""
    port = free_port()  # nothing listens there

    done = check(var_dir, f"http://admin:pr3fect-pa55@127.0.0.1:{port}/api")

    assert done.returncode == 1
    assert f"Prefect at http://127.0.0.1:{port}/api refused the connection" in done.stdout
    assert "pr3fect-pa55" not in done.stdout + done.stderr


def test_a_prefect_that_refuses_the_connection_is_named_with_the_fix(var_dir):
    with FakeAutomations() as gone:
        url = gone.url

    done = check(var_dir, url)

    assert done.returncode == 1
    assert f"PROBLEM Prefect: Prefect at {url} refused the connection" in done.stdout
    assert "fix: start Prefect, or set PREFECT_API_URL" in done.stdout
    assert "1 problem(s)" in done.stdout


def test_a_refused_api_key_names_prefect_api_key(var_dir):
    with FakeAutomations(api_key="the-right-key") as prefect:
        install_automation(prefect)
        wrong = check(var_dir, prefect.url, PREFECT_API_KEY="a-stale-key")
        right = check(var_dir, prefect.url, PREFECT_API_KEY="the-right-key")

    assert wrong.returncode == 1
    assert f"PROBLEM Prefect: Prefect at {prefect.url} refused our credentials (HTTP 401)" in wrong.stdout
    assert "fix: set PREFECT_API_KEY to a key this Prefect accepts" in wrong.stdout
    assert right.returncode == 0, right.stdout


def test_an_api_url_without_api_is_said_to_be_the_wrong_shape(var_dir, prefect):
    install_automation(prefect)

    done = check(var_dir, prefect.url.removesuffix("/api"))

    assert done.returncode == 1
    assert "answered 404 Not Found" in done.stdout
    assert "fix: set PREFECT_API_URL (or --prefect-url) to Prefect's REST API, ending in /api" in done.stdout


def test_no_failbrief_automation_in_prefect_says_to_run_setup_prefect(var_dir, prefect):
    done = check(var_dir, prefect.url)

    assert done.returncode == 1
    assert "PROBLEM automation: Prefect has no failbrief automation" in done.stdout
    assert "fix: run 'failbrief setup-prefect --public-url URL'" in done.stdout


def test_a_broker_that_does_not_answer_is_named(var_dir, prefect):
    install_automation(prefect)
    port = free_port()

    done = check(var_dir, prefect.url, CELERY_BROKER_URL=f"redis://127.0.0.1:{port}/0")

    assert done.returncode == 1
    assert f"PROBLEM broker: redis://127.0.0.1:{port}/0 does not answer" in done.stdout
    assert "fix: start the broker, or correct CELERY_BROKER_URL" in done.stdout
    assert "1 problem(s)" in done.stdout


def test_no_webhook_key_anywhere_says_every_webhook_is_refused(var_dir, prefect):
    install_automation(prefect)

    done = check(var_dir, prefect.url, PREFECT_NOTIFICATIONS_WEBHOOK_KEY="")

    assert done.returncode == 1
    assert "PROBLEM webhook key: none: the webhook endpoint refuses every request (503)" in done.stdout
    assert "fix: set PREFECT_NOTIFICATIONS_WEBHOOK_KEY" in done.stdout


def test_a_prefect_that_never_answers_is_given_up_on_after_one_timeout(var_dir):
    """A host that black-holes costs PREFECT_TIMEOUT_SECONDS once, not once per retry: at 3 a.m.
    the person running check waits for the verdict."""
    with BlackHole() as hole:
        url = f"http://127.0.0.1:{hole.port}/api"
        done = check(var_dir, url, PREFECT_TIMEOUT_SECONDS="3")
        tries = hole.connections

    assert done.returncode == 1
    assert f"PROBLEM Prefect: Prefect at {url} did not answer in time" in done.stdout
    assert tries == 1  # no retries with backoff on top of the timeout


def test_a_database_that_never_answers_is_given_up_on_within_seconds(tmp_path, prefect):
    """A PostgreSQL host that black-holes: psycopg's own default waits 130 s."""
    install_automation(prefect)
    with BlackHole() as hole:
        port = hole.port
        done = check(
            tmp_path / "var", prefect.url,
            DATABASE_URL=f"postgresql://failbrief:the-db-password@127.0.0.1:{port}/failbrief",
            SECRET_KEY="a-long-random-secret-key-for-this-test-only-0123456789",
            CELERY_BROKER_URL=f"redis://127.0.0.1:{free_port()}/0",
        )  # fmt: skip

    assert done.returncode == 1
    where = f"postgresql://failbrief:***@127.0.0.1:{port}/failbrief"
    assert f"PROBLEM database: {where} did not answer within 5 s" in done.stdout
    assert "the-db-password" not in done.stdout + done.stderr


def test_an_automation_whose_key_failbrief_refuses_is_a_problem(var_dir, prefect):
    """Left by another failbrief, or sending a key since replaced: every call it makes is a 401."""
    install_automation(prefect, key="the-key-of-another-failbrief")

    done = check(var_dir, prefect.url)

    assert done.returncode == 1
    assert (
        "PROBLEM automation: 'failbrief' sends an X-Notification-Key failbrief refuses (401)" in done.stdout
    )
    assert "fix: run 'failbrief setup-prefect --public-url URL' again" in done.stdout
    assert "the-key-of-another-failbrief" not in done.stdout


def test_a_disabled_automation_is_a_problem_beside_an_enabled_one(tmp_path, prefect):
    assert failbrief(tmp_path / "var", "org", "add", "acme", "--webhook-key", "acme-key").returncode == 0
    install_automation(prefect)
    install_automation(prefect, enabled=False, name="failbrief-acme", key="acme-key")

    done = check(tmp_path / "var", prefect.url)

    assert done.returncode == 1
    assert "ok      automation: 'failbrief' enabled" in done.stdout
    assert (
        "PROBLEM automation: 'failbrief-acme' is disabled: Prefect sends none of its failures" in done.stdout
    )
    assert "1 problem(s)" in done.stdout


def test_an_org_automation_sending_the_orgs_key_is_all_good(tmp_path, prefect):
    assert failbrief(tmp_path / "var", "org", "add", "acme", "--webhook-key", "acme-key").returncode == 0
    install_automation(prefect, name="failbrief-acme", key="acme-key")

    done = check(tmp_path / "var", prefect.url, PREFECT_NOTIFICATIONS_WEBHOOK_KEY="")

    assert done.returncode == 0, done.stdout
    assert "'failbrief-acme' enabled, posts to" in done.stdout


def test_an_automation_posting_past_failbriefs_webhook_is_a_problem(var_dir, prefect):
    """setup-prefect given the webhook's own URL as --public-url: every call is a 404."""
    install_automation(prefect, url="http://fb:8000/webhooks/v1/notification/webhooks/v1/notification/")

    done = check(var_dir, prefect.url)

    assert done.returncode == 1
    assert (
        "PROBLEM automation: 'failbrief' posts to http://fb:8000/webhooks/v1/notification/webhooks/v1/notification/,"
        " not to a failbrief webhook (BASE/webhooks/v1/notification/)"
    ) in done.stdout


def test_with_public_url_an_automation_posting_to_another_failbrief_is_a_problem(var_dir, prefect):
    install_automation(prefect, url="http://old-failbrief:8000/webhooks/v1/notification/")

    done = failbrief(
        var_dir, "check", "--public-url", "http://fb:8000",
        PREFECT_API_URL=prefect.url, PREFECT_NOTIFICATIONS_WEBHOOK_KEY=KEY,
    )  # fmt: skip

    assert done.returncode == 1
    assert (
        "PROBLEM automation: 'failbrief' posts to http://old-failbrief:8000/webhooks/v1/notification/, "
        "not to this failbrief (http://fb:8000/webhooks/v1/notification/)"
    ) in done.stdout
    assert "fix: run 'failbrief setup-prefect --public-url http://fb:8000'" in done.stdout


def test_a_password_in_prefect_api_url_is_never_printed(var_dir):
    """A Prefect behind a proxy with basic auth carries it in the URL; check's output is pasted into
    tickets and chats."""
    with FakeAutomations() as gone:
        url = gone.url.replace("http://", "http://ops:the-proxy-password@")

    done = check(var_dir, url)

    assert done.returncode == 1
    assert "PROBLEM Prefect: Prefect at http://127.0.0.1:" in done.stdout  # shown without credentials
    assert "the-proxy-password" not in done.stdout + done.stderr


def test_what_makes_the_servers_refuse_to_start_on_postgresql_is_named(tmp_path, prefect):
    """`failbrief web` refuses to start without a shared broker or a vault key on PostgreSQL;
    check said 'ok broker' (the embedded one answers, on this host only) and nothing of the key."""
    install_automation(prefect)

    done = check(
        tmp_path / "var", prefect.url,
        DATABASE_URL=f"postgresql://failbrief@127.0.0.1:{free_port()}/failbrief",
        SECRET_KEY="a-long-random-secret-key-for-this-test-only-0123456789",
    )  # fmt: skip

    assert done.returncode == 1
    assert (
        "PROBLEM broker: CELERY_BROKER_URL is not set; a PostgreSQL deployment needs a broker" in done.stdout
    )
    assert "PROBLEM vault key: FAILBRIEF_VAULT_KEY is not set" in done.stdout
    assert "fix: make one with 'failbrief vault generate-key'" in done.stdout


def test_a_vault_key_that_reads_none_of_the_stored_secrets_is_named(tmp_path, prefect):
    """A host given another key than the one the secrets were sealed with: its web server and
    workers refuse to start; check said nothing."""
    install_automation(prefect)
    var = tmp_path / "var"
    assert failbrief(var, "org", "add", "acme").returncode == 0
    added = failbrief(
        var, "channel", "add", "acme", "hook", "--kind", "webhook", "--url", "https://example.org/h"
    )
    assert added.returncode == 0, added.stderr
    other_key = failbrief(var, "vault", "generate-key").stdout.strip()

    wrong = check(var, prefect.url, FAILBRIEF_VAULT_KEY=other_key)
    right = check(var, prefect.url)

    assert wrong.returncode == 1
    assert "PROBLEM vault key: FAILBRIEF_VAULT_KEY decrypts none of the 1 stored secret(s)" in wrong.stdout
    assert right.returncode == 0, right.stdout
    assert "ok      vault key: " in right.stdout
