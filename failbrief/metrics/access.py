"""Who may read /metrics: an address in FAILBRIEF_METRICS_ALLOW, or FAILBRIEF_METRICS_TOKEN as a
Bearer token. Pure: the view passes the request's facts and the settings in."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address

from failbrief.orgs.secrets import same_secret

Network = IPv4Network | IPv6Network


@dataclass(frozen=True)
class Refusal:
    status: int  # 401: a token would do; 403: nothing this client can send would do
    detail: str


def refusal(
    remote_addr: str, authorization: str, token: str | None, allowed: Sequence[Network]
) -> Refusal | None:
    """None when the request may read the metrics, else why not. Behind a reverse proxy the
    remote address is the proxy's, so allow the proxy's address only if the proxy itself guards
    /metrics; otherwise use the token."""
    if _address_allowed(remote_addr, allowed):
        return None
    given = authorization.removeprefix("Bearer ").strip() if authorization.startswith("Bearer ") else ""
    if token is not None and given and same_secret(given, token):
        return None
    return _why(remote_addr, token, given)


def _address_allowed(remote_addr: str, allowed: Sequence[Network]) -> bool:
    try:
        address = ip_address(remote_addr.split("%")[0])  # drop an IPv6 zone id
    except ValueError:
        return False
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # a dual-stack socket reports 127.0.0.1 as ::ffff:127.0.0.1
    return any(address in network for network in allowed)


def _why(remote_addr: str, token: str | None, given: str) -> Refusal:
    where = f"{remote_addr or 'this address'} is not in FAILBRIEF_METRICS_ALLOW"
    if token is None:
        return Refusal(403, f"{where}; add its network there, or set FAILBRIEF_METRICS_TOKEN and send it")
    if given:
        return Refusal(401, "wrong metrics token")
    return Refusal(401, f"{where}: send 'Authorization: Bearer <FAILBRIEF_METRICS_TOKEN>'")
