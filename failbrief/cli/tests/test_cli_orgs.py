"""failbrief org … / token …, run as a person or a script would: a real process on a real database."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def failbrief(
    var_dir: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"FAILBRIEF_VAR_DIR": str(var_dir)}
    return subprocess.run(
        [sys.executable, "-m", "failbrief.cli", *args],
        capture_output=True,
        text=True,
        env=base | (env or {}),
        timeout=120,
        check=False,
    )


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


def test_token_create_prints_only_the_token_on_stdout(var_dir):
    assert failbrief(var_dir, "org", "add", "acme").returncode == 0
    made = failbrief(var_dir, "token", "create", "acme")
    assert made.returncode == 0
    assert made.stdout.count("\n") == 1
    assert made.stdout.startswith("fb_")
    assert "shown once" in made.stderr


def test_a_platform_token_is_created_listed_and_revoked(var_dir):
    assert failbrief(var_dir, "org", "add", "acme").returncode == 0
    org_token = failbrief(var_dir, "token", "create", "acme", "--label", "scripts").stdout.strip()
    made = failbrief(var_dir, "token", "create", "--platform", "dalgo", "--label", "DDP_backend")
    assert made.returncode == 0
    assert made.stdout.count("\n") == 1
    platform_token = made.stdout.strip()
    assert platform_token.startswith("fb_")
    assert "platform dalgo" in made.stderr
    assert "shown once" in made.stderr

    listing = failbrief(var_dir, "token", "list").stdout.splitlines()
    assert [line.split("\t")[1] for line in listing] == ["org:acme", "platform:dalgo"]
    assert [line.split("\t")[0] for line in listing] == [org_token[:10], platform_token[:10]]
    assert listing[1].endswith("\tDDP_backend")
    assert platform_token not in "\n".join(listing)  # only the prefix is ever shown

    revoked = failbrief(var_dir, "token", "revoke", platform_token[:10])
    assert revoked.returncode == 0
    assert "platform:dalgo" in revoked.stderr
    assert [line.split("\t")[1] for line in failbrief(var_dir, "token", "list").stdout.splitlines()] == [
        "org:acme"
    ]


def test_org_add_with_a_generated_key_and_org_list(var_dir):
    added = failbrief(var_dir, "org", "add", "acme", "--default", "--webhook-key", "-")
    assert added.returncode == 0
    assert added.stdout.strip().startswith("fb_")
    listing = failbrief(var_dir, "org", "list").stdout
    assert listing.strip() == "acme\tdefault,webhook-key\ttokens=0"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("org", "add", "not a slug"), "not a valid slug"),
        (("token", "create", "nobody"), "no org 'nobody'"),
        (("token", "create"), "give either an org SLUG or --platform NAME"),
        (("token", "create", "acme", "--platform", "dalgo"), "give either an org SLUG or --platform NAME"),
        (("token", "create", "--platform", "not a name"), "not a valid platform name"),
        (("token", "revoke", "fb_nothing"), "no token 'fb_nothing'"),
    ],
)
def test_mistakes_get_one_clear_line_and_a_nonzero_exit(var_dir, args, says):
    done = failbrief(var_dir, *args)
    assert done.returncode != 0
    assert says in done.stderr


def test_adding_an_org_twice_is_refused(var_dir):
    failbrief(var_dir, "org", "add", "acme")
    again = failbrief(var_dir, "org", "add", "acme")
    assert again.returncode != 0
    assert "already exists" in again.stderr


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("FAILBRIEF_LOG_SETTLE_SECONDS", "soon", "FAILBRIEF_LOG_SETTLE_SECONDS must be a number"),
        ("DATABASE_URL", "mysql://x/y", "DATABASE_URL must be a URL with one of the schemes"),
        ("CELERY_BROKER_URL", "kafka://x", "CELERY_BROKER_URL must be a URL"),
        ("LLM_PROVIDER", "gpt", "LLM_PROVIDER must be one of"),
    ],
)
def test_a_bad_setting_stops_start_up_with_one_clear_line(var_dir, name, value, says):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env |= {"FAILBRIEF_VAR_DIR": str(var_dir), name: value}
    done = subprocess.run(
        [sys.executable, "-m", "failbrief.cli", "org", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert len(done.stderr.strip().splitlines()) == 1
    assert says in done.stderr


def test_map_deployment_refuses_what_is_not_a_deployment_id(var_dir):
    """A deployment's name, or a mistyped id, was stored and silently never matched a run."""
    assert failbrief(var_dir, "org", "add", "acme").returncode == 0

    by_name = failbrief(var_dir, "org", "map-deployment", "acme", "nightly-load/prod")
    by_upper_id = failbrief(var_dir, "org", "map-deployment", "acme", "0B59DFE2-2741-41E2-8685-DBC036B23E5D")

    assert by_name.returncode == 1
    assert "'nightly-load/prod' is not a Prefect deployment id (a UUID" in by_name.stderr
    assert by_upper_id.returncode == 0, by_upper_id.stderr
    # Prefect sends ids in lower case: the mapping is stored as it will be compared.
    assert "deployment 0b59dfe2-2741-41e2-8685-dbc036b23e5d → acme" in by_upper_id.stderr


def test_a_channel_test_blocked_by_the_network_rule_says_not_sent_once(var_dir):
    allow = {"FAILBRIEF_NOTIFY_ALLOW_PRIVATE": "true"}
    assert failbrief(var_dir, "org", "add", "acme").returncode == 0
    added = failbrief(var_dir, "channel", "add", "acme", "ops", "--kind", "slack", "--url", "http://127.0.0.1:9/x",
                      env=allow)  # fmt: skip
    assert added.returncode == 0, added.stderr

    done = failbrief(var_dir, "channel", "test", "acme", "ops")

    assert done.returncode == 1
    assert done.stderr.startswith("Error: not sent: 127.0.0.1 points into a private")
    assert "not sent: not sent" not in done.stderr


def test_a_new_default_org_says_which_org_stopped_being_the_default(var_dir):
    """Runs no rule matches go to the default org: moving it silently moves them."""
    assert failbrief(var_dir, "org", "add", "acme", "--default").returncode == 0

    done = failbrief(var_dir, "org", "add", "beta", "--default")

    assert done.returncode == 0, done.stderr
    assert "created org beta (default)" in done.stderr
    assert "org acme is no longer the default: runs no other rule matches now belong to beta" in done.stderr


def test_optin_wants_an_email_for_who_decided(var_dir):
    assert failbrief(var_dir, "org", "add", "acme").returncode == 0

    done = failbrief(var_dir, "org", "optin", "acme", "--by", "me")

    assert done.returncode == 1
    assert "--by: 'me' is not an email address" in done.stderr
    assert "LLM use on" not in done.stderr
