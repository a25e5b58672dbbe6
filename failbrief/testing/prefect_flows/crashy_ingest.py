# mypy: ignore-errors
"""A process that dies mid-task (docs/prefect-behaviour.md §3, d), as the kernel's OOM killer does.
Only a run the runner manages ends Crashed (an in-process run would stay RUNNING forever), so this
is served."""

from __future__ import annotations

import os
import signal
import time

from prefect import flow, get_run_logger, task


@task
def load_big_table(mode: str) -> None:
    get_run_logger().info("loading 40M rows from raw.events into memory (mode=%s)", mode)
    time.sleep(2.5)  # lets the API log handler ship the line above before the process dies
    if mode == "sigkill":
        os.kill(os.getpid(), signal.SIGKILL)
    os._exit(3)


@flow(name="crashy-ingest")
def crashy_ingest(mode: str = "sigkill") -> None:
    get_run_logger().info("starting crashy ingest")
    load_big_table(mode)
