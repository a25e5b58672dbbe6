"""The vault's keys: Fernet keys, the first of which encrypts and all of which decrypt.

They come from FAILBRIEF_VAULT_KEY (read by settings.py) or from a key file, `var/vault.key`, made
0600 with a random key on first use: one key a line, the newest first. The key file is read again
whenever it changes, so `failbrief vault rotate` reaches running processes without a restart.

Pure: no Django, no settings."""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import threading
from pathlib import Path

from cryptography.fernet import Fernet

from failbrief.lib.private_files import PRIVATE_FILE, create_private, write_private


class KeyFileError(ValueError):
    """The key file cannot be used; the message names it and says why."""


def new_key() -> str:
    return Fernet.generate_key().decode()


def is_key(text: str) -> bool:
    try:
        return len(base64.urlsafe_b64decode(text.encode("ascii"))) == 32
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False


def legacy_key(secret_key: str) -> str:
    """The key failbrief used before the vault key: derived from SECRET_KEY, which on the embedded
    defaults is a constant in the source, so anyone with the database file could decrypt. Only
    moving old secrets to the vault key uses it."""
    digest = hashlib.sha256(f"failbrief-vault:{secret_key}".encode()).digest()
    return base64.urlsafe_b64encode(digest).decode()


def parse(text: str, where: str) -> list[str]:
    keys = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not keys:
        raise KeyFileError(f"{where} holds no key")
    for number, key in enumerate(keys, start=1):
        if not is_key(key):
            raise KeyFileError(f"{where}: key {number} is not a Fernet key (44 URL-safe base64 characters)")
    return keys


def render(keys: list[str]) -> str:
    return (
        "# failbrief's vault key: it decrypts the stored secrets. Keep it secret, keep a backup apart\n"
        "# from the database. The first key encrypts; any later ones are being rotated out.\n"
        + "".join(f"{key}\n" for key in keys)
    )


_lock = threading.Lock()
_cache: dict[Path, tuple[tuple[int, int, int], list[str]]] = {}


def load(path: Path) -> list[str]:
    """The file's keys, making the file with a new random key if it does not exist yet."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        create_private(path, render([new_key()]))  # another process may win the race: read its key
        stat = path.stat()
    if stat.st_mode & 0o077:
        with contextlib.suppress(PermissionError):
            path.chmod(PRIVATE_FILE)  # made or copied by hand with a looser mode
    signature = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == signature:
            return cached[1]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyFileError(f"cannot read the vault key file {path}: {exc.strerror}") from None
    keys = parse(text, str(path))
    with _lock:
        _cache[path] = (signature, keys)
    return keys


def save(path: Path, keys: list[str]) -> None:
    """Replace the file's keys at once (0600): a process reads the old list or the new one."""
    write_private(path, render(keys))  # a new inode: every process sees the change
