"""The sockets behind every channel request.

httpx resolves a host when it connects; a check made before the request (an httpx event hook)
resolves it a second time, and a name whose DNS answers a public address to the check and
127.0.0.1 to the connect would get a request into failbrief's own network (DNS rebinding). Here
the name is resolved once, per connection: every address is checked (destinations.py) and the
socket is opened to a checked address. The URL is untouched, so the Host header, TLS SNI and the
certificate check are still for the hostname.

httpx's timeouts are per phase: connect, and each single read or write. A receiver that sends its
answer one byte every few seconds never trips them and holds the worker as long as it likes. So
every blocking socket call here (connect, TLS handshake, read, write) is also cut to what is left
of the send's deadline (lib/deadline.py, set by deliver.py and manage.py), which makes it one
wall-clock limit on connect, headers and body together.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager

import httpcore
import httpx
from httpcore._backends.base import SOCKET_OPTION as SocketOption

from failbrief.lib.deadline import current
from failbrief.notify.destinations import Resolver, checked_addresses, system_resolver

# Lookups stuck on a slow name server hold these threads until it gives up; more lookups then
# wait for a thread, and give up at their own deadline.
_lookups = ThreadPoolExecutor(max_workers=4, thread_name_prefix="notify-dns")
LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=10)
WRITE_CHUNK = 16 * 1024  # a write of many chunks is cut to the deadline chunk by chunk


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
            addresses = self._checked_addresses(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from None
        failure: Exception | None = None
        for address in addresses:  # as a browser does: the next address when one refuses
            try:
                with by_deadline(timeout, httpcore.ConnectTimeout) as cut:
                    stream = self._sockets.connect_tcp(address, port, cut, local_address, socket_options)
                return DeadlineStream(stream)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None
        raise failure

    def _checked_addresses(self, host: str, port: int) -> list[str]:
        deadline = current()
        if deadline is None:
            return checked_addresses(host, port, self._resolver)
        # The system resolver takes no timeout (a slow name server holds it for its own retries):
        # it runs on a lookup thread, and this send stops waiting for it at the deadline.
        lookup = _lookups.submit(checked_addresses, host, port, self._resolver)
        try:
            return lookup.result(timeout=max(0.0, deadline.remaining()))
        except TimeoutError:
            if lookup.done():  # the resolver's own error
                raise
            raise httpcore.ConnectTimeout(f"resolving {host}: {deadline.passed_message()}") from None

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[SocketOption] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("channels send over TCP only")

    def sleep(self, seconds: float) -> None:
        self._sockets.sleep(seconds)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every blocking call ends by the send's deadline."""

    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        with by_deadline(timeout, httpcore.ReadTimeout) as cut:
            return self._stream.read(max_bytes, cut)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        for start in range(0, len(buffer), WRITE_CHUNK):
            with by_deadline(timeout, httpcore.WriteTimeout) as cut:
                self._stream.write(buffer[start : start + WRITE_CHUNK], cut)

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        # The handshake's own socket calls share one timeout (CPython's SSL handshake has a deadline).
        with by_deadline(timeout, httpcore.ConnectTimeout) as cut:
            return DeadlineStream(self._stream.start_tls(ssl_context, server_hostname, cut))

    def get_extra_info(self, info: str) -> object:
        return self._stream.get_extra_info(info)


@contextmanager
def by_deadline(timeout: float | None, error: type[httpcore.TimeoutException]) -> Iterator[float | None]:
    """Yields the timeout for one blocking call: `timeout`, or what is left of the deadline when
    that is shorter. A call cut short, or one made after the deadline, raises `error` saying so."""
    deadline = current()
    if deadline is None:
        yield timeout
        return
    left = deadline.remaining()
    if left <= 0:
        raise error(deadline.passed_message())
    if timeout is not None and timeout < left:
        yield timeout
        return
    try:
        yield left
    except httpcore.TimeoutException:
        raise error(deadline.passed_message()) from None


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
