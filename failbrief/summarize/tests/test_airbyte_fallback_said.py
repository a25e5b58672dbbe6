"""A failed Airbyte sync that had to be summarized from Prefect's logs says so in the brief Dalgo's
webapp shows (the `response` list its poll returns), not only in a field it does not read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from failbrief.orgs.manage import add_org
from failbrief.runs.failed_units import failed_units
from failbrief.runs.prefect import PrefectClient
from failbrief.summarize.models import LlmSession
from failbrief.summarize.pipeline import claim_unit, summarize_unit
from failbrief.testing.fake_airbyte import FakeAirbyte, c_scenario
from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.fixtures import AIRBYTE_TOKEN

pytestmark = pytest.mark.django_db
C_PARENT = "0b59dfe2-2741-41e2-8685-dbc036b23e5d"


@pytest.fixture
def prefect(service_settings, fake_prefect: FakePrefect) -> Iterator[PrefectClient]:
    with PrefectClient(fake_prefect.url, retries=0) as client:
        yield client


def summarized_sync(prefect: PrefectClient) -> LlmSession:
    org = add_org("demo", default=True)
    run = prefect.flow_run(C_PARENT)
    (unit,) = failed_units(prefect, C_PARENT)
    row, _ = claim_unit(org, (C_PARENT,), unit, run, "worker")
    summarize_unit(prefect, row, unit, run)
    row.refresh_from_db()
    return row


def test_a_sync_summarized_from_prefect_because_airbyte_refused_the_token_says_so(
    settings, fake_airbyte: FakeAirbyte, prefect: PrefectClient
):
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, "expired"
    c_scenario(fake_airbyte)

    row = summarized_sync(prefect)

    assert (row.session_status, row.log_source) == ("completed", "prefect")
    said = "\n".join(item["response"] for item in row.response or [])
    assert "summarized from Prefect's logs" in said
    assert "401" in said
    assert "expired" not in said


def test_a_sync_read_from_airbyte_adds_no_such_line(settings, fake_airbyte: FakeAirbyte, prefect):
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, AIRBYTE_TOKEN
    c_scenario(fake_airbyte)

    row = summarized_sync(prefect)

    assert row.log_source == "airbyte"
    assert "Prefect's logs" not in "\n".join(item["response"] for item in row.response or [])
