"""A loopback fake of the Prefect 3 REST API, serving the real payloads captured in testdata/prefect.

It is a real HTTP server (`ThreadingHTTPServer` on 127.0.0.1, in a daemon thread), so the client
under test opens real sockets. It mimics what a real 3.9 server does on the routes we use: the
filters, sorting, the 200-record `limit` cap (422 above it) and offset paging, and 404 bodies.
Test controls inject failures, outages, latency and the log race (docs/prefect-behaviour.md §4).

Standalone, for multi-process tests: `python -m failbrief.testing.fake_prefect --port 0` prints
`READY <url>` once listening. Its controls are then reachable over HTTP under `/_fake/`
(POST clone {"prefix"}, fail_next {"n","status","body","headers","path"}, hold_logs {"id","visible",
"release_after"}, delay {"seconds"}; GET requests).
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import signal
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from failbrief.testing.loopback import FakeHttpServer, Loopback

DEFAULT_PAYLOAD_DIR = Path(__file__).resolve().parents[2] / "testdata" / "prefect"
MAX_LIMIT = 200
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TIME_FIELDS = {"expected_start_time", "start_time", "end_time", "timestamp"}
SORTS = {  # Prefect's sort names -> (field, newest/largest first)
    "EXPECTED_START_TIME_ASC": ("expected_start_time", False),
    "EXPECTED_START_TIME_DESC": ("expected_start_time", True),
    "START_TIME_ASC": ("start_time", False),
    "START_TIME_DESC": ("start_time", True),
    "END_TIME_DESC": ("end_time", True),
    "ID_DESC": ("id", True),
    "NAME_ASC": ("name", False),
    "NAME_DESC": ("name", True),
    "TIMESTAMP_ASC": ("timestamp", False),
    "TIMESTAMP_DESC": ("timestamp", True),
}
Record = dict[str, Any]


@dataclass
class Answer:
    """One HTTP answer of the fake."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        return self.body.encode() if isinstance(self.body, str) else json.dumps(self.body).encode()


def _detail(status: int, detail: str) -> Answer:
    return Answer(status, {"detail": detail})


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _admits(spec: Any, value: Any) -> bool:
    """Whether a Prefect filter clause ({"any_": [...]}, {"is_null_": b}, ...) admits `value`."""
    if not isinstance(spec, dict):
        return True
    if spec.get("any_") is not None and str(value).lower() not in {str(v).lower() for v in spec["any_"]}:
        return False
    if spec.get("is_null_") is not None and (value is None) != bool(spec["is_null_"]):
        return False
    return _in_window(spec, value)


def _in_window(spec: Record, value: Any) -> bool:
    after, before = _when(spec.get("after_")), _when(spec.get("before_"))
    if after is None and before is None:
        return True
    moment = _when(value)
    return moment is not None and (after is None or moment >= after) and (before is None or moment <= before)


def _level_admits(spec: Any, level: int) -> bool:
    if not isinstance(spec, dict):
        return True
    return bool(spec.get("ge_", level) <= level <= spec.get("le_", level))


def _sorted(records: list[Record], sort: str) -> list[Record]:
    # Nulls last either way; equal keys keep insertion order (the store's order).
    name, descending = SORTS[sort]
    present = [r for r in records if r.get(name) is not None]
    missing = [r for r in records if r.get(name) is None]
    value: Callable[[Record], Any] = (
        (lambda r: _when(r[name])) if name in TIME_FIELDS else lambda r: str(r[name])
    )
    return sorted(present, key=value, reverse=descending) + missing


def _page(records: list[Record], body: Record, default_sort: str) -> Answer:
    limit, offset = body.get("limit", MAX_LIMIT), body.get("offset", 0)
    if not isinstance(limit, int) or not isinstance(offset, int) or offset < 0:
        return _detail(422, "Invalid limit or offset.")
    if limit > MAX_LIMIT:
        return _detail(422, f"Invalid limit: must be less than or equal to {MAX_LIMIT}.")
    sort = body.get("sort") or default_sort
    if sort not in SORTS:
        return _detail(422, f"Invalid sort: {sort}")
    return Answer(200, _sorted(records, sort)[offset : offset + max(limit, 0)])


def _load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


class _Store:
    """The fake server's data, indexed by id. Callers hold the fake's lock."""

    def __init__(self) -> None:
        self.flow_runs: dict[str, Record] = {}
        self.task_runs: dict[str, Record] = {}
        self.logs: dict[str, Record] = {}
        self.deployments: dict[str, Record] = {}
        self.scenarios: dict[str, str] = {}  # scenario prefix -> its flow run id

    def load(self, payload_dir: Path) -> None:
        for path in sorted(payload_dir.glob("*_flow_run.json")):
            run = _load_json(path)
            self.flow_runs[run["id"]] = run
            self.scenarios[path.name.removesuffix("_flow_run.json")] = run["id"]
        for path in sorted(payload_dir.glob("*_task_runs.json")):
            self.add_all(self.task_runs, _load_json(path))
        for path in sorted(payload_dir.glob("*_logs*.json")):
            records = _load_json(path)  # skips b_logs_pagination_and_filters.json, a report
            self.add_all(self.logs, records if isinstance(records, list) else [])
        for path in sorted(payload_dir.glob("*_deployment.json")):
            self.add_all(self.deployments, [_load_json(path)])

    @staticmethod
    def add_all(index: dict[str, Record], records: Iterable[Record]) -> None:
        # The captures overlap (a flow's logs include its tasks' logs): the same id is one record.
        for record in records:
            index.setdefault(record["id"], copy.deepcopy(record))

    def children(self, flow_run_ids: Iterable[str]) -> list[Record]:
        """Subflow runs whose wrapper task run belongs to one of `flow_run_ids` (Prefect's join)."""
        parents = set(flow_run_ids)
        wrappers = {t["id"] for t in self.task_runs.values() if t.get("flow_run_id") in parents}
        return [r for r in self.flow_runs.values() if r.get("parent_task_run_id") in wrappers]

    def bundle(self, flow_run_id: str) -> Record:
        """The flow run, its subflows (recursively), their task runs and logs, deep-copied."""
        runs, frontier = [self.flow_runs[flow_run_id]], [flow_run_id]
        while frontier:
            found = self.children(frontier)
            runs += found
            frontier = [r["id"] for r in found]
        ids = {r["id"] for r in runs}
        tasks = [t for t in self.task_runs.values() if t.get("flow_run_id") in ids]
        logs = [log for log in self.logs.values() if log.get("flow_run_id") in ids]
        return copy.deepcopy({"flow_runs": runs, "task_runs": tasks, "logs": logs})


def _bundle_ids(bundle: Record) -> set[str]:
    ids: set[str] = set()
    for record in bundle["flow_runs"] + bundle["task_runs"] + bundle["logs"]:
        ids |= {record["id"], record.get("state_id"), (record.get("state") or {}).get("id")} - {None}
    return ids


