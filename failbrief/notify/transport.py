"""The sockets behind every channel request.

httpx resolves a host when it connects; a check made before the request (an httpx event hook)
resolves it a second time, and a name whose DNS answers a public address to the check and
127.0.0.1 to the connect would get a request into failbrief's own network (DNS rebinding). Here
the name is resolved once, per connection: every address is checked (destinations.py) and the
socket is opened to a checked address. The URL is untouched, so the Host header, TLS SNI and the
certificate check are still for the hostname.
"""

from __future__ import annotations

from collections.abc import Iterable

import httpcore
import httpx
from httpcore._backends.base import SOCKET_OPTION as SocketOption

from failbrief.notify.destinations import Resolver, checked_addresses, system_resolver

LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=10)


class GuardedBackend(httpcore.NetworkBackend):
    """httpcore's own socket backend, connecting to the addresses the guard checked."""

    def __init__(self, resolver: Resolver = system_resolver) -> None:
        self._resolver = resolver
        self._sockets = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port, self._resolver)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        failure: Exception | None = None
        for address in addresses:  # as a browser does: the next address when one refuses
            try:
                return self._sockets.connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("channels send over TCP only")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport, its connection pool on the guarded backend."""

    def __init__(self, resolver: Resolver = system_resolver) -> None:
        super().__init__(limits=LIMITS)
        # httpx builds its pool in __init__ and takes no backend; the same pool, rebuilt with one.
        # (SSL_CERT_FILE / SSL_CERT_DIR still choose the CA bundle, as for any httpx client.)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=LIMITS.max_connections,
            max_keepalive_connections=LIMITS.max_keepalive_connections,
            network_backend=GuardedBackend(resolver),
        )
