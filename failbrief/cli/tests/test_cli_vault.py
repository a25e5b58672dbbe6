"""The vault: stored secrets (Airbyte tokens, channel URLs, webhook HMAC secrets) are encrypted with a
random key kept apart from the database, so whoever copies the database file reads none of them.
Each test runs failbrief as an operator would: real processes on a real SQLite database in var/."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet, InvalidToken

from failbrief.settings import _DEV_SECRET

AIRBYTE_TOKEN = "airbyte-token-7f3e9a"
HOOK_URL = "http://127.0.0.1:9/hooks/T0/B0/channelpath4c1d"
HMAC_SECRET = "hmac-secret-81b2"


def legacy_key(secret_key: str) -> str:
    """How failbrief derived the key before the vault key existed, as anyone can read in its source."""
    digest = hashlib.sha256(f"failbrief-vault:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def failbrief(var_dir: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    drop = {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY", "FAILBRIEF_VAULT_KEY"}
    full_env = {k: v for k, v in os.environ.items() if k not in drop} | {
        "FAILBRIEF_VAR_DIR": str(var_dir),
        "FAILBRIEF_NOTIFY_ALLOW_PRIVATE": "true",
        **env,
    }
    done = subprocess.run(
        [sys.executable, "-m", "failbrief.cli", *args],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done


def store_secrets(var_dir: Path, **env: str) -> None:
    """An org with its own Airbyte token and a signed-webhook channel (URL and HMAC secret)."""
    failbrief(var_dir, "org", "add", "acme", **env)
    failbrief(var_dir, "org", "set", "acme", "--airbyte-url", "http://airbyte:8000/api/v1", **env)
    failbrief(var_dir, "org", "set", "acme", "--airbyte-token", AIRBYTE_TOKEN, **env)
    failbrief(
        var_dir,
        "channel",
        "add",
        "acme",
        "ops",
        "--kind",
        "webhook",
        "--url",
        HOOK_URL,
        "--secret",
        HMAC_SECRET,
        **env,
    )


def sealed_values(database: Path) -> list[str]:
    """What the database file holds for the secrets, read from a copy as a thief would."""
    copy = database.parent.parent / "stolen.sqlite3"
    shutil.copyfile(database, copy)
    if database.with_name(database.name + "-wal").exists():
        shutil.copyfile(database.with_name(database.name + "-wal"), copy.with_name(copy.name + "-wal"))
    with sqlite3.connect(copy) as db:
        rows = db.execute("SELECT airbyte_token_encrypted FROM orgs_org WHERE slug = 'acme'").fetchall()
        rows += db.execute("SELECT config_sealed FROM notify_notifychannel").fetchall()
    values = [value for (value,) in rows]
    assert len(values) == 2
    return values


def key_file_keys(var_dir: Path) -> list[str]:
    lines = (var_dir / "vault.key").read_text().splitlines()
    return [line for line in lines if line and not line.startswith("#")]


def opens(value: str, keys: list[str]) -> str | None:
    for key in keys:
        try:
            return Fernet(key.encode()).decrypt(value.encode()).decode()
        except InvalidToken:
            continue
    return None


def assert_the_secrets_are(values: list[str], keys: list[str]) -> None:
    token, config = (opens(value, keys) for value in values)
    assert token == AIRBYTE_TOKEN
    assert config is not None
    assert HOOK_URL in config
    assert HMAC_SECRET in config


def test_the_database_file_alone_decrypts_no_stored_secret(tmp_path: Path):
    var_dir = tmp_path / "var"
    store_secrets(var_dir)
    values = sealed_values(var_dir / "failbrief.sqlite3")
    for value in values:
        assert AIRBYTE_TOKEN not in value
        assert "channelpath4c1d" not in value
    # Everything a thief has besides the file: the source, hence the default settings and how a key
    # used to be derived from SECRET_KEY.
    assert opens(values[0], [legacy_key(_DEV_SECRET)]) is None
    assert opens(values[1], [legacy_key(_DEV_SECRET)]) is None
    # With the key file, which stays behind on the host, they open.
    assert_the_secrets_are(values, key_file_keys(var_dir))


def test_var_files_are_readable_by_the_service_user_alone(tmp_path: Path):
    var_dir = tmp_path / "var"
    store_secrets(var_dir)
    for name in ("failbrief.sqlite3", "celery-broker.sqlite3", "vault.key"):
        assert stat.S_IMODE((var_dir / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(var_dir.stat().st_mode) == 0o700


def test_an_install_that_left_its_files_world_readable_is_made_private_on_start(tmp_path: Path):
    var_dir = tmp_path / "var"
    store_secrets(var_dir)
    var_dir.chmod(0o755)
    for path in var_dir.iterdir():
        path.chmod(0o644)
    failbrief(var_dir, "migrate")
    assert stat.S_IMODE(var_dir.stat().st_mode) == 0o700
    for name in ("failbrief.sqlite3", "celery-broker.sqlite3", "vault.key"):
        assert stat.S_IMODE((var_dir / name).stat().st_mode) == 0o600, name


def test_an_upgraded_install_moves_its_secrets_off_the_secret_key_on_first_start(tmp_path: Path):
    var_dir = tmp_path / "var"
    store_secrets(var_dir)
    # What an install made before the vault key holds: secrets under the key derived from SECRET_KEY,
    # and no key file.
    old = Fernet(legacy_key(_DEV_SECRET).encode())
    with sqlite3.connect(var_dir / "failbrief.sqlite3") as db:
        db.execute(
            "UPDATE orgs_org SET airbyte_token_encrypted = ?", [old.encrypt(AIRBYTE_TOKEN.encode()).decode()]
        )
        config = f'{{"url": "{HOOK_URL}", "secret": "{HMAC_SECRET}"}}'
        db.execute(
            "UPDATE notify_notifychannel SET config_sealed = ?", [old.encrypt(config.encode()).decode()]
        )
    (var_dir / "vault.key").unlink()
    refused = subprocess.run(
        [sys.executable, "-m", "failbrief.cli", "web"],
        capture_output=True,
        text=True,
        env={k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
        | {"FAILBRIEF_VAR_DIR": str(var_dir)},
        timeout=120,
    )
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "Error: 2 stored secret(s) are still under the key derived from SECRET_KEY; "
        "run 'failbrief migrate' first"
    )

    started = failbrief(var_dir, "migrate")

    assert "2 stored secret(s) re-encrypted under the vault key" in started.stderr
    values = sealed_values(var_dir / "failbrief.sqlite3")
    assert opens(values[0], [legacy_key(_DEV_SECRET)]) is None
    assert opens(values[1], [legacy_key(_DEV_SECRET)]) is None
    assert_the_secrets_are(values, key_file_keys(var_dir))
    again = failbrief(var_dir, "migrate")  # the next start has nothing left to move
    assert "re-encrypted" not in again.stderr


def test_rotate_moves_every_secret_under_a_new_key_and_drops_the_old(tmp_path: Path):
    var_dir = tmp_path / "var"
    store_secrets(var_dir)
    [old_key] = key_file_keys(var_dir)

    rotated = failbrief(var_dir, "vault", "rotate")

    assert "2 stored secret(s) re-encrypted under a new key" in rotated.stderr
    [new_key] = key_file_keys(var_dir)
    assert new_key != old_key
    values = sealed_values(var_dir / "failbrief.sqlite3")
    assert opens(values[0], [old_key]) is None
    assert opens(values[1], [old_key]) is None
    assert_the_secrets_are(values, [new_key])
    assert stat.S_IMODE((var_dir / "vault.key").stat().st_mode) == 0o600
    # failbrief itself still reads them: the channel list shows the channel, a test send decrypts it.
    listed = failbrief(var_dir, "channel", "list", "acme").stdout
    assert listed.startswith("ops\twebhook\tenabled")


def test_a_rotation_cut_short_keeps_both_keys_and_finishes_when_run_again(tmp_path: Path):
    var_dir = tmp_path / "var"
    store_secrets(var_dir)
    [old_key] = key_file_keys(var_dir)
    new_key = Fernet.generate_key().decode()
    # Where `vault rotate` stands after writing the new key and before moving a single secret.
    (var_dir / "vault.key").write_text(f"{new_key}\n{old_key}\n")

    finished = failbrief(var_dir, "vault", "rotate")

    assert "finishing the rotation" in finished.stderr
    assert key_file_keys(var_dir) == [new_key]
    assert_the_secrets_are(sealed_values(var_dir / "failbrief.sqlite3"), [new_key])


def test_rotate_with_the_key_in_the_environment_moves_secrets_to_its_first_key(tmp_path: Path):
    var_dir = tmp_path / "var"
    old_key, new_key = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    store_secrets(var_dir, FAILBRIEF_VAULT_KEY=old_key)
    assert not (var_dir / "vault.key").exists()

    rotated = failbrief(var_dir, "vault", "rotate", FAILBRIEF_VAULT_KEY=f"{new_key},{old_key}")

    assert "2 secret(s) moved under the first FAILBRIEF_VAULT_KEY" in rotated.stderr
    assert_the_secrets_are(sealed_values(var_dir / "failbrief.sqlite3"), [new_key])


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("not-a-key", "FAILBRIEF_VAULT_KEY: key 1 is not a Fernet key"),
        (f"{Fernet.generate_key().decode()},short", "FAILBRIEF_VAULT_KEY: key 2 is not a Fernet key"),
    ],
    ids=["not-a-key", "good-key-then-short"],  # stable ids: parallel workers must collect the same tests
)
def test_a_malformed_vault_key_stops_start_up_with_one_line(tmp_path: Path, value: str, says: str):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "failbrief.cli", "org", "list"],
        env=env | {"FAILBRIEF_VAR_DIR": str(tmp_path / "var"), "FAILBRIEF_VAULT_KEY": value},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert says in done.stderr
    assert "Traceback" not in done.stderr