class FakePrefect(Loopback):
    """The fake server. Use as a context manager, or `start()` / `stop()`. `url` ends in /api."""

    def __init__(self, payload_dir: Path | None = None, port: int = 0) -> None:
        self._lock = threading.Lock()
        self._store = _Store()
        self._store.load(payload_dir or DEFAULT_PAYLOAD_DIR)
        super().__init__(port)
        self._failures: list[tuple[str | None, Answer]] = []
        self._holds: dict[str, tuple[int, float]] = {}
        self._delay = 0.0
        self._down = False
        self._requests: list[tuple[str, str, Any]] = []

    # lifecycle

    def handler(self) -> type[BaseHTTPRequestHandler]:
        return _Handler

    @property
    def url(self) -> str:
        return self.base_url + "/api"

    # the captured data

    def flow_run_id_of(self, scenario: str) -> str:
        """The flow run id of a captured scenario, e.g. "a2" or "c_subflow"."""
        return self._store.scenarios[scenario]

    @property
    def requests(self) -> list[tuple[str, str, Any]]:
        """(method, path, JSON body or None) of every API request so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def add_flow_run(self, flow_run: Record) -> None:
        with self._lock:
            self._store.flow_runs[flow_run["id"]] = copy.deepcopy(flow_run)

    def add_task_runs(self, task_runs: list[Record]) -> None:
        with self._lock:
            self._store.task_runs.update({t["id"]: copy.deepcopy(t) for t in task_runs})

    def add_logs(self, logs: list[Record]) -> None:
        with self._lock:
            self._store.logs.update({log["id"]: copy.deepcopy(log) for log in logs})

    def delete_flow_run(self, flow_run_id: str) -> None:
        with self._lock:
            self._store.flow_runs.pop(flow_run_id, None)

    def clone_scenario(self, prefix: str) -> dict[str, str]:
        """Copies a captured scenario (flow run, subflows, task runs, logs) under fresh uuids.

        Every reference is remapped, including ids inside state messages and `parent_task_run_id`
        links; flow, deployment and connection ids are kept. Returns old id -> new id.
        """
        with self._lock:
            bundle = self._store.bundle(self._store.scenarios[prefix])
            mapping = {old: str(uuid.uuid4()) for old in sorted(_bundle_ids(bundle))}
            text = UUID_TEXT.sub(lambda m: mapping.get(m.group(0), m.group(0)), json.dumps(bundle))
            clone = json.loads(text)
            for name in ("flow_runs", "task_runs", "logs"):
                getattr(self._store, name).update({r["id"]: r for r in clone[name]})
        return mapping

    # test controls

    def fail_next(
        self,
        n: int,
        status: int = 503,
        body: Any = None,
        headers: dict[str, str] | None = None,
        path: str | None = None,
    ) -> None:
        """The next `n` API requests (to `path` only, e.g. "/api/logs/filter", when given) get
        `status` (with `body`, JSON unless bytes or str)."""
        answer = Answer(status, body if body is not None else {"detail": "Injected failure"}, headers or {})
        with self._lock:
            self._failures += [(path, answer)] * n

    def set_down(self, down: bool) -> None:
        """While down, every request has its connection reset without an answer."""
        with self._lock:
            self._down = down

    def delay(self, seconds: float) -> None:
        """Every later request waits `seconds` before being answered (0 turns it off)."""
        with self._lock:
            self._delay = seconds

    def hold_logs(self, run_or_task_id: str, visible: int, release_after: float) -> None:
        """Until `release_after` seconds from now, only the oldest `visible` logs of that flow or
        task run are served: the logs Prefect has not received yet when the webhook arrives."""
        with self._lock:
            self._holds[run_or_task_id] = (visible, time.monotonic() + release_after)

    # serving

    def answer(self, method: str, path: str, raw_body: bytes) -> Answer | None:
        """The answer to one request; None means: reset the connection."""
        body = _json_body(raw_body)
        if path.startswith("/_fake/"):
            return self._control(method, path, body)
        with self._lock:
            self._requests.append((method, path, body))
            down, delay = self._down, self._delay
            failure = self._next_failure(path)
        if delay:
            time.sleep(delay)
        if down:
            return None
        return failure or self._route(method, path, body)

    def _next_failure(self, path: str) -> Answer | None:
        for i, (only, answer) in enumerate(self._failures):
            if only is None or only == path:
                del self._failures[i]
                return answer
        return None

    def _route(self, method: str, path: str, body: Any) -> Answer:
        parts = path.strip("/").split("/")
        if parts[:1] != ["api"]:
            return _detail(404, "Not Found")
        if method == "POST" and not isinstance(body, dict):
            return Answer(422, {"exception_message": "Invalid request received.", "exception_detail": []})
        with self._lock:
            return self._route_api(method, parts[1:], body)

    def _route_api(self, method: str, parts: list[str], body: Any) -> Answer:
        readers = {
            "flow_runs": (self._store.flow_runs, "Flow run not found"),
            "task_runs": (self._store.task_runs, "Task run not found"),
            "deployments": (self._store.deployments, "Deployment not found"),
        }
        if method == "GET" and parts == ["health"]:
            return Answer(200, True)
        if method == "GET" and len(parts) == 2 and parts[0] in readers:
            return _read_one(*readers[parts[0]], parts[1])
        filters = {"task_runs": self._task_runs, "flow_runs": self._flow_runs, "logs": self._logs}
        if method == "POST" and len(parts) == 2 and parts[1] == "filter" and parts[0] in filters:
            return filters[parts[0]](body)
        return _detail(404, "Not Found")

    def _task_runs(self, body: Record) -> Answer:
        runs_filter, tasks_filter = body.get("flow_runs") or {}, body.get("task_runs") or {}
        found = [
            t
            for t in self._store.task_runs.values()
            if _admits(runs_filter.get("id"), t.get("flow_run_id"))
            and _admits(tasks_filter.get("id"), t["id"])
            and _admits(tasks_filter.get("flow_run_id"), t.get("flow_run_id"))
            and _admits((tasks_filter.get("state") or {}).get("type"), t.get("state_type"))
        ]
        return _page(found, body, "ID_DESC")

    def _flow_runs(self, body: Record) -> Answer:
        spec = body.get("flow_runs") or {}
        runs = list(self._store.flow_runs.values())
        if (parents := spec.get("parent_flow_run_id") or {}).get("any_") is not None:
            runs = self._store.children(str(p).lower() for p in parents["any_"])
        found = [
            r
            for r in runs
            if all(
                _admits(spec.get(name), r.get(name))
                for name in ("id", "parent_task_run_id", "deployment_id", "end_time")
            )
            and _admits((spec.get("state") or {}).get("type"), r.get("state_type"))
            and _admits((spec.get("state") or {}).get("name"), r.get("state_name"))
        ]
        return _page(found, body, "ID_DESC")

    def _logs(self, body: Record) -> Answer:
        spec, hidden = body.get("logs") or {}, self._held_back()
        found = [
            log
            for log in self._store.logs.values()
            if log["id"] not in hidden
            and all(
                _admits(spec.get(name), log.get(name)) for name in ("flow_run_id", "task_run_id", "timestamp")
            )
            and _level_admits(spec.get("level"), log["level"])
        ]
        return _page(found, body, "TIMESTAMP_ASC")

    def _held_back(self) -> set[str]:
        now, hidden = time.monotonic(), set()
        ordered = _sorted(list(self._store.logs.values()), "TIMESTAMP_ASC")
        for held_id, (visible, release_at) in self._holds.items():
            if now < release_at:
                own = [log for log in ordered if held_id in (log.get("flow_run_id"), log.get("task_run_id"))]
                hidden |= {log["id"] for log in own[visible:]}
        return hidden

    def _control(self, method: str, path: str, body: Any) -> Answer:
        args = body if isinstance(body, dict) else {}
        actions: dict[str, Callable[[], Any]] = {
            "POST /_fake/clone": lambda: self.clone_scenario(args["prefix"]),
            "POST /_fake/fail_next": lambda: self.fail_next(**args),
            "POST /_fake/hold_logs": lambda: self.hold_logs(
                args["id"], args["visible"], args["release_after"]
            ),
            "POST /_fake/delay": lambda: self.delay(args["seconds"]),
            "GET /_fake/requests": lambda: self.requests,
        }
        action = actions.get(f"{method} {path.rstrip('/')}")
        return Answer(200, action()) if action else _detail(404, "Not Found")


def _read_one(index: dict[str, Record], missing: str, record_id: str) -> Answer:
    if not UUID_TEXT.fullmatch(record_id.lower()):
        return Answer(422, {"exception_message": "Invalid request received.", "exception_detail": []})
    record = index.get(record_id.lower())
    return Answer(200, record) if record is not None else _detail(404, missing)


def _json_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw  # not JSON: the route answers 422


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as uvicorn does; the client pools connections
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms ACK stalls
    server: FakeHttpServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output quiet

    def _serve(self, method: str) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        answer = self.server.fake.answer(method, urlsplit(self.path).path, raw)
        if answer is None:
            self._reset()
            return
        payload = answer.payload()
        self.send_response(answer.status)
        headers = {"Content-Type": "application/json", **answer.headers, "Content-Length": str(len(payload))}
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(payload)

    def _reset(self) -> None:
        # SO_LINGER 0: closing sends RST, so the client sees the connection die with no answer.
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def main(argv: list[str] | None = None) -> None:
    """Runs the fake until SIGTERM or SIGINT, printing `READY <url>` once it listens."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--payload-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    stopping = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with FakePrefect(args.payload_dir, args.port) as fake:
        print(f"READY {fake.url}", flush=True)
        stopping.wait()


if __name__ == "__main__":
    main()
