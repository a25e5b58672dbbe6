"""Moving every stored secret under one vault key: after an upgrade, off the old key derived from
SECRET_KEY (`failbrief migrate` and every start of `failbrief run`), and onto a new key
(`failbrief vault rotate`).

Each secret is rewritten only if it still holds the ciphertext that was read (compare and set), so a
secret stored again meanwhile is never overwritten with an older one."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.db import models

from failbrief.orgs import vault
from failbrief.orgs.vault_keys import legacy_key


@dataclass(frozen=True)
class StoredSecret:
    label: str  # says which secret it is, without showing it
    model: type[models.Model]
    pk: int
    column: str
    sealed: str


@dataclass
class Resealed:
    moved: int = 0
    unreadable: list[str] = field(default_factory=list)


def stored_secrets() -> Iterator[StoredSecret]:
    """Every sealed value in the database."""
    org_model = apps.get_model("orgs", "Org")
    for org in org_model.objects.exclude(airbyte_token_encrypted="").order_by("pk"):
        label = f"org {org.slug}: Airbyte token"
        yield StoredSecret(label, org_model, org.pk, "airbyte_token_encrypted", org.airbyte_token_encrypted)
    channel_model = apps.get_model("notify", "NotifyChannel")
    for channel in channel_model.objects.exclude(config_sealed="").select_related("org").order_by("pk"):
        label = f"channel {channel.org.slug}/{channel.name}"
        yield StoredSecret(label, channel_model, channel.pk, "config_sealed", channel.config_sealed)


def reseal(writer: str, readers: list[str], leave: list[str]) -> Resealed:
    """Re-encrypt under `writer`, reading it with any of `readers`, every secret that none of the
    `leave` keys can read. A secret no key reads is left as it is and named in the result."""
    settled = MultiFernet([Fernet(key.encode()) for key in leave])
    moving = MultiFernet([Fernet(writer.encode()), *(Fernet(key.encode()) for key in readers)])
    done = Resealed()
    for secret in stored_secrets():
        token = secret.sealed.encode()
        try:
            settled.decrypt(token)
            continue
        except InvalidToken:
            pass
        try:
            fresh = moving.rotate(token).decode()
        except InvalidToken:
            done.unreadable.append(secret.label)
            continue
        unchanged = secret.model._default_manager.filter(pk=secret.pk, **{secret.column: secret.sealed})
        done.moved += unchanged.update(**{secret.column: fresh})
    return done


def legacy_secrets() -> list[str]:
    """The secrets still under the key derived from SECRET_KEY (labels), waiting for `failbrief migrate`."""
    current = MultiFernet([Fernet(key.encode()) for key in vault.current_keys()])
    legacy = Fernet(legacy_key(settings.SECRET_KEY).encode())
    waiting = []
    for secret in stored_secrets():
        try:
            current.decrypt(secret.sealed.encode())
            continue
        except InvalidToken:
            pass
        try:
            legacy.decrypt(secret.sealed.encode())
            waiting.append(secret.label)
        except InvalidToken:
            pass
    return waiting


def sealed_with_another_key() -> int:
    """How many secrets are stored, when the vault keys decrypt none of them; else 0. A host whose
    FAILBRIEF_VAULT_KEY is not the one the others sealed with reads none; a secret or two that no
    key reads (stored again since, or damaged) is not that, and is named by `failbrief migrate`."""
    current = MultiFernet([Fernet(key.encode()) for key in vault.current_keys()])
    unread = 0
    for secret in stored_secrets():
        try:
            current.decrypt(secret.sealed.encode())
            return 0
        except InvalidToken:
            unread += 1
    return unread


def move_legacy_secrets() -> Resealed:
    """Secrets stored before the vault key existed were encrypted with a key derived from SECRET_KEY;
    move them under the vault key, so they stay readable and the database alone no longer is."""
    keys = vault.current_keys()
    return reseal(keys[0], [legacy_key(settings.SECRET_KEY)], leave=keys)


def rotate_to_first_key() -> Resealed:
    """Move every secret under the first vault key, until none is left under another; then the
    other keys (and the legacy one) decrypt nothing and may go."""
    keys = vault.current_keys()
    readers = [*keys, legacy_key(settings.SECRET_KEY)]
    total = reseal(keys[0], readers, leave=keys[:1])
    # A process that read the key list just before it changed may have sealed one secret under the
    # old key since; a second pass finds it (and normally moves nothing).
    again = reseal(keys[0], readers, leave=keys[:1])
    total.moved += again.moved
    total.unreadable = again.unreadable
    return total
