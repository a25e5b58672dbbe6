"""A loopback fake LLM API that speaks both wire formats we use, driven through the official SDKs:
OpenAI chat completions (`POST /v1/chat/completions`) and Anthropic messages (`POST /v1/messages`).

A real HTTP server (ThreadingHTTPServer on 127.0.0.1, in a daemon thread), like fake_prefect.py.
It records every request (headers and JSON body), checks the fields and headers the real APIs
require, and can be told to answer a given brief, malformed output, 429 with Retry-After, 500,
or slowly. With no queued answer it plays a tiny "model": the first log line that mentions an
error becomes the root cause and the evidence.

    with FakeLlm() as fake:
        settings.OPENAI_BASE_URL = fake.openai_url       # http://127.0.0.1:PORT/v1
        settings.ANTHROPIC_BASE_URL = fake.anthropic_url # http://127.0.0.1:PORT
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from failbrief.condense.tokens import count_tokens
from failbrief.testing.loopback import FakeHttpServer, Loopback

_ERRORISH = re.compile(r"error|exception|failed|refused|denied", re.IGNORECASE)
_LOGS = re.compile(r"<<<LOGS\n(.*?)\nLOGS>>>", re.DOTALL)


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    api: str  # "openai" | "anthropic"
    headers: dict[str, str]
    body: dict[str, Any]
    received_at: float

    @property
    def text(self) -> str:
        """Everything the model would read: system prompt and messages."""
        return sent_text(self.api, self.body)


@dataclass
class _Fault:
    status: int
    headers: dict[str, str] = field(default_factory=dict)


def sent_text(api: str, body: dict[str, Any]) -> str:
    parts = [str(body.get("system") or "")] if api == "anthropic" else []
    for message in body.get("messages") or []:
        content = message.get("content")
        if isinstance(content, list):
            parts += [str(block.get("text", "")) for block in content if isinstance(block, dict)]
        else:
            parts.append(str(content or ""))
    return "\n".join(parts)


def plausible_brief(text: str) -> dict[str, Any]:
    """What the fake "model" answers by default: the first error-looking log line, quoted verbatim."""
    logs = _LOGS.search(text)
    lines = (logs.group(1) if logs else text).splitlines()
    quotable = (line.strip() for line in lines if not line.startswith(("#", "---")) and len(line.strip()) > 8)
    line = next((line for line in quotable if _ERRORISH.search(line)), None)
    return {
        "root_cause": line,
        "failing_step": None,
        "category": "unknown",
        "explanation": "The task stopped with the error quoted below. The data was not updated.",
        "suggested_fix": ["Read the quoted error", "Fix what it names and run the flow again"],
        "evidence": [line] if line else [],
        "confidence": "medium" if line else "low",
        "missing": None if line else "no error line in the logs",
    }


class FakeLlm(Loopback):
    """The fake server. Use as a context manager, or start() / stop()."""

    def __init__(self, port: int = 0) -> None:
        self._lock = threading.Lock()
        super().__init__(port)
        self._requests: list[Recorded] = []
        self._answers: list[dict[str, Any] | str] = []
        self._faults: list[_Fault] = []
        self._delay = 0.0
        self._rejected_formats: set[str] = set()
        self._in_flight = 0
        self.max_in_flight = 0

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def url(self) -> str:
        return self.base_url + ""

    @property
    def openai_url(self) -> str:
        return f"{self.url}/v1"

    @property
    def anthropic_url(self) -> str:
        return self.url

    @property
    def requests(self) -> list[Recorded]:
        with self._lock:
            return list(self._requests)

    # test controls

    def answer_next(self, *answers: dict[str, Any] | str) -> None:
        """The next answers, in order: a dict is a brief (valid JSON, or a tool call for Anthropic);
        a str is the model's raw text, e.g. malformed JSON."""
        with self._lock:
            self._answers += list(answers)

    def fail_next(self, n: int, status: int = 500, headers: dict[str, str] | None = None) -> None:
        """The next `n` requests get `status` in the API's error format (e.g. 429 with Retry-After)."""
        with self._lock:
            self._faults += [_Fault(status, headers or {})] * n

    def delay(self, seconds: float) -> None:
        """Every later request waits `seconds` before it is answered (0 turns it off)."""
        with self._lock:
            self._delay = seconds

    def reject_formats(self, *kinds: str) -> None:
        """Chat completions with these `response_format` types get a 400, as older local servers."""
        with self._lock:
            self._rejected_formats = set(kinds)

    # serving

    def answer(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, str], Any]:
        api = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}.get(path)
        if api is None:
            return 404, {}, {"error": {"message": f"no route {path}", "type": "not_found"}}
        try:
            body = json.loads(raw)
        except ValueError:
            return _error(api, 400, "the body is not JSON")
        with self._lock:
            self._requests.append(Recorded(api, headers, body, time.monotonic()))
            fault = self._faults.pop(0) if self._faults else None
            delay = self._delay
            self._in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self._in_flight)
        try:
            if delay:
                time.sleep(delay)
            if fault is not None:
                status, extra, payload = _error(api, fault.status, "injected failure")
                return status, extra | fault.headers, payload
            return self._answer(api, headers, body)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer(
        self, api: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[int, dict[str, str], Any]:
        refusal = (
            _check_openai(headers, body, self._rejected_formats)
            if api == "openai"
            else _check_anthropic(headers, body)
        )
        if refusal is not None:
            return refusal
        with self._lock:
            answer = self._answers.pop(0) if self._answers else plausible_brief(sent_text(api, body))
        text = sent_text(api, body)
        if api == "openai":  # OpenAI answers with the dated snapshot's name, as the real API does
            return 200, {}, _openai_completion(f"{body['model']}-2024-07-18", answer, count_tokens(text))
        return 200, {}, _anthropic_message(body["model"], answer, count_tokens(text))


def _error(api: str, status: int, message: str) -> tuple[int, dict[str, str], Any]:
    kinds = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error"}
    kind = kinds.get(status, "api_error")
    if api == "anthropic":
        return status, {}, {"type": "error", "error": {"type": kind, "message": message}}
    return status, {}, {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _check_openai(
    headers: dict[str, str], body: dict[str, Any], rejected: set[str]
) -> tuple[int, dict[str, str], Any] | None:
    if not headers.get("authorization", "").startswith("Bearer "):
        return _error("openai", 401, "You didn't provide an API key.")
    if not body.get("model") or not isinstance(body.get("messages"), list) or not body["messages"]:
        return _error("openai", 400, "'model' and a non-empty 'messages' are required")
    kind = (body.get("response_format") or {}).get("type")
    if kind in rejected:
        return _error("openai", 400, f"response_format of type {kind} is not supported by this model")
    return None


def _check_anthropic(headers: dict[str, str], body: dict[str, Any]) -> tuple[int, dict[str, str], Any] | None:
    if not headers.get("x-api-key"):
        return _error("anthropic", 401, "x-api-key header is required")
    if not headers.get("anthropic-version"):
        return _error("anthropic", 400, "anthropic-version header is required")
    if not body.get("model") or not isinstance(body.get("max_tokens"), int) or not body.get("messages"):
        return _error("anthropic", 400, "model, max_tokens and messages are required")
    return None


def _content(answer: dict[str, Any] | str) -> str:
    return json.dumps(answer) if isinstance(answer, dict) else answer


def _openai_completion(model: str, answer: dict[str, Any] | str, tokens_in: int) -> dict[str, Any]:
    text = _content(answer)
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "finish_reason": "stop",
                "logprobs": None,
            }
        ],
        "usage": {
            "prompt_tokens": tokens_in,
            "completion_tokens": count_tokens(text),
            "total_tokens": tokens_in + count_tokens(text),
        },
    }


def _anthropic_message(model: str, answer: dict[str, Any] | str, tokens_in: int) -> dict[str, Any]:
    if isinstance(answer, dict):
        block: dict[str, Any] = {
            "type": "tool_use",
            "id": "toolu_fake",
            "name": "record_brief",
            "input": answer,
        }
        stop = "tool_use"
    else:
        block, stop = {"type": "text", "text": answer}, "end_turn"
    return {
        "id": "msg_fake",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [block],
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": tokens_in, "output_tokens": count_tokens(_content(answer))},
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: FakeHttpServer

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {name.lower(): value for name, value in self.headers.items()}
        status, extra, payload = self.server.fake.answer(self.path.split("?")[0], headers, raw)
        data = json.dumps(payload).encode()
        self.send_response(status)
        for name, value in {
            "Content-Type": "application/json",
            **extra,
            "Content-Length": str(len(data)),
        }.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass
