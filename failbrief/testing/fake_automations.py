"""A loopback fake of the Prefect 3 routes `failbrief setup-prefect` and `check-prefect` use: webhook
blocks, automations, the version and the events filter. Shapes as a real 3.9.1 server answers them
(captured in testdata/prefect/automations/); the real server itself is the Prefect tier's job.

Like the fake Prefect, a real ThreadingHTTPServer on 127.0.0.1 in a daemon thread.
"""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

WEBHOOK_TYPE = {"id": "6f6a5a7d-0a7e-4c2f-9f0c-2a1b3c4d5e6f", "slug": "webhook", "name": "Webhook"}
WEBHOOK_SCHEMA = {"id": "fabd4eac-dd49-4349-a245-279f33181f61", "block_type_id": WEBHOOK_TYPE["id"]}
Record = dict[str, Any]
Route = Callable[..., tuple[int, Any]]  # (fake, body, *groups of the path) -> (status, JSON)


class FakeAutomations:
    """Blocks and automations in memory. `failures` holds the automation events to serve
    (`prefect.automation.action.failed`, and `.executed` with the webhook's status);
    `block_data(name)` reads a block's data with its secrets, as `include_secrets` does. With
    `api_key` set, a request without `Authorization: Bearer <api_key>` gets Prefect Cloud's 401."""

    def __init__(self, api_key: str | None = None) -> None:
        self.api_key = api_key
        self.blocks: dict[str, Record] = {}
        self.automations: dict[str, Record] = {}
        self.failures: list[Record] = []
        self.lock = threading.Lock()
        self._server = _Server(self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> FakeAutomations:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/api"

    def block_data(self, name: str) -> Record:
        return next(b["data"] for b in self.blocks.values() if b["name"] == name)

    def answer(self, method: str, path: str, body: Any, authorization: str = "") -> tuple[int, Any]:
        if self.api_key is not None and authorization != f"Bearer {self.api_key}":
            return 401, {"detail": "Invalid authentication credentials"}
        with self.lock:
            for pattern, route in ROUTES:
                match = re.fullmatch(pattern, f"{method} {path}")
                if match:
                    return route(self, body, *match.groups())
        return 404, {"detail": "Not Found"}


def _version(fake: FakeAutomations, body: Any) -> tuple[int, Any]:
    return 200, "3.9.1"


def _block_type(fake: FakeAutomations, body: Any) -> tuple[int, Any]:
    return 200, WEBHOOK_TYPE


def _schemas(fake: FakeAutomations, body: Any) -> tuple[int, Any]:
    return 200, [WEBHOOK_SCHEMA]


def _block_by_name(fake: FakeAutomations, body: Any, name: str) -> tuple[int, Any]:
    found = [b for b in fake.blocks.values() if b["name"] == name]
    return (200, _masked(found[0])) if found else (404, {"detail": "Block document not found"})


def _block_by_id(fake: FakeAutomations, body: Any, block_id: str) -> tuple[int, Any]:
    return (200, fake.blocks[block_id]) if block_id in fake.blocks else (404, {"detail": "not found"})


def _create_block(fake: FakeAutomations, body: Any) -> tuple[int, Any]:
    if any(b["name"] == body["name"] for b in fake.blocks.values()):
        return 409, {"detail": "Block already exists"}
    block = {"id": str(uuid.uuid4()), "name": body["name"], "data": body["data"]}
    fake.blocks[block["id"]] = block
    return 201, _masked(block)


def _update_block(fake: FakeAutomations, body: Any, block_id: str) -> tuple[int, Any]:
    fake.blocks[block_id]["data"] = body["data"]
    return 204, None


def _filter_automations(fake: FakeAutomations, body: Any) -> tuple[int, Any]:
    names = ((body or {}).get("automations") or {}).get("name", {}).get("any_")
    return 200, [a for a in fake.automations.values() if names is None or a["name"] in names]


def _create_automation(fake: FakeAutomations, body: Any) -> tuple[int, Any]:
    automation = body | {"id": str(uuid.uuid4()), "created": f"2026-11-26T00:00:{len(fake.automations):02d}Z"}
    fake.automations[automation["id"]] = automation
    return 201, automation


def _update_automation(fake: FakeAutomations, body: Any, automation_id: str) -> tuple[int, Any]:
    fake.automations[automation_id] |= body
    return 204, None


def _delete_automation(fake: FakeAutomations, body: Any, automation_id: str) -> tuple[int, Any]:
    fake.automations.pop(automation_id, None)
    return 204, None


def _events(fake: FakeAutomations, body: Any) -> tuple[int, Any]:
    wanted = set(body["filter"]["resource"]["id"])
    names = set(body["filter"].get("event", {}).get("name") or [])
    events = [
        e
        for e in fake.failures
        if e["resource"]["prefect.resource.id"] in wanted and (not names or e["event"] in names)
    ]
    return 200, {"events": events, "total": len(events), "next_page": None}


def _masked(block: Record) -> Record:
    data = block["data"] | {
        "url": "********",
        "headers": dict.fromkeys(block["data"].get("headers", {}), "********"),
    }
    return block | {"data": data}


ID = r"([0-9a-f-]{36})"
ROUTES: list[tuple[str, Route]] = [
    (r"GET /api/admin/version", _version),
    (r"GET /api/block_types/slug/webhook", _block_type),
    (r"POST /api/block_schemas/filter", _schemas),
    (r"GET /api/block_types/slug/webhook/block_documents/name/([\w-]+)", _block_by_name),
    (rf"GET /api/block_documents/{ID}", _block_by_id),
    (r"POST /api/block_documents/", _create_block),
    (rf"PATCH /api/block_documents/{ID}", _update_block),
    (r"POST /api/automations/filter", _filter_automations),
    (r"POST /api/automations/", _create_automation),
    (rf"PUT /api/automations/{ID}", _update_automation),
    (rf"DELETE /api/automations/{ID}", _delete_automation),
    (r"POST /api/events/filter", _events),
]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _serve(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, answer = self.server.fake.answer(
            self.command,
            self.path.split("?")[0],
            json.loads(raw or "null"),
            self.headers.get("Authorization", ""),
        )
        payload = b"" if answer is None else json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeAutomations) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake
