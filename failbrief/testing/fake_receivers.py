"""Loopback receivers for notification tests: an HTTP server that plays any webhook (Slack,
Discord, Teams, a signed-webhook receiver) and a real SMTP server (aiosmtpd).

Both record what arrived and can be told to fail the next requests:

    with FakeReceiver(status=204) as hook:               # Discord answers 204 No Content
        hook.fail_next(429, headers={"Retry-After": "7"})
        Discord().send({"url": hook.url("/api/webhooks/1/token")}, message, http, "d-1")

    with FakeSmtp() as smtp:
        smtp.reject_next("550 5.1.1 No such user")       # at RCPT TO; at="data" for DATA

The receivers that hold a sender up: `hang()` answers nothing until `release()` (or the end of
the `with`), `drip(seconds)` sends its answer one byte every `seconds`, so every single read
arrives well within any read timeout while the whole answer takes minutes.
"""

from __future__ import annotations

import asyncio
import email
import json
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler
from io import BufferedIOBase
from types import TracebackType
from typing import Any, Literal, Self

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from failbrief.testing.loopback import FakeHttpServer, Loopback


@dataclass(frozen=True)
class Received:
    """One request the receiver got: what a real webhook endpoint would see."""

    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    received_at: float = field(default_factory=time.time)  # wall clock, to compare with the database's

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class _Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class FakeReceiver(Loopback):
    """Serves every path; answers `status` with `body` (Slack: 200 "ok", Discord: 204, Teams
    workflows: 202) unless told to fail."""

    def __init__(
        self, status: int = 200, body: bytes = b"ok", port: int = 0, host: str = "127.0.0.1"
    ) -> None:
        super().__init__(port, host)
        self._lock = threading.Lock()
        self._default = _Answer(status, {}, body)
        self._faults: list[_Answer] = []
        self._requests: list[Received] = []
        self._delay = 0.0
        self._hanging = False
        self._released = threading.Event()
        self.drip_seconds = 0.0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    def url(self, path: str = "/hook") -> str:
        return self.base_url + path

    @property
    def requests(self) -> list[Received]:
        with self._lock:
            return list(self._requests)

    def fail_next(
        self, status: int, times: int = 1, headers: dict[str, str] | None = None, body: bytes = b""
    ) -> None:
        """The next `times` requests are answered `status` (e.g. 429 with Retry-After, 500, 404)."""
        with self._lock:
            self._faults += [_Answer(status, headers or {}, body)] * times

    def delay(self, seconds: float) -> None:
        """Every later request waits `seconds` before its answer (0 turns it off)."""
        with self._lock:
            self._delay = seconds

    def hang(self) -> None:
        """Every later request gets no answer until `release()` or `stop()`."""
        with self._lock:
            self._hanging = True
            self._released.clear()

    def release(self) -> None:
        """The hanging requests get their answers; later ones are answered at once."""
        with self._lock:
            self._hanging = False
            self._released.set()

    def drip(self, seconds: float) -> None:
        """Every later answer (status line, headers and body) is sent one byte every `seconds`."""
        self.drip_seconds = seconds

    @property
    def released(self) -> bool:
        return self._released.is_set()

    def stop(self) -> None:
        self.release()  # a handler thread still hanging or dripping must end
        super().stop()

    def answer(self, received: Received) -> _Answer:
        with self._lock:
            self._requests.append(received)
            answer = self._faults.pop(0) if self._faults else self._default
            delay = self._delay
            hanging = self._hanging
        if hanging:
            self._released.wait()
        if delay:
            time.sleep(delay)
        return answer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: FakeHttpServer

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        fake: FakeReceiver = self.server.fake
        answer = fake.answer(Received(self.command, self.path, headers, raw))
        if not fake.drip_seconds:
            self._send(answer)
            return
        stream = self.wfile
        self.wfile = _Drip(stream, fake)  # type: ignore[assignment]
        try:
            self._send(answer)
        finally:
            self.wfile = stream

    def _send(self, answer: _Answer) -> None:
        self.send_response(answer.status)
        body = b"" if answer.status in {204, 304} else answer.body
        for name, value in answer.headers.items():
            self.send_header(name, value)
        if answer.status not in {204, 304}:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Drip:
    """A response stream that sends one byte every `drip_seconds` until the fake is released: what
    arrives never pauses long enough for a read timeout, while the whole answer takes minutes."""

    def __init__(self, stream: BufferedIOBase, fake: FakeReceiver) -> None:
        self._stream = stream
        self._fake = fake

    def write(self, data: bytes) -> int:
        for index in range(len(data)):
            if self._fake.released:
                self._stream.write(data[index:])
                break
            self._stream.write(data[index : index + 1])
            self._stream.flush()
            time.sleep(self._fake.drip_seconds)
        return len(data)

    def flush(self) -> None:
        self._stream.flush()


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage

    def part(self, subtype: Literal["plain", "html"]) -> str:
        """The text/plain or text/html part as a mail client shows it (SMTP's CRLFs as \\n)."""
        body = self.message.get_body(preferencelist=(subtype,))
        assert body is not None, f"the mail has no text/{subtype} part"
        return str(body.get_content()).replace("\r\n", "\n")


class FakeSmtp:
    """A real SMTP server on 127.0.0.1 (aiosmtpd, in a thread). Use as a context manager."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._mails: list[ReceivedMail] = []
        self._rejects: list[tuple[str, str]] = []  # (stage, reply)
        self._controller = _AnyPortController(_SmtpHandler(self), hostname="127.0.0.1", port=0)

    def __enter__(self) -> Self:
        self._controller.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._controller.stop()

    @property
    def host(self) -> str:
        return "127.0.0.1"

    @property
    def port(self) -> int:
        return int(self._controller.port)

    @property
    def mails(self) -> list[ReceivedMail]:
        with self._lock:
            return list(self._mails)

    def reject_next(self, reply: str, times: int = 1, at: Literal["rcpt", "data"] = "rcpt") -> None:
        """The next `times` RCPT TO (or DATA) commands get `reply`, e.g. "550 5.1.1 No such user"
        or "451 4.3.0 Try again later"."""
        with self._lock:
            self._rejects += [(at, reply)] * times

    def reply_for(self, stage: str) -> str | None:
        with self._lock:
            if self._rejects and self._rejects[0][0] == stage:
                return self._rejects.pop(0)[1]
            return None

    def record(self, mail: ReceivedMail) -> None:
        with self._lock:
            self._mails.append(mail)


class _AnyPortController(Controller):
    # aiosmtpd connects to `port` once to check the server is up; with port 0 (a free port) it
    # must first learn which port the OS picked.
    def _trigger_server(self) -> None:
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]


class _SmtpHandler:
    def __init__(self, fake: FakeSmtp) -> None:
        self.fake = fake

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str]
    ) -> str:
        if (reply := self.fake.reply_for("rcpt")) is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if (reply := self.fake.reply_for("data")) is not None:
            return reply
        content = envelope.original_content or b""
        parsed = email.message_from_bytes(content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.fake.record(ReceivedMail(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 Message accepted for delivery"
