"""Secrets stored for an org (e.g. its Airbyte token): encrypted at rest with a key derived from
SECRET_KEY, and never shown back."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


class VaultError(ValueError):
    """A stored secret cannot be read, e.g. SECRET_KEY changed since it was stored."""


def _fernet() -> Fernet:
    key = hashlib.sha256(f"failbrief-vault:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def seal(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def unseal(sealed: str) -> str:
    try:
        return _fernet().decrypt(sealed.encode()).decode()
    except InvalidToken:
        raise VaultError(
            "a stored secret cannot be decrypted: was SECRET_KEY changed? store it again"
        ) from None
