"""Who may read /metrics (and /healthz's reasons): an address in FAILBRIEF_METRICS_ALLOW, or
FAILBRIEF_METRICS_TOKEN as a Bearer token. Pure: the view passes the request's facts and the
settings in."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address

from failbrief.orgs.secrets import same_secret

Network = IPv4Network | IPv6Network

# What reverse proxies and load balancers add to a request they pass on (nginx as docs/deploy.md
# sets it up sends X-Forwarded-Proto; Caddy, Traefik, Apache and cloud balancers X-Forwarded-For).
# A request carrying one came through a proxy: its TCP peer is the proxy (on the same host,
# 127.0.0.1, which the default allow list admits), so the address says nothing about the client.
# A client cannot take these headers off what the proxy adds; it can only add them, which only
# refuses itself.
PROXY_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "X-Real-IP", "Via")


@dataclass(frozen=True)
class Refusal:
    status: int  # 401: a token would do; 403: nothing this client can send would do
    detail: str


def refusal(
    remote_addr: str,
    authorization: str,
    token: str | None,
    allowed: Sequence[Network],
    headers: Mapping[str, str],
) -> Refusal | None:
    """None when the request may read the metrics, else why not. `headers` are the request's: one
    a proxy adds means the remote address is the proxy's, and only the token admits."""
    proxy_header = _proxy_header(headers)
    if proxy_header is None and _address_allowed(remote_addr, allowed):
        return None
    scheme, _, given = authorization.strip().partition(" ")
    given = given.strip() if scheme.lower() == "bearer" else ""  # the scheme is case-insensitive
    if token is not None and given and same_secret(given, token):
        return None
    if proxy_header is not None:
        where = f"the request came through a proxy ({proxy_header}), so its address admits no one"
        other_way = "or scrape failbrief directly, not through the proxy"
    else:
        where = f"{remote_addr or 'this address'} is not in FAILBRIEF_METRICS_ALLOW"
        other_way = "or add its network there"
    return _why(where, other_way, token, given)


def _proxy_header(headers: Mapping[str, str]) -> str | None:
    return next((name for name in PROXY_HEADERS if name in headers), None)


def _address_allowed(remote_addr: str, allowed: Sequence[Network]) -> bool:
    try:
        address = ip_address(remote_addr.split("%")[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket reports 127.0.0.1 as ::ffff:127.0.0.1
    return any(address in network for network in allowed)


def _why(where: str, other_way: str, token: str | None, given: str) -> Refusal:
    if token is None:
        return Refusal(403, f"{where}; set FAILBRIEF_METRICS_TOKEN and send it, {other_way}")
    if given:
        return Refusal(401, "wrong metrics token")
    return Refusal(401, f"{where}: send 'Authorization: Bearer <FAILBRIEF_METRICS_TOKEN>'")
