"""Checks the channels share in clean_config and describe: known keys only, and webhook URLs that
are safe to store and to show. Pure: no Django."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from urllib.parse import urlsplit

from failbrief.notify.channels.base import ConfigError

# Plain http only to this machine: local receivers and tests. Anything else carries a token in
# its URL, which must not cross the network in clear.
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_URL_LENGTH = 2048


def only_keys(raw: Mapping[str, object], kind: str, allowed: Collection[str]) -> None:
    """ConfigError naming the first key `kind` does not know (a misspelt key is not ignored)."""
    for key in raw:
        if key not in allowed:
            raise ConfigError(f"{kind} config has no key {key!r}; it takes {', '.join(allowed)}")


def text_value(raw: Mapping[str, object], key: str, kind: str) -> str:
    """The stripped string at `key`, or "" when absent or empty; ConfigError when not a string."""
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ConfigError(f"{kind} config {key!r} must be a string, not {type(value).__name__}")
    return value.strip()


def webhook_url(value: str, kind: str) -> str:
    """`value` if it is an https URL (http only to 127.0.0.1/localhost), else ConfigError. The
    reason never repeats the URL: it carries the webhook's token."""
    if not value:
        raise ConfigError(f"{kind} needs a webhook URL (config key 'url')")
    if len(value) > MAX_URL_LENGTH or any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ConfigError(
            f"{kind} webhook URL must be one line without spaces, at most {MAX_URL_LENGTH} chars"
        )
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018  (a bad port raises only when read)
    except ValueError:
        raise ConfigError(f"{kind} webhook URL is not a valid URL") from None
    host = parts.hostname or ""
    if not host:
        raise ConfigError(f"{kind} webhook URL has no host")
    if parts.scheme == "https" or (parts.scheme == "http" and host in LOOPBACK_HOSTS):
        return value
    raise ConfigError(
        f"{kind} webhook URL must start with https:// (http:// is allowed only to 127.0.0.1 or localhost)"
    )


def url_hint(url: str, segment: int = -1) -> str:
    """Host plus the last 4 characters of one path segment ("hooks.slack.com/…/Xy12"): enough to
    tell two destinations apart, never the token. The query string is never shown."""
    parts = urlsplit(url)
    host = parts.hostname or "?"
    if parts.port and parts.port not in {80, 443}:
        host = f"{host}:{parts.port}"
    segments = [piece for piece in parts.path.split("/") if piece]
    try:
        tail = segments[segment]
    except IndexError:
        return host
    return f"{host}/…/{tail[-4:]}"
