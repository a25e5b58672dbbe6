"""A loopback host that black-holes: it takes connections and never says a word, as a server behind
a firewall that drops replies, or a process stopped mid-way, does. Clients wait for their timeouts."""

from __future__ import annotations

import socket
from types import TracebackType
from typing import Self


class BlackHole:
    """Listens on 127.0.0.1 and never accepts: the kernel completes each handshake into the
    backlog, so a client's connect succeeds and its first read waits forever."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    def __enter__(self) -> Self:
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(64)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._listener.close()

    @property
    def port(self) -> int:
        return int(self._listener.getsockname()[1])
