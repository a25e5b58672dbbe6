"""Turn log sources into LogRecords: Prefect API records, Prefect CSV downloads, JSON lines, text.

Plain text is streamed in chunks of about CHUNK_BYTES complete lines, one LogRecord per chunk with
source "file" (a LogRecord's message may hold many lines), so a 1 GB file never sits in memory and
the condenser scans each chunk with C-speed substring searches. Pure: no Django.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from failbrief.condense.records import LogRecord

CHUNK_BYTES = 1 << 20
_PEEK_BYTES = 1 << 16
_LEVELS = {
    "trace": 5,
    "debug": 10,
    "info": 20,
    "notice": 25,
    "warn": 30,
    "warning": 30,
    "error": 40,
    "fatal": 50,
    "critical": 50,
}
_MESSAGE_KEYS = ("message", "msg", "log", "text")
_TIME_KEYS = ("timestamp", "time", "ts", "@timestamp", "emitted_at", "created")


def records_from_lines(lines: Iterable[str]) -> Iterator[LogRecord]:
    """Raw lines of a file (trailing newlines allowed) grouped into chunk records (source "file")."""
    buffer: list[str] = []
    size = 0
    for line in lines:
        line = line[:-1] if line.endswith("\n") else line
        line = line[:-1] if line.endswith("\r") else line
        buffer.append(line)
        size += len(line) + 1
        if size >= CHUNK_BYTES:
            yield LogRecord("\n".join(buffer))
            buffer, size = [], 0
    if buffer:
        yield LogRecord("\n".join(buffer))


def records_from_prefect(logs: Iterable[dict[str, Any]]) -> Iterator[LogRecord]:
    """Prefect API log dicts (`level`, `timestamp`, `message`, ...) as records (source "prefect")."""
    for log in logs:
        yield LogRecord(
            message=str(log.get("message") or ""),
            level=parse_level(log.get("level")),
            timestamp=_text_or_none(log.get("timestamp")),
            source="prefect",
        )


def read_log_file(path: str | Path) -> Iterator[LogRecord]:
    """Records of the log at `path`, format auto-detected (see read_log_stream)."""
    with open(path, "rb") as stream:
        yield from read_log_stream(stream)


def read_log_stream(stream: IO[bytes]) -> Iterator[LogRecord]:
    """Records of a binary log stream: a JSON list of Prefect records, a Prefect logs CSV download
    (`timestamp,level,flow_run_id,task_run_id,message`), JSON lines, or plain text (streamed)."""
    head = stream.read(_PEEK_BYTES)
    probe = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if probe[:1] == b"[" and probe[1:].lstrip()[:1] in (b"{", b"]"):
        yield from _json_list(head + stream.read())
    elif probe.startswith(b"timestamp,level,"):
        yield from _prefect_csv(_text_lines(head, stream))
    elif probe[:1] == b"{" and _first_line_is_json(probe):
        yield from _json_lines(_text_lines(head, stream))
    else:
        yield from _text_chunks(head, stream)


def parse_level(value: object) -> int | None:
    """A level as Python's number: 40, "40", "ERROR", "error" -> 40; None when unknown."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    return _LEVELS.get(text.lower())


def _text_or_none(value: object) -> str | None:
    return None if value in (None, "") else str(value)


def _json_list(data: bytes) -> Iterator[LogRecord]:
    try:
        parsed = json.loads(data.decode("utf-8", errors="replace"))
    except ValueError:
        yield from _text_chunks(data, None)
        return
    items = parsed if isinstance(parsed, list) else [parsed]
    yield from records_from_prefect(item for item in items if isinstance(item, dict))


def _prefect_csv(lines: Iterator[str]) -> Iterator[LogRecord]:
    for row in csv.DictReader(lines):
        yield LogRecord(
            message=row.get("message") or "",
            level=parse_level(row.get("level")),
            timestamp=_text_or_none(row.get("timestamp")),
            source="prefect",
        )


def _first_line_is_json(probe: bytes) -> bool:
    first = probe.split(b"\n", 1)[0]
    try:
        return isinstance(json.loads(first.decode("utf-8", errors="replace")), dict)
    except ValueError:
        return False


def _json_lines(lines: Iterator[str]) -> Iterator[LogRecord]:
    for line in lines:
        text = line.rstrip("\r\n")
        if text.strip():
            yield _json_line_record(text)


def _json_line_record(text: str) -> LogRecord:
    try:
        event = json.loads(text)
    except ValueError:
        return LogRecord(text)
    if not isinstance(event, dict):
        return LogRecord(text)
    log = event.get("log")
    body: dict[str, Any] = log if isinstance(log, dict) else event
    message = _airbyte_trace_message(event) or _first_text(body, _MESSAGE_KEYS) or text
    level = 40 if event.get("type") == "TRACE" and message != text else None
    level = level or parse_level(body.get("level") or body.get("levelname") or body.get("severity"))
    return LogRecord(message, level, _first_text(event, _TIME_KEYS), "airbyte" if "type" in event else "file")


def _first_text(mapping: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = mapping.get(key)
        if isinstance(value, str) and value:
            return value
        if isinstance(value, int | float) and not isinstance(value, bool):
            return str(value)
    return None


def _airbyte_trace_message(event: dict[str, Any]) -> str | None:
    """An Airbyte protocol TRACE error as readable lines (its fields named as Airbyte's UI does)."""
    trace = event.get("trace")
    if not isinstance(trace, dict) or not isinstance(trace.get("error"), dict):
        return None
    error = trace["error"]
    parts = [
        ("Failure reason", error.get("message")),
        ("failureType", error.get("failure_type")),
        ("internalMessage", error.get("internal_message")),
        ("stacktrace", error.get("stack_trace")),
    ]
    return "\n".join(f"{name}: {value}" for name, value in parts if value)


def _text_lines(head: bytes, stream: IO[bytes]) -> Iterator[str]:
    for chunk in _text_chunks(head, stream):
        yield from (line + "\n" for line in chunk.message.split("\n"))


def _text_chunks(head: bytes, stream: IO[bytes] | None) -> Iterator[LogRecord]:
    """Chunks of complete lines, decoded; only the tail of the previous read is carried over."""
    pending = head
    while True:
        more = stream.read(CHUNK_BYTES) if stream is not None else b""
        pending += more
        if not more:
            break
        cut = pending.rfind(b"\n")
        if cut >= 0 and len(pending) >= CHUNK_BYTES // 2:
            yield _decode_chunk(pending[:cut])
            pending = pending[cut + 1 :]
    if pending:
        yield _decode_chunk(pending[:-1] if pending.endswith(b"\n") else pending)


def _decode_chunk(data: bytes) -> LogRecord:
    text = data.decode("utf-8", errors="replace")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return LogRecord(text)
