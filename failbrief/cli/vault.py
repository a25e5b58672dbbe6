"""failbrief vault …: the key that encrypts the stored secrets (Airbyte tokens, channel configs)."""

from __future__ import annotations

import click

from failbrief.cli.django_setup import migrate, setup_django


@click.group("vault")
def vault_group() -> None:
    """The vault key: FAILBRIEF_VAULT_KEY, else var/vault.key (made on first start, mode 0600)."""


@vault_group.command("generate-key")
def generate_key() -> None:
    """Print a new random key on stdout, for FAILBRIEF_VAULT_KEY."""
    from failbrief.orgs.vault_keys import new_key

    click.echo(new_key())


@vault_group.command("rotate")
def rotate() -> None:
    """Re-encrypt every stored secret under a new key.

    With var/vault.key: writes a new key before the old one, moves every secret under it, then
    drops the old key (run again to finish a rotation that was interrupted). With
    FAILBRIEF_VAULT_KEY=NEW,OLD (set on every host, processes restarted): moves every secret under
    NEW; then set FAILBRIEF_VAULT_KEY=NEW everywhere."""
    setup_django()
    migrate()
    from django.conf import settings

    from failbrief.orgs import vault_keys
    from failbrief.orgs.vault import VaultError
    from failbrief.orgs.vault_rotate import rotate_to_first_key

    try:
        if settings.VAULT_KEYS:
            done = rotate_to_first_key()
            click.echo(f"vault: {done.moved} secret(s) moved under the first FAILBRIEF_VAULT_KEY", err=True)
            if len(settings.VAULT_KEYS) > 1:
                click.echo(
                    "  every secret is under the first key now: "
                    "set FAILBRIEF_VAULT_KEY to it alone on every host",
                    err=True,
                )
            else:
                click.echo(
                    "  to replace the key: put a new one first (failbrief vault generate-key), "
                    "FAILBRIEF_VAULT_KEY=NEW,OLD, restart, run this again",
                    err=True,
                )
        else:
            path = settings.VAULT_KEY_FILE
            keys = vault_keys.load(path)
            if len(keys) == 1:
                keys = [vault_keys.new_key(), *keys]
                vault_keys.save(path, keys)  # the old key stays until every secret is moved
            else:
                click.echo(f"vault: finishing the rotation {path} was in", err=True)
            done = rotate_to_first_key()
            vault_keys.save(path, keys[:1])
            click.echo(
                f"vault: {done.moved} stored secret(s) re-encrypted under a new key in {path}; "
                "the old key is gone",
                err=True,
            )
    except (VaultError, vault_keys.KeyFileError) as exc:
        raise click.ClickException(f"vault: {exc}") from None
    if done.unreadable:
        for label in done.unreadable:
            click.echo(f"warning: the stored secret of {label} cannot be decrypted with any key", err=True)
        raise click.ClickException(f"{len(done.unreadable)} stored secret(s) must be stored again")
