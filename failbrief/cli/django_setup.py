"""Commands that touch the database set Django up lazily, so `failbrief condense` stays Django-free."""

from __future__ import annotations

import os

import click


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
