"""Logs of recent successful runs of the same task: what "normal" looks like for it.

The condenser drops failing-run lines whose template also occurs here first (condense(baseline=)).
Best effort: a baseline that cannot be read never delays or fails a summary.
"""

from __future__ import annotations

import logging

from django.core.cache import cache

from failbrief.condense.condenser import records_from_prefect
from failbrief.condense.records import LogRecord
from failbrief.runs.errors import PrefectError
from failbrief.runs.failed_units import FailedUnit
from failbrief.runs.prefect import FlowRun, PrefectClient

log = logging.getLogger(__name__)
RUNS = 3
MAX_RECORDS_PER_RUN = 2000
CACHE_SECONDS = 600


def baseline_records(client: PrefectClient, unit: FailedUnit, run: FlowRun) -> list[LogRecord]:
    """Log records of up to 3 recent COMPLETED runs of the same deployment and task (task_key),
    cached per deployment and task for 10 minutes. [] when there is none or Prefect cannot say."""
    if not run.deployment_id or unit.kind != "task_run":
        return []
    try:
        task_key = client.task_run(unit.id).task_key
        key = f"failbrief:baseline:{run.deployment_id}:{task_key}"
        records: list[LogRecord] | None = cache.get(key)
        if records is None:
            records = _read_baseline(client, run.deployment_id, task_key, exclude=run.id)
            cache.set(key, records, CACHE_SECONDS)
    except PrefectError as exc:
        log.info("flow_run_id=%s task_id=%s no baseline: %s", run.id, unit.id, exc)
        return []
    return records


def _read_baseline(client: PrefectClient, deployment_id: str, task_key: str, exclude: str) -> list[LogRecord]:
    runs = client.completed_runs_of_deployment(deployment_id, limit=RUNS * 2)
    good = [r for r in runs if r.id != exclude and r.state_name == "Completed"][:RUNS]
    records: list[LogRecord] = []
    for good_run in good:
        for task in client.task_runs(good_run.id):
            if task.task_key == task_key:
                logs = client.logs(task_run_id=task.id)[:MAX_RECORDS_PER_RUN]
                records += records_from_prefect(entry.model_dump(mode="json") for entry in logs)
    return records
