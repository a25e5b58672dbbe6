"""Secrets stored for an org (its Airbyte token; its channels' configs, which hold webhook URLs and
HMAC secrets): encrypted at rest with the vault key, and never shown back.

The vault key is FAILBRIEF_VAULT_KEY, else `var/vault.key` (made 0600 with a random key on first
use). It is not derived from anything in the database or the source, so the database file alone
decrypts nothing. See vault_keys.py for the keys, vault_rotate.py for moving secrets between keys."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

from failbrief.orgs import vault_keys


class VaultError(ValueError):
    """A stored secret cannot be read, e.g. the vault key changed since it was stored."""


def current_keys() -> list[str]:
    """The vault's keys, the one that encrypts first."""
    if settings.VAULT_KEYS:
        return list(settings.VAULT_KEYS)
    try:
        return vault_keys.load(settings.VAULT_KEY_FILE)
    except vault_keys.KeyFileError as exc:
        raise VaultError(str(exc)) from None


def key_source() -> str:
    """Where the keys come from, for messages."""
    return "FAILBRIEF_VAULT_KEY" if settings.VAULT_KEYS else str(settings.VAULT_KEY_FILE)


def fernet_of(key_list: list[str]) -> MultiFernet:
    return MultiFernet([Fernet(key.encode()) for key in key_list])


def seal(secret: str) -> str:
    return fernet_of(current_keys()).encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return fernet_of(current_keys()).decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise VaultError(
            f"a stored secret cannot be decrypted with the vault key ({key_source()}): was the key "
            "changed or lost? store the secret again"
        ) from None
