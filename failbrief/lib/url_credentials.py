"""A URL as it may be shown: without the user and password it may carry. Pure."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def without_credentials(url: str) -> str:
    """`url` without its `user:password@` (`https://u:p@host/api` → `https://host/api`), for
    messages, logs and links: a URL with a password in it is a password in every one of them."""
    try:
        parts = urlsplit(url)
    except ValueError:  # an unbalanced "[": nothing of it is shown, in case it holds a password
        return "(not a valid URL)"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def without_password(url: str) -> str:
    """`url` with its password as `***` and its user kept (`postgresql://failbrief:***@db/failbrief`):
    for lines that must say which account was refused."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)
    user = (parts.username or "") + ":***"
    return urlunsplit(parts._replace(netloc=f"{user}@{netloc[-1]}"))
