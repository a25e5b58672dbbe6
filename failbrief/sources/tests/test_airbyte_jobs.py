"""Picking the job and attempt of a failed sync, reading its logs, storing what Airbyte said."""

from __future__ import annotations

from datetime import timedelta

import pytest

from failbrief.orgs.manage import add_org, set_airbyte
from failbrief.orgs.models import Org
from failbrief.sources.airbyte_jobs import NOT_CONFIGURED, logs_of_unit, window
from failbrief.sources.airbyte_units import AirbyteUnit
from failbrief.sources.models import AirbyteJob
from failbrief.testing.fake_airbyte import (
    C_CONNECTION,
    C_EXTERNAL_MESSAGE,
    C_JOB,
    C_SOURCE_ERROR,
    C_STARTED,
    FakeAttempt,
    FakeJob,
    c_attempt_lines,
    c_scenario,
)
from failbrief.testing.fixtures import AIRBYTE_TOKEN

pytestmark = pytest.mark.django_db
RUN_WINDOW = window(C_STARTED, C_STARTED + timedelta(seconds=2))
SYNC = AirbyteUnit(C_CONNECTION, "its parameters")
C_ROW_FIELDS = {"airbyte_job_id": C_JOB, "airbyte_attempt_number": 2, "airbyte_connection_id": C_CONNECTION}


@pytest.fixture
def org(settings, fake_airbyte) -> Org:
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, AIRBYTE_TOKEN
    c_scenario(fake_airbyte)
    return add_org("demo", default=True)


def test_the_last_failed_attempt_of_the_job_in_the_window_is_read(org):
    found, note = logs_of_unit(org, SYNC, *RUN_WINDOW)
    assert note == ""
    assert found is not None
    assert found.row_fields() == C_ROW_FIELDS
    text = "\n".join(r.message for r in found.records)
    assert C_SOURCE_ERROR in text
    assert "OUTSIDE-THE-WINDOW" not in text
    assert {r.source for r in found.records} == {"airbyte"}


def test_airbytes_failure_summary_leads_the_context(org):
    found, _ = logs_of_unit(org, SYNC, *RUN_WINDOW)
    assert found is not None
    first, *rest = found.preamble.splitlines()
    assert first.startswith(f"Airbyte job {C_JOB} (sync of connection {C_CONNECTION}), status failed")
    assert f"- (source, config_error) {C_EXTERNAL_MESSAGE}" in rest
    assert any("internal: io.airbyte.workers.exception.WorkerException" in line for line in rest)


def test_what_was_found_is_stored_once_per_job(org):
    logs_of_unit(org, SYNC, *RUN_WINDOW)
    logs_of_unit(org, SYNC, *RUN_WINDOW)
    (job,) = AirbyteJob.objects.all()
    assert (job.job_id, job.config_id, job.config_type, job.status) == (C_JOB, C_CONNECTION, "sync", "failed")
    assert [a["status"] for a in job.attempts] == ["failed"] * 3
    assert job.created_at == C_STARTED


def test_no_failed_job_in_the_window_says_so_plainly(org):
    after = C_STARTED + timedelta(minutes=20)
    found, note = logs_of_unit(org, SYNC, *window(after, after + timedelta(minutes=1)))
    assert found is None
    assert note.startswith(f"No failed Airbyte job of connection {C_CONNECTION} was created between")
    assert note.endswith("so this sync is summarized from Prefect's logs.")


def test_the_job_its_failure_message_names_wins_among_failed_jobs_in_the_window(org, fake_airbyte):
    later = C_STARTED + timedelta(seconds=30)
    fake_airbyte.add_job(FakeJob(4570, C_CONNECTION, "failed", later, [FakeAttempt("failed", ["x"])]))
    newest, _ = logs_of_unit(org, SYNC, *RUN_WINDOW)
    named, _ = logs_of_unit(org, AirbyteUnit(C_CONNECTION, "msg", job_id_hint=C_JOB), *RUN_WINDOW)
    assert newest is not None
    assert named is not None
    assert (newest.job.job.id, named.job.job.id) == (4570, C_JOB)


