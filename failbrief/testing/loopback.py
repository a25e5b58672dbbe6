"""What every loopback fake shares: a real HTTP server on 127.0.0.1, in a daemon thread, that a
test starts and stops. Our clients open real sockets to it, so a wrong URL, header or JSON shape
fails the test."""

from __future__ import annotations

import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self


class FakeHttpServer(ThreadingHTTPServer):
    """The socket server; request handlers reach their fake as `self.server.fake`."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], fake: Any) -> None:
        super().__init__(address, handler)
        self.fake = fake

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up (timeout tests) leaves a broken pipe behind: not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Loopback:
    """Start/stop lifecycle of a fake. Subclasses say which handler serves it (`handler()`)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        # Any 127.x.y.z is this machine too (Linux): two fakes on one port, told apart by address.
        self._host = host
        self._port = port
        self._server: FakeHttpServer | None = None
        self._thread: threading.Thread | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> Self:
        """Listen on 127.0.0.1 (a free port unless one was given); returns self."""
        self._server = FakeHttpServer((self._host, self._port), self.handler(), self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening; later connections are refused."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    @property
    def port(self) -> int:
        assert self._server is not None, "start() the fake first"
        return int(self._server.server_address[1])
