"""A loopback host that black-holes: it takes connections and never says a word, as a server behind
a firewall that drops replies, or a process stopped mid-way, does. Clients wait for their timeouts."""

from __future__ import annotations

import socket
import threading
from types import TracebackType
from typing import Self


class BlackHole:
    """Listens on 127.0.0.1, accepts every connection, holds it open and never answers: a client's
    connect succeeds and its first read waits until its own timeout. `connections` counts them, so a
    test can tell one try from a client that retried (how long it waited is not the test's business)."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> Self:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._listener.close()
        with self._lock:
            for held in self._held:
                held.close()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])

    @property
    def connections(self) -> int:
        with self._lock:
            return len(self._held)

    def _accept(self) -> None:
        while True:
            try:
                held, _ = self._listener.accept()
            except OSError:  # closed by __exit__
                return
            with self._lock:
                self._held.append(held)