def test_the_job_alone_of_prefect_airbytes_job_failed_says_which_connection(org):
    # "Job 4567 failed." and no connection anywhere: Airbyte's job 4567 names it, whatever the window.
    only_the_job = AirbyteUnit("", "the Airbyte job its state message names", job_id_hint=C_JOB)
    later = C_STARTED + timedelta(hours=3)
    found, note = logs_of_unit(org, only_the_job, *window(later, later))
    assert note == ""
    assert found is not None
    assert found.row_fields() == C_ROW_FIELDS
    assert found.preamble.startswith(f"Airbyte job {C_JOB} (sync of connection {C_CONNECTION})")
    assert AirbyteJob.objects.filter(job_id=C_JOB, config_id=C_CONNECTION).exists()


def test_a_named_job_airbyte_does_not_have_or_that_did_not_fail_says_so(org, fake_airbyte):
    at = C_STARTED + timedelta(seconds=20)
    fake_airbyte.add_job(FakeJob(4580, C_CONNECTION, "succeeded", at, [FakeAttempt("succeeded", ["ok"])]))
    for job_id in (4580, 999):
        found, note = logs_of_unit(org, AirbyteUnit("", "msg", job_id_hint=job_id), *RUN_WINDOW)
        assert found is None
        assert note == (
            f"Airbyte has no failed job {job_id} (the job the failure names), so this sync is "
            "summarized from Prefect's logs."
        )


def test_an_incomplete_job_counts_and_a_succeeded_one_does_not(org, fake_airbyte):
    # Airbyte runs one job of a connection at a time: the succeeded one ran before the incomplete one.
    at = C_STARTED + timedelta(seconds=20)
    done = FakeJob(
        4580, C_CONNECTION, "succeeded", at - timedelta(seconds=10), [FakeAttempt("succeeded", ["ok"])]
    )
    fake_airbyte.add_job(done)
    attempts = [FakeAttempt("failed", c_attempt_lines(4579, 0)), FakeAttempt("running", ["still going"])]
    fake_airbyte.add_job(FakeJob(4579, C_CONNECTION, "incomplete", at, attempts))
    found, _ = logs_of_unit(org, SYNC, *RUN_WINDOW)
    assert found is not None
    assert (found.job.job.id, found.attempt_number) == (4579, 0)


def test_structured_logs_keep_their_levels(settings, fake_airbyte):
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, AIRBYTE_TOKEN
    c_scenario(fake_airbyte, log_type="structured")
    found, _ = logs_of_unit(add_org("demo"), SYNC, *RUN_WINDOW)
    assert found is not None
    errors = [r for r in found.records if r.level == 40]
    assert any("Something went wrong in the connector" in r.message for r in errors)
    assert all(r.timestamp and r.timestamp.startswith("2026-11-24T23:39") for r in found.records)


def test_without_airbyte_configured_the_note_says_so(settings):
    settings.AIRBYTE_API_URL = None
    found, note = logs_of_unit(add_org("demo"), SYNC, *RUN_WINDOW)
    assert found is None
    assert note == NOT_CONFIGURED


def test_a_refused_token_becomes_a_note_not_a_crash(org, fake_airbyte):
    fake_airbyte.deny_all()
    found, note = logs_of_unit(org, SYNC, *RUN_WINDOW)
    assert found is None
    assert "AirbyteAuthError" in note
    assert "401" in note


def test_an_orgs_own_airbyte_and_token_override_the_global_one(settings, fake_airbyte):
    settings.AIRBYTE_API_URL = None
    c_scenario(fake_airbyte)
    org = add_org("acme")
    set_airbyte(org, url=fake_airbyte.url, token=AIRBYTE_TOKEN)
    org.refresh_from_db()
    assert AIRBYTE_TOKEN not in org.airbyte_token_encrypted
    found, _ = logs_of_unit(org, SYNC, *RUN_WINDOW)
    assert found is not None
    assert fake_airbyte.requests[-1][2] == f"Basic {AIRBYTE_TOKEN}"
