"""Where a channel may send. Any org's token can add a channel, so without this check a webhook URL
could make failbrief POST into its own network (the Prefect API, a metadata service, a database's
HTTP port). Unless FAILBRIEF_NOTIFY_ALLOW_PRIVATE is set, every address the host resolves to must
be a public one; it is checked when a channel is added and again before every connection, since
DNS may answer differently later.

The connection goes to an address this check passed (notify/transport.py), never to a second
answer of the resolver: a name could answer a public address to the check and 127.0.0.1 to the
connect (DNS rebinding).

A refusal never says what a name resolves to: it would tell any org's token what failbrief's
internal DNS knows ("db.internal resolves to 10.0.4.7")."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

import httpx
from django.conf import settings

NOT_PUBLIC = "points into a private, loopback or link-local network"
ALLOW_HINT = "set FAILBRIEF_NOTIFY_ALLOW_PRIVATE=true to allow channels on private networks"

# (host, port) -> the addresses to connect to, as IP strings; OSError when the name does not resolve.
Resolver = Callable[[str, int], Sequence[str]]


class BlockedDestination(httpx.RequestError):
    """The request was not sent: its host is not a public address. Not a TransportError, so it is
    never retried."""


def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the operating system's resolver gives `host`, in its order of preference."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError as exc:  # a name the IDNA codec cannot encode
        raise socket.gaierror(str(exc)) from None
    return list(dict.fromkeys(str(sockaddr[0]) for *_, sockaddr in infos))


def checked_addresses(host: str, port: int, resolver: Resolver = system_resolver) -> list[str]:
    """Resolve `host` once and return its addresses, every one of them allowed; BlockedDestination
    when one is not, OSError when the name does not resolve."""
    addresses = list(resolver(host, port))
    if not addresses:
        raise socket.gaierror(f"{host} has no address")
    if not settings.NOTIFY_ALLOW_PRIVATE and not all(_is_public(address) for address in addresses):
        raise BlockedDestination(f"{host} {NOT_PUBLIC}; {ALLOW_HINT}")
    return addresses


def refusal(url: str, resolver: Resolver = system_resolver) -> str | None:
    """Why failbrief will not send to `url`, or None. A host that does not resolve is not refused
    here: its sends fail (and are retried) on their own."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        checked_addresses(parts.hostname or "", port, resolver)
    except BlockedDestination as exc:
        return str(exc)
    except OSError:
        return None
    return None


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if not ip.is_global:
        return False
    # An IPv6 address can carry an IPv4 one that a NAT64 or 6to4 gateway (or the kernel, for the
    # old IPv4-compatible form) delivers to: judged by the IPv4 address it reaches.
    embedded = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    return embedded is None or embedded.is_global


_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None or ip.sixtofour is not None:
        return ip.ipv4_mapped or ip.sixtofour
    if ip in _NAT64 or ip in _IPV4_COMPATIBLE:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None
