"""Where a channel may send. Any org's token can add a channel, so without this check a webhook URL
could make failbrief POST into its own network (the Prefect API, a metadata service, a database's
HTTP port). Unless FAILBRIEF_NOTIFY_ALLOW_PRIVATE is set, every address the host resolves to must
be a public one; it is checked when a channel is added and again before every request, since DNS
may answer differently later.

A refusal never says what a name resolves to: it would tell any org's token what failbrief's
internal DNS knows ("db.internal resolves to 10.0.4.7")."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

import httpx
from django.conf import settings

NOT_PUBLIC = "points into a private, loopback or link-local network"
ALLOW_HINT = "set FAILBRIEF_NOTIFY_ALLOW_PRIVATE=true to allow channels on private networks"


class BlockedDestination(httpx.RequestError):
    """The request was not sent: its host is not a public address. Not a TransportError, so it is
    never retried."""


def private_address(host: str, port: int | None = None) -> str | None:
    """Why `host` is not a public destination, or None when every address it resolves to is
    global. A host that does not resolve is left to fail on its own."""
    try:
        infos = socket.getaddrinfo(host, port or 443, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return None
    for *_, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if not address.is_global:
            return f"{host} {NOT_PUBLIC}"
    return None


def refusal(url: str) -> str | None:
    """Why failbrief will not send to `url`, or None."""
    if settings.NOTIFY_ALLOW_PRIVATE:
        return None
    parts = urlsplit(url)
    reason = private_address(parts.hostname or "", parts.port)
    if reason is None:
        return None
    return f"{reason}; {ALLOW_HINT}"


def guard_request(request: httpx.Request) -> None:
    """httpx request hook: refuse before connecting."""
    if (reason := refusal(str(request.url))) is not None:
        raise BlockedDestination(reason, request=request)
