"""LOG_FORMAT=json: every log record is one JSON line whose fields a log store can filter on."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

from failbrief.celery import app
from failbrief.lib.json_logs import JsonFormatter


def formatted(record: logging.LogRecord) -> str:
    return JsonFormatter().format(record)


def record(msg: str, *args: object, **extra: object) -> logging.LogRecord:
    made = logging.LogRecord("failbrief.events.process", logging.INFO, __file__, 1, msg, args, None)
    made.__dict__.update(extra)
    return made


def test_a_record_is_one_json_line_with_its_key_value_pairs_and_extra_fields():
    line = formatted(record("event=%s flow_run_id=%s status=%s", 12, "abc-1", "done", org="demo"))

    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["level"] == "INFO"
    assert parsed["logger"] == "failbrief.events.process"
    assert parsed["message"] == "event=12 flow_run_id=abc-1 status=done"
    assert (parsed["event"], parsed["flow_run_id"], parsed["status"], parsed["org"]) == (
        "12",
        "abc-1",
        "done",
        "demo",
    )
    assert parsed["ts"].endswith("+00:00")


def test_a_pair_named_like_a_core_field_does_not_replace_it():
    parsed = json.loads(formatted(record("level=debug message=hi logger=x")))

    assert (parsed["level"], parsed["logger"]) == ("INFO", "failbrief.events.process")
    assert parsed["message"] == "level=debug message=hi logger=x"


def test_an_exception_and_its_traceback_stay_on_the_one_line():
    try:
        raise ValueError("bad\nvalue")
    except ValueError:
        made = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())

    line = formatted(made)

    assert "\n" not in line
    assert "ValueError: bad\nvalue" in json.loads(line)["exception"]


def test_log_format_json_makes_the_services_log_lines_json(tmp_path):
    script = (
        "import django, logging; django.setup(); logging.getLogger('failbrief.x').info('event=%s done', 7)"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}} | {
        "LOG_FORMAT": "json",
        "FAILBRIEF_VAR_DIR": str(tmp_path),
        "DJANGO_SETTINGS_MODULE": "failbrief.settings",
    }

    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    (line,) = done.stderr.splitlines()
    assert json.loads(line) | {"ts": None} == {
        "ts": None,
        "level": "INFO",
        "logger": "failbrief.x",
        "message": "event=7 done",
        "event": "7",
    }


@app.task(name="failbrief.metrics.tests.format_in_a_task")
def format_in_a_task(msg: str, *args: str) -> str:
    return formatted(record(msg, *args))


def test_a_worker_line_keeps_its_own_task_id_beside_the_celery_task_it_ran_in():
    """Our lines' `task_id=` is the Prefect task run (pipeline.py's summary line, the baseline's);
    the Celery task the line was logged in must not take its place."""
    line = format_in_a_task.apply(
        ("summary=%s flow_run_id=%s task_id=%s", "7", "run-1", "prefect-task-run-1"), task_id="celery-task-9"
    ).get()

    parsed = json.loads(line)
    assert parsed["task_id"] == "prefect-task-run-1"
    assert parsed["celery_task_id"] == "celery-task-9"
    assert parsed["celery_task_name"] == "failbrief.metrics.tests.format_in_a_task"


def test_a_pair_quoted_later_in_the_line_does_not_replace_the_lines_own():
    """finish_event's line ends with the reason, which may quote what came back from elsewhere."""
    parsed = json.loads(
        formatted(record("event=%s status=%s %s", 12, "failed", "PrefectError: 422: event=999 status=x"))
    )

    assert (parsed["event"], parsed["status"]) == ("12", "failed")
