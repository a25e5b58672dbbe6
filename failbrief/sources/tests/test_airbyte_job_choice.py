"""Which Airbyte job a failed sync unit is summarized from, when the connection has several: the
job its failure names (whatever its status and creation time), else the unit's own job by time,
never an earlier or later job that someone else started; and never another org's job."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from failbrief.orgs.manage import add_org
from failbrief.orgs.models import Org
from failbrief.sources.airbyte import AirbyteBadResponse
from failbrief.sources.airbyte_jobs import logs_of_unit, window
from failbrief.sources.airbyte_units import AirbyteUnit
from failbrief.sources.models import AirbyteJob
from failbrief.summarize.on_demand_airbyte import request_airbyte_summary
from failbrief.testing.fake_airbyte import (
    C_CONNECTION,
    C_JOB,
    C_SOURCE_ERROR,
    C_STARTED,
    FakeAirbyte,
    FakeAttempt,
    FakeJob,
    NotAirbyte,
    Page,
    c_attempt_lines,
    c_failure,
    c_scenario,
    cancelled_failure,
)
from failbrief.testing.fixtures import AIRBYTE_TOKEN

pytestmark = pytest.mark.django_db
UNIT_END = C_STARTED + timedelta(seconds=40)
UNIT_WINDOW = window(C_STARTED, UNIT_END)
BY_CONNECTION = AirbyteUnit(C_CONNECTION, "its parameters")  # e.g. a crash: no job named


@pytest.fixture
def global_airbyte(settings, fake_airbyte: FakeAirbyte) -> FakeAirbyte:
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, AIRBYTE_TOKEN
    return fake_airbyte


@pytest.fixture
def org(global_airbyte: FakeAirbyte) -> Org:
    return add_org("demo", default=True)


def failed_job(job_id: int, at: datetime, marker: str = "") -> FakeJob:
    lines = c_attempt_lines(job_id, 0) + ([f"2026-11-24 23:39:06 source > ERROR {marker}"] if marker else [])
    return FakeJob(job_id, C_CONNECTION, "failed", at, [FakeAttempt("failed", lines, failures=[c_failure()])])


def text_of(found: object) -> str:
    return "\n".join(r.message for r in found.records)  # type: ignore[attr-defined]


@pytest.mark.parametrize("connection", [C_CONNECTION, ""], ids=["connection-known", "job-only"])
def test_a_cancelled_job_the_failure_names_is_read_not_an_earlier_failed_one(org, fake_airbyte, connection):
    # prefect-airbyte raises "Job 4568 cancelled." when someone cancels the sync in Airbyte's UI.
    fake_airbyte.add_job(failed_job(4566, C_STARTED - timedelta(minutes=2), "EARLIER-MANUAL-RUN"))
    lines = [*c_attempt_lines(4568, 0)[:4], "2026-11-24 23:39:20 platform > Cancelling the sync"]
    attempt = FakeAttempt("failed", lines, failures=[cancelled_failure()])
    fake_airbyte.add_job(
        FakeJob(4568, C_CONNECTION, "cancelled", C_STARTED + timedelta(seconds=1), [attempt])
    )
    unit = AirbyteUnit(connection, "its parameters", job_id_hint=4568)

    found, note = logs_of_unit(org, unit, *UNIT_WINDOW)

    assert note == ""
    assert found is not None
    assert found.job.job.id == 4568
    assert "EARLIER-MANUAL-RUN" not in text_of(found)
    assert "status cancelled" in found.preamble
    assert "manual_cancellation" in found.preamble


def test_the_named_job_is_read_even_when_created_outside_the_units_window(org, fake_airbyte):
    # A unit without times of its own is looked up in its run's; the job its failure names decides,
    # not another failed job of the connection that happens to fall in that window.
    fake_airbyte.add_job(failed_job(4567, C_STARTED - timedelta(minutes=30)))
    fake_airbyte.add_job(failed_job(4569, C_STARTED + timedelta(seconds=5), "SOMEONE-ELSES-RUN"))
    unit = AirbyteUnit(C_CONNECTION, "its parameters", job_id_hint=4567)

    found, _ = logs_of_unit(org, unit, *UNIT_WINDOW)

    assert found is not None
    assert found.job.job.id == 4567
    assert "SOMEONE-ELSES-RUN" not in text_of(found)


def test_a_named_job_of_another_connection_is_not_read_as_this_ones(org, fake_airbyte):
    other = FakeJob(
        4567, "0e6c1f53-0000-4000-8000-00000000abcd", "failed", C_STARTED, [FakeAttempt("failed", ["x"])]
    )
    fake_airbyte.add_job(other)
    fake_airbyte.add_job(failed_job(4570, C_STARTED + timedelta(seconds=2)))

    found, _ = logs_of_unit(org, AirbyteUnit(C_CONNECTION, "msg", job_id_hint=4567), *UNIT_WINDOW)

    assert found is not None
    assert (found.job.job.id, found.job.job.config_id) == (4570, C_CONNECTION)


def test_a_failed_manual_rerun_after_the_unit_ended_is_not_its_job(org, fake_airbyte):
    fake_airbyte.add_job(failed_job(C_JOB, C_STARTED))
    fake_airbyte.add_job(failed_job(4569, UNIT_END + timedelta(minutes=2), "MANUAL-RERUN-FAILED"))

    found, note = logs_of_unit(org, BY_CONNECTION, *UNIT_WINDOW)

    assert note == ""
    assert found is not None
    assert found.job.job.id == C_JOB
    assert "MANUAL-RERUN-FAILED" not in text_of(found)


def test_a_few_seconds_of_clock_skew_either_way_still_match(org, fake_airbyte):
    fake_airbyte.add_job(failed_job(4571, C_STARTED - timedelta(seconds=8)))
    early, _ = logs_of_unit(org, BY_CONNECTION, *UNIT_WINDOW)
    fake_airbyte.add_job(failed_job(4572, UNIT_END + timedelta(seconds=8)))
    late, _ = logs_of_unit(org, BY_CONNECTION, *UNIT_WINDOW)
    assert early is not None
    assert late is not None
    assert (early.job.job.id, late.job.job.id) == (4571, 4572)


def test_when_the_units_own_job_did_not_fail_an_earlier_failed_job_is_not_taken(org, fake_airbyte):
    # The worker crashed (no job named) while its sync still ran; a manual sync had failed just before.
    fake_airbyte.add_job(failed_job(4566, C_STARTED - timedelta(minutes=3), "EARLIER-MANUAL-RUN"))
    running = FakeJob(
        4567, C_CONNECTION, "running", C_STARTED + timedelta(seconds=1), [FakeAttempt("running")]
    )
    fake_airbyte.add_job(running)

    found, note = logs_of_unit(org, BY_CONNECTION, *UNIT_WINDOW)

    assert found is None
    assert "4567" in note
    assert "running" in note
    assert note.endswith("so this sync is summarized from Prefect's logs.")


def test_an_old_airbyte_that_ignores_the_time_filter_is_paged_until_the_window(org, fake_airbyte):
    fake_airbyte.ignore_time_filter = True  # lists every job of the connection, newest first
    fake_airbyte.add_job(failed_job(C_JOB, C_STARTED))
    for n in range(130):  # a week of hourly syncs since, all succeeded
        at = C_STARTED + timedelta(hours=n + 1)
        fake_airbyte.add_job(FakeJob(5000 + n, C_CONNECTION, "succeeded", at, [FakeAttempt("succeeded")]))
    for n in range(200):  # and months of older ones
        at = C_STARTED - timedelta(hours=n + 1)
        fake_airbyte.add_job(FakeJob(1000 + n, C_CONNECTION, "failed", at, [FakeAttempt("failed", ["old"])]))

    found, _ = logs_of_unit(org, BY_CONNECTION, *UNIT_WINDOW)

    assert found is not None
    assert found.job.job.id == C_JOB
    pages = [r for r in fake_airbyte.requests if r[0].endswith("/jobs/list")]
    assert len(pages) <= 8  # 130 newer jobs and the window's page, not the 200 older ones


def test_a_job_alone_on_the_shared_airbyte_is_not_read_for_an_org_that_does_not_own_it(global_airbyte):
    # acme has no Airbyte of its own: "Job 4567 failed." may be a job of its own Airbyte server that
    # failbrief does not know; job 4567 of the shared one is another org's connection.
    c_scenario(global_airbyte)
    acme = add_org("acme")
    only_the_job = AirbyteUnit("", "the Airbyte job its state message names", job_id_hint=C_JOB)

    found, note = logs_of_unit(acme, only_the_job, *window(C_STARTED, C_STARTED))

    assert found is None
    assert f"job {C_JOB}" in note
    assert note.endswith("so this sync is summarized from Prefect's logs.")
    assert not AirbyteJob.objects.filter(org=acme).exists()

    # Once the connection is known to be acme's (a sync of it summarized from its own run), it is read.
    logs_of_unit(acme, AirbyteUnit(C_CONNECTION, "its parameters"), *window(C_STARTED, C_STARTED))
    found, _ = logs_of_unit(acme, only_the_job, *window(C_STARTED, C_STARTED))
    assert found is not None
    assert C_SOURCE_ERROR in text_of(found)


ONLY_THE_JOB = AirbyteUnit("", "the Airbyte job its state message names", job_id_hint=C_JOB)


@pytest.mark.parametrize("path", ["", "/api/v2", "/api/public/v1"])
def test_a_url_that_is_not_airbytes_api_is_said_to_be_wrong_not_to_lack_the_job(
    settings, org, fake_airbyte, path
):
    # Every path of a URL that is not the Config API answers 404, the job's included.
    c_scenario(fake_airbyte)
    settings.AIRBYTE_API_URL = fake_airbyte.base_url + path

    found, note = logs_of_unit(org, ONLY_THE_JOB, *window(C_STARTED, C_STARTED))

    assert found is None
    assert "has no failed job" not in note
    assert "does not look like Airbyte's Config API" in note
    assert settings.AIRBYTE_API_URL in note  # the default org's own Airbyte: shown, to be fixed
    assert note.endswith("so this sync is summarized from Prefect's logs.")


def test_an_org_on_the_shared_airbyte_is_told_its_url_is_wrong_without_seeing_it(settings, fake_airbyte):
    c_scenario(fake_airbyte)
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.base_url + "/api/v2", AIRBYTE_TOKEN
    acme = add_org("acme")

    _, note = logs_of_unit(acme, ONLY_THE_JOB, *window(C_STARTED, C_STARTED))

    assert "The shared Airbyte's URL does not look like Airbyte's Config API" in note
    assert fake_airbyte.base_url.split("//")[1] not in note


def test_a_job_the_real_api_does_not_have_is_still_said_to_be_missing(org, fake_airbyte):
    c_scenario(fake_airbyte)  # the right URL: no job 999999

    _, note = logs_of_unit(org, AirbyteUnit("", "its message", job_id_hint=999999), *UNIT_WINDOW)

    assert note.startswith("Airbyte has no failed job 999999")


def test_dalgos_trigger_on_a_url_that_is_not_airbytes_api_is_a_502_saying_so_not_a_404(
    settings, org, fake_airbyte
):
    c_scenario(fake_airbyte)
    settings.AIRBYTE_API_URL = fake_airbyte.base_url  # /api/v1 left out

    with pytest.raises(AirbyteBadResponse, match="does not look like Airbyte's Config API"):
        request_airbyte_summary(org, C_CONNECTION, C_JOB)


WEB_APP = b"<!doctype html><html><head><title>Sign in</title></head><body><div id=root></div></body></html>"
STATIC_SERVER_POST = b"<html><body><h1>Error response</h1><p>Error code: 501</p></body></html>"
STATIC_SERVER_GET = b"<html><body><h1>Error response</h1><p>Error code: 404</p></body></html>"


@pytest.mark.parametrize(
    ("post", "get"),
    [
        (Page(200, WEB_APP), None),  # a web app answering its page to any path
        (Page(501, STATIC_SERVER_POST), Page(404, STATIC_SERVER_GET)),  # a static file server
        (
            Page(500, b'{"error": "internal"}', "application/json"),
            Page(200, b'{"status": "ok"}', "application/json"),
        ),  # another API, with a health check of its own
    ],
    ids=["html-page", "static-server-5xx", "other-api-5xx"],
)
@pytest.mark.parametrize("unit", [ONLY_THE_JOB, BY_CONNECTION], ids=["job-named", "by-time"])
def test_a_url_answering_as_another_service_is_said_to_be_wrong_not_unreadable(
    settings, org, post, get, unit
):
    with NotAirbyte(post, get) as other:
        settings.AIRBYTE_API_URL = other.url

        found, note = logs_of_unit(org, unit, *UNIT_WINDOW)

    assert found is None
    assert "could not be read" not in note
    url = settings.AIRBYTE_API_URL
    assert note.startswith(f"Airbyte's URL {url} does not look like Airbyte's Config API (")
    assert "/api/v1, e.g. http://airbyte:8000/api/v1" in note  # what to give instead
    assert note.endswith("so this sync is summarized from Prefect's logs.")


def test_an_org_on_the_shared_airbyte_is_told_a_web_page_means_a_wrong_url_without_seeing_it(settings):
    with NotAirbyte(Page(200, WEB_APP)) as other:
        settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = other.url, AIRBYTE_TOKEN
        acme = add_org("acme")

        _, note = logs_of_unit(acme, BY_CONNECTION, *UNIT_WINDOW)

    assert note.startswith("The shared Airbyte's URL does not look like Airbyte's Config API")
    assert "127.0.0.1" not in note


def test_a_proxy_whose_airbyte_is_down_is_unreadable_not_a_wrong_url(settings, org):
    # A 502 to the health check too: Airbyte may be behind it, down for now. Nothing tells a wrong URL.
    gateway = Page(502, b"<html><body><center><h1>502 Bad Gateway</h1></center></body></html>")
    with NotAirbyte(gateway) as proxy:
        settings.AIRBYTE_API_URL = proxy.url

        _, note = logs_of_unit(org, ONLY_THE_JOB, *UNIT_WINDOW)

    assert note.startswith("Airbyte could not be read (AirbyteUnavailable: POST /jobs/get_without_logs")
    assert "answered 502" in note
    assert "does not look like" not in note


def test_airbytes_own_server_error_is_unreadable_not_a_wrong_url(org, fake_airbyte):
    # Airbyte's health check answers as Airbyte's: the 500 is Airbyte's own trouble.
    c_scenario(fake_airbyte)
    fake_airbyte.fail_next(3, 500, path="/api/v1/jobs/get_without_logs")

    _, note = logs_of_unit(org, ONLY_THE_JOB, *UNIT_WINDOW)

    assert note.startswith("Airbyte could not be read (AirbyteUnavailable: ")
    assert "answered 500" in note


@pytest.mark.parametrize(
    ("post", "get"),
    [(Page(200, WEB_APP), None), (Page(501, STATIC_SERVER_POST), Page(404, STATIC_SERVER_GET))],
    ids=["html-page", "static-server-5xx"],
)
def test_dalgos_trigger_on_a_url_answering_as_another_service_is_a_502_saying_so(settings, org, post, get):
    # Not a 503 "try again later" (a 5xx): retrying a wrong URL never helps.
    with NotAirbyte(post, get) as other:
        settings.AIRBYTE_API_URL = other.url

        with pytest.raises(AirbyteBadResponse, match="does not look like Airbyte's Config API"):
            request_airbyte_summary(org, C_CONNECTION, C_JOB)
