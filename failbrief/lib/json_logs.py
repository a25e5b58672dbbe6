"""LOG_FORMAT=json: one JSON object per line, for log stores that index fields (Loki, Elasticsearch,
CloudWatch). Pure: no Django, no settings.

Our log lines carry their facts as `key=value` in the message (`event=12 flow_run_id=… status=done`);
those pairs become fields too, next to any `extra={...}` the call passed, so a query can filter
on `event` without parsing the message."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

from celery import current_task

CORE = ("ts", "level", "logger", "message")
# Everything a LogRecord carries on its own; any other attribute came from `extra=`.
_RECORD_ATTRIBUTES = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_PAIR = re.compile(r"(?:^|(?<=\s))([a-z][a-z0-9_]*)=(\S+)")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, object] = _pairs(message) | _extra(record) | _task()
        line |= {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": message,
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def _pairs(message: str) -> dict[str, str]:
    """The message's `key=value` pairs; the first of a key wins: our lines put their facts first,
    and a reason at the end may quote text from elsewhere that has pairs of its own."""
    pairs: dict[str, str] = {}
    for key, value in _PAIR.findall(message):
        pairs.setdefault(key, value)
    return pairs


def _extra(record: logging.LogRecord) -> dict[str, object]:
    return {k: v for k, v in vars(record).items() if k not in _RECORD_ATTRIBUTES and not k.startswith("_")}


def _task() -> dict[str, object]:
    """The Celery task this line was logged in. Not `task_id`/`task_name` as Celery's own format
    calls them: our lines' `task_id=` is the Prefect task run they are about, and must stay a field."""
    task = current_task
    if not task or task.request.id is None:
        return {}
    return {"celery_task_name": task.name, "celery_task_id": task.request.id}
