"""Who may read /metrics (and /healthz's reasons): an address in FAILBRIEF_METRICS_ALLOW asking by
a host failbrief knows, or FAILBRIEF_METRICS_TOKEN as a Bearer token. `refusal` is pure: the
views pass the request's facts and the settings in through `request_refusal`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network, IPv6Address, IPv6Network, ip_address

from django.conf import settings
from django.http import HttpRequest
from django.http.request import split_domain_port, validate_host

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


def request_refusal(request: HttpRequest) -> Refusal | None:
    """`refusal` for this request under the settings."""
    # Django's '*' admits every name, a rebinding page's too; the names beside it are the operator's.
    names = (*settings.METRICS_HOSTS, *(name for name in settings.ALLOWED_HOSTS if name != "*"))
    return refusal(
        request.META.get("REMOTE_ADDR", ""),
        request.headers.get("Authorization", ""),
        settings.METRICS_TOKEN,
        settings.METRICS_ALLOW,
        request.headers,
        names,
    )


def refusal(
    remote_addr: str,
    authorization: str,
    token: str | None,
    allowed: Sequence[Network],
    headers: Mapping[str, str],
    host_names: Sequence[str],
) -> Refusal | None:
    """None when the request may read the metrics, else why not. `headers` are the request's: one
    a proxy adds means the remote address is the proxy's, and only the token admits. A Host header
    naming neither an IP address, localhost nor one of `host_names` means a web page the browser
    took for another site's (DNS rebinding), so again only the token admits."""
    proxy_header = _proxy_header(headers)
    address_ok = proxy_header is None and _address_allowed(remote_addr, allowed)
    host = headers.get("Host", "")
    if address_ok and _host_known(host, host_names):
        return None
    scheme, _, given = authorization.strip().partition(" ")
    given = given.strip() if scheme.lower() == "bearer" else ""  # the scheme is case-insensitive
    if token is not None and given and same_secret(given, token):
        return None
    if proxy_header is not None:
        where = f"the request came through a proxy ({proxy_header}), so its address admits no one"
        other_way = "or scrape failbrief directly, not through the proxy"
    elif not address_ok:
        where = f"{remote_addr or 'this address'} is not in FAILBRIEF_METRICS_ALLOW"
        other_way = "or add its network there"
    else:
        where = (
            f"the request names the host {host[:100]!r}, which is not an IP address, localhost, nor a "
            "name in FAILBRIEF_METRICS_HOSTS or ALLOWED_HOSTS, so its address admits no one (a web page "
            "could have sent it by DNS rebinding)"
        )
        other_way = "or add the name to FAILBRIEF_METRICS_HOSTS"
    return _why(where, other_way, token, given)


def _host_known(host: str, names: Sequence[str]) -> bool:
    """Whether a web page in a browser could not have named this host in place of its own: an IP
    address or localhost (its own name is neither), or a name the operator gave."""
    if not host:
        return True  # every browser sends Host; a client without one is no web page
    domain, _ = split_domain_port(host)
    if not domain:
        return False  # not a host name at all
    if domain == "localhost":
        return True
    try:
        ip_address(domain.removeprefix("[").removesuffix("]"))
    except ValueError:
        return validate_host(domain, names)
    return True


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
    return Refusal(401, f"{where}: send 'Authorization: Bearer <FAILBRIEF_METRICS_TOKEN>', {other_way}")
