"""A failed sync whose runs' parameters do not name its connection (prefect-airbyte run outside
Dalgo's payload, or its task trigger_sync) takes it from prefect-airbyte's log line starting the
sync, read from Prefect as the unit's flow run logged it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from failbrief.sources.tests.test_airbyte_service import (
    SYNC_RUN,
    WAIT_TASK,
    dalgos_real_tree,
)
from failbrief.summarize.tests.test_airbyte_fallback_said import summarized_sync
from failbrief.testing.fake_airbyte import (
    C_CONNECTION,
    C_JOB,
    C_SOURCE_ERROR,
    C_STARTED,
    FakeAirbyte,
    c_scenario,
)
from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.fixtures import AIRBYTE_TOKEN

pytestmark = pytest.mark.django_db
TRIGGER_TASK = "c3d4e5f6-a7b8-4c9d-8e0f-1a2b3c4d5e6f"


def sync_logs(fake_prefect: FakePrefect, *triggered: str) -> None:
    """The sync's flow run's records: its task `trigger` logging each connection it triggered, as
    prefect-airbyte does, then `wait_for_completion` logging the failed job, and the flow's end."""
    raised = f"AirbyteSyncJobFailed: Job {C_JOB} failed."
    records: list[tuple[str | None, int, str]] = [
        (TRIGGER_TASK, 20, f"Triggering Airbyte Connection {c}, in workspace at 'http://airbyte:8000/api/v1'")
        for c in triggered
    ]
    records += [
        (WAIT_TASK, 40, f"Job {C_JOB} failed."),
        (WAIT_TASK, 40, f"Finished in state Failed('Task run encountered an exception {raised}')"),
        (None, 40, f"Finished in state Failed('Flow run encountered an exception: {raised}')"),
    ]
    fake_prefect.add_logs(
        [
            {
                "id": f"01a20fed-0000-7000-8000-{n:012d}",
                "name": "prefect.task_runs" if task else "prefect.flow_runs",
                "level": level,
                "message": message,
                "timestamp": (C_STARTED + timedelta(seconds=n)).isoformat().replace("+00:00", "Z"),
                "flow_run_id": SYNC_RUN,
                "task_run_id": task,
            }
            for n, (task, level, message) in enumerate(records)
        ]
    )


@pytest.fixture
def shared_airbyte(settings, fake_airbyte: FakeAirbyte) -> FakeAirbyte:
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, AIRBYTE_TOKEN
    c_scenario(fake_airbyte)
    return fake_airbyte


def test_an_org_on_the_shared_airbyte_reads_the_job_of_the_connection_its_sync_logged(
    shared_airbyte, fake_prefect, prefect_client
):
    # Without the line, "Job 4567 failed." alone is no job acme may read on the shared Airbyte.
    dalgos_real_tree(fake_prefect, parameters=False)
    sync_logs(fake_prefect, C_CONNECTION)

    row = summarized_sync(prefect_client, "acme", default=False)

    assert (row.task_id, row.log_source, row.source_note) == (WAIT_TASK, "airbyte", "")
    assert (row.airbyte_job_id, row.airbyte_connection_id) == (C_JOB, C_CONNECTION)
    assert C_SOURCE_ERROR.split(". ")[0] in "\n".join(row.evidence)


def test_the_logged_connection_is_recorded_when_airbyte_cannot_be_read(
    shared_airbyte, fake_prefect, prefect_client
):
    dalgos_real_tree(fake_prefect, parameters=False)
    sync_logs(fake_prefect, C_CONNECTION)
    shared_airbyte.deny_all()

    row = summarized_sync(prefect_client, "demo", default=True)

    assert (row.log_source, row.airbyte_connection_id) == ("prefect", C_CONNECTION)
    assert row.source_note.startswith("Airbyte could not be read (AirbyteAuthError")


def test_a_sync_run_that_logged_two_connections_is_read_by_its_job_alone(
    shared_airbyte, fake_prefect, prefect_client
):
    dalgos_real_tree(fake_prefect, parameters=False)
    sync_logs(fake_prefect, "0b9e8f7a-1c2d-4e3f-8a9b-7c6d5e4f3a2b", C_CONNECTION)

    row = summarized_sync(prefect_client, "acme", default=False)

    assert (row.log_source, row.airbyte_connection_id) == ("prefect", "")
    assert row.source_note.startswith(f"Airbyte has no failed job {C_JOB} on the shared Airbyte")
