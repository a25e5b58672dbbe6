"""Commands that touch the database set Django up lazily, so `failbrief condense` stays Django-free."""

from __future__ import annotations

import contextlib
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

import click

# pg_advisory_lock's key for `failbrief migrate` ("fail" in ASCII): any constant all hosts share.
MIGRATE_LOCK_KEY = 0x6661696C


def setup_django() -> None:
    """Configure Django; a bad setting becomes one clear line and exit status 1."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "failbrief.settings")
    import django
    from django.core.exceptions import ImproperlyConfigured

    try:
        django.setup()
    except ImproperlyConfigured as exc:
        raise click.ClickException(f"configuration error: {exc}") from None


def migrate(verbosity: int = 0) -> None:
    """Bring the database up to date: tables, the cache table (rate limits, when the cache is the
    database), and secrets stored under the pre-vault key moved under the vault key."""
    from django.core.management import call_command

    from failbrief.cli.preflight import require_vault_key
    from failbrief.orgs.vault import VaultError
    from failbrief.orgs.vault_rotate import move_legacy_secrets

    # Every command that stores or reads secrets comes here first: on PostgreSQL none may seal with
    # a key file of this host's own.
    require_vault_key()
    with _one_migrate_at_a_time():
        call_command("migrate", interactive=False, verbosity=verbosity)
        call_command("createcachetable", verbosity=verbosity)
        try:
            moved = move_legacy_secrets()
        except VaultError as exc:
            raise click.ClickException(f"vault: {exc}") from None
    if moved.moved:
        click.echo(
            f"vault: {moved.moved} stored secret(s) re-encrypted under the vault key "
            "(they were under the key derived from SECRET_KEY)",
            err=True,
        )
    for label in moved.unreadable:
        click.echo(f"warning: vault: the secret of {label} cannot be decrypted; store it again", err=True)


@contextlib.contextmanager
def _one_migrate_at_a_time() -> Iterator[None]:
    """Hold the database's migration lock: two hosts starting together (each web unit's
    `ExecStartPre=failbrief migrate`) would otherwise both create the same tables, and one of them
    fail with a traceback. The second waits, then finds nothing left to apply."""
    from django.conf import settings
    from django.db import connections

    from failbrief.lib.private_files import private_file

    if settings.USES_SQLITE:
        name = str(settings.DATABASES["default"]["NAME"])
        if name in {"", ":memory:"}:
            yield
            return
        # An embedded database serves one host, so a lock file beside it is enough.
        path = Path(name).with_name(Path(name).name + ".migrate-lock")
        private_file(path)
        with open(path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield
        return
    # A connection of its own: migrate may close the default one, and the lock is the session's.
    # It is polled, not waited for: a statement blocked in pg_advisory_lock would in turn hold up
    # the holder's CREATE INDEX CONCURRENTLY, which waits for every running transaction to end.
    holder = connections.create_connection("default")
    try:
        while True:
            with holder.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.5)
        yield
    finally:
        holder.close()  # ends the session, and with it the lock
