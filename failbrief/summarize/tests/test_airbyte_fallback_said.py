"""A failed Airbyte sync that had to be summarized from Prefect's logs says so in the brief Dalgo's
webapp shows (the `response` list its poll returns), not only in a field it does not read."""

from __future__ import annotations

import httpx
import pytest

from failbrief.notify.channels.registry import channel
from failbrief.notify.compose import compose
from failbrief.orgs.manage import add_org, set_airbyte
from failbrief.runs.failed_units import failed_units
from failbrief.runs.prefect import PrefectClient
from failbrief.summarize.models import LlmSession
from failbrief.summarize.pipeline import claim_unit, summarize_unit
from failbrief.testing.fake_airbyte import FakeAirbyte, c_scenario
from failbrief.testing.fake_receivers import FakeReceiver
from failbrief.testing.fixtures import AIRBYTE_TOKEN

pytestmark = pytest.mark.django_db
C_PARENT = "0b59dfe2-2741-41e2-8685-dbc036b23e5d"


def summarized_sync(prefect_client: PrefectClient, slug: str = "demo", *, default: bool = True) -> LlmSession:
    org = add_org(slug, default=default)
    run = prefect_client.flow_run(C_PARENT)
    (unit,) = failed_units(prefect_client, C_PARENT)
    row, _ = claim_unit(org, (C_PARENT,), unit, run, "worker")
    summarize_unit(prefect_client, row, unit, run)
    row.refresh_from_db()
    return row


def test_a_sync_summarized_from_prefect_because_airbyte_refused_the_token_says_so(
    settings, fake_airbyte: FakeAirbyte, prefect_client: PrefectClient
):
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, "expired"
    c_scenario(fake_airbyte)

    row = summarized_sync(prefect_client)

    assert (row.session_status, row.log_source) == ("completed", "prefect")
    said = "\n".join(item["response"] for item in row.response or [])
    assert "summarized from Prefect's logs" in said
    assert "401" in said
    assert "expired" not in said


def test_a_sync_read_from_airbyte_adds_no_such_line(settings, fake_airbyte: FakeAirbyte, prefect_client):
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, AIRBYTE_TOKEN
    c_scenario(fake_airbyte)

    row = summarized_sync(prefect_client)

    assert row.log_source == "airbyte"
    assert "Prefect's logs" not in "\n".join(item["response"] for item in row.response or [])


def redirect_naming(url: str) -> bytes:
    """What a Go reverse proxy (Traefik's http-to-https redirect) answers: a 301 whose body names
    the address it redirects to, which an error message quotes."""
    moved = url.replace("http://", "https://") + "/jobs/get_without_logs"
    return f'<a href="{moved}">Moved Permanently</a>.'.encode()


def all_an_org_reads(row: LlmSession) -> str:
    return "\n".join([row.source_note, *(item["response"] for item in row.response or []), row.context])


def test_an_org_on_the_shared_airbyte_is_not_shown_its_address_when_it_cannot_be_read(
    settings, fake_airbyte: FakeAirbyte, prefect_client: PrefectClient
):
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, AIRBYTE_TOKEN
    c_scenario(fake_airbyte)
    fake_airbyte.fail_next(1, 301, body=redirect_naming(fake_airbyte.url))

    row = summarized_sync(prefect_client, "acme", default=False)

    host_port = fake_airbyte.url.split("//")[1].split("/")[0]
    said = all_an_org_reads(row)
    assert (row.session_status, row.log_source) == ("completed", "prefect")
    assert "The shared Airbyte could not be read" in row.source_note
    assert "301" in row.source_note  # what went wrong is still said...
    assert host_port not in said  # ...but not where the operator's Airbyte lives
    assert host_port.split(":")[0] not in said
    assert "AIRBYTE_API_TOKEN" not in said


def test_an_org_with_its_own_airbyte_is_told_its_own_address(
    settings, fake_airbyte: FakeAirbyte, prefect_client: PrefectClient
):
    settings.AIRBYTE_API_URL = None
    c_scenario(fake_airbyte)
    fake_airbyte.fail_next(1, 301, body=redirect_naming(fake_airbyte.url))
    add_org("demo", default=True)
    own = add_org("acme")
    set_airbyte(own, url=fake_airbyte.url, token=AIRBYTE_TOKEN)
    run = prefect_client.flow_run(C_PARENT)
    (unit,) = failed_units(prefect_client, C_PARENT)
    row, _ = claim_unit(own, (C_PARENT,), unit, run, "worker")
    summarize_unit(prefect_client, row, unit, run)
    row.refresh_from_db()

    assert row.source_note.startswith("Airbyte could not be read")
    assert fake_airbyte.url.split("//")[1].split("/")[0] in row.source_note


def test_a_sync_summarized_from_prefects_logs_says_so_in_its_slack_message(
    settings, fake_airbyte: FakeAirbyte, prefect_client: PrefectClient
):
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, "expired"
    c_scenario(fake_airbyte)
    row = summarized_sync(prefect_client)

    message = compose(row, flow_run_name="nightly", deployment="nightly", failed_at=None)
    slack = channel("slack")
    with FakeReceiver() as hook, httpx.Client(timeout=5) as http:
        slack.send(slack.clean_config({"url": hook.url("/services/T0/B0/abcd")}), message, http, "d")
        sent = hook.requests[-1].body.decode()

    assert "Logs used" in sent
    assert "Airbyte could not be read" in sent


def test_a_password_airbytes_error_quotes_stays_out_of_the_note_and_the_message(
    settings, fake_airbyte: FakeAirbyte, prefect_client: PrefectClient
):
    settings.AIRBYTE_API_URL, settings.AIRBYTE_API_TOKEN = fake_airbyte.url, AIRBYTE_TOKEN
    c_scenario(fake_airbyte)
    fake_airbyte.fail_next(1, 400, body={"message": "invalid config: password=Sup3rSecret9 for etl"})

    row = summarized_sync(prefect_client)
    message = compose(row, flow_run_name="nightly", deployment="nightly", failed_at=None)

    assert "400" in row.source_note
    assert "Sup3rSecret9" not in row.source_note  # shown on the pages and by the API
    assert "Sup3rSecret9" not in message.logs_used
