"""A platform token (Dalgo's backend) acts for the org each request names, and only for it: acting
for org A it reads, triggers, polls and changes only A's rows, on every API route. Org tokens
ignore the org headers."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from django.test import Client

from failbrief.api.tests.test_read_api import RUN, stored
from failbrief.metrics.tests.reading import samples, value
from failbrief.notify.manage import add_channel
from failbrief.notify.models import Notification, NotifyChannel
from failbrief.orgs.manage import create_platform_token, revoke_token, set_airbyte
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_airbyte import C_CONNECTION, C_JOB, c_scenario
from failbrief.testing.fixtures import AIRBYTE_TOKEN

pytestmark = pytest.mark.services  # also on PostgreSQL, with the rate counters in Redis

PLATFORM = "dalgo"
COUNTER = "failbrief_platform_token_requests_total"


@pytest.fixture
def platform_token(two_orgs: Any) -> str:
    return create_platform_token(PLATFORM, "DDP_backend")


def acting_for(token: str, slug: str | None, header: str = "HTTP_X_FAILBRIEF_ORG") -> Client:
    extra: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    if slug is not None:
        extra[header] = slug
    return Client(**extra)


def platform_uses(org: str) -> float:
    return value(samples(Client().get("/metrics").content.decode()), COUNTER, platform=PLATFORM, org=org)


@pytest.mark.parametrize(
    ("slug", "status", "says"),
    [
        (None, 404, "X-Failbrief-Org header: none was sent"),
        ("", 404, "X-Failbrief-Org header: none was sent"),
        ("no-such-org", 404, "no org 'no-such-org'"),
        ("org-a\x00", 404, "no org 'org-a\\x00'"),
        ("x" * 101, 404, "no org 'xxx"),
    ],
)
def test_a_platform_token_without_a_known_org_is_refused_saying_why(platform_token, slug, status, says):
    answer = acting_for(platform_token, slug).get("/api/v1/summaries")
    assert answer.status_code == status
    assert says in answer.json()["detail"]


def test_two_org_headers_that_disagree_are_refused(platform_token):
    client = Client(
        HTTP_AUTHORIZATION=f"Bearer {platform_token}", HTTP_X_FAILBRIEF_ORG="org-a", HTTP_X_DALGO_ORG="org-b"
    )
    answer = client.get("/api/v1/org")
    assert answer.status_code == 400
    assert "name different orgs" in answer.json()["detail"]


def test_dalgos_own_org_header_names_the_org_too(platform_token):
    answer = acting_for(platform_token, "org-b", header="HTTP_X_DALGO_ORG").get("/api/v1/org")
    assert answer.status_code == 200
    assert answer.json()["slug"] == "org-b"


def test_an_org_token_ignores_the_org_headers(two_orgs):
    (org_a, token_a), (org_b, _) = two_orgs
    mine, theirs = stored(org_a, root_cause="a's cause"), stored(org_b, root_cause="b's cause")
    client = Client(
        HTTP_AUTHORIZATION=f"Bearer {token_a}", HTTP_X_FAILBRIEF_ORG="org-b", HTTP_X_DALGO_ORG="x"
    )
    assert client.get("/api/v1/org").json()["slug"] == "org-a"
    assert [s["id"] for s in client.get("/api/v1/summaries").json()["summaries"]] == [mine.pk]
    assert client.get(f"/api/v1/summaries/{theirs.pk}").status_code == 404


def test_every_use_is_logged_and_counted_with_the_org(platform_token, caplog):
    before_a, before_b = platform_uses("org-a"), platform_uses("org-b")
    with caplog.at_level(logging.INFO, logger="failbrief.api.auth"):
        acting_for(platform_token, "org-a").get("/api/v1/summaries")
        acting_for(platform_token, "org-a").get("/api/v1/org")
        acting_for(platform_token, "org-b").get("/api/v1/org")
    assert (platform_uses("org-a"), platform_uses("org-b")) == (before_a + 2, before_b + 1)
    lines = [r.getMessage() for r in caplog.records]
    assert "platform dalgo acting for org org-a: GET /api/v1/summaries" in lines
    assert "platform dalgo acting for org org-b: GET /api/v1/org" in lines


def test_a_revoked_platform_token_is_refused(platform_token):
    assert acting_for(platform_token, "org-a").get("/api/v1/org").status_code == 200
    revoke_token(platform_token[:10])
    assert acting_for(platform_token, "org-a").get("/api/v1/org").status_code == 401


def test_acting_for_org_a_it_reads_only_org_as_rows_on_every_read_route(two_orgs, platform_token):
    (org_a, _), (org_b, _) = two_orgs
    mine = stored(org_a, root_cause="a's cause")  # the same flow run id in both orgs
    theirs = stored(org_b, root_cause="b's cause")
    channel_b, _ = add_channel(org_b, "b-mail", "email", {"to": "ops@b.example"})
    add_channel(org_a, "a-mail", "email", {"to": "ops@a.example"})
    Notification.objects.create(channel=channel_b, summary=theirs, repeat_key="b")
    as_a = acting_for(platform_token, "org-a")

    by_run = as_a.get(f"/api/v1/flow-runs/{RUN}/summaries").json()["summaries"]
    assert [s["root_cause"] for s in by_run] == ["a's cause"]
    assert [s["id"] for s in as_a.get("/api/v1/summaries").json()["summaries"]] == [mine.pk]
    assert as_a.get(f"/api/v1/summaries/{mine.pk}").status_code == 200
    assert as_a.get(f"/api/v1/summaries/{theirs.pk}").status_code == 404
    assert as_a.get(f"/api/tasks/stp/{mine.request_uuid}").status_code == 200
    assert as_a.get(f"/api/tasks/stp/{theirs.request_uuid}").status_code == 404
    assert as_a.get("/api/v1/org").json()["slug"] == "org-a"
    assert [c["name"] for c in as_a.get("/api/v1/channels").json()] == ["a-mail"]
    assert as_a.get("/api/v1/notifications").json() == []
    # The Dalgo trigger of a unit both orgs have stored answers org A's handle, never org B's.
    trigger = as_a.get(f"/api/prefect/v1/flow_runs/{RUN}/logsummary?task_id=t-1").json()
    assert trigger == {"task_id": str(mine.request_uuid)}


def test_acting_for_org_a_it_changes_nothing_of_org_bs(two_orgs, platform_token):
    (org_a, _), (org_b, _) = two_orgs
    theirs = stored(org_b)
    add_channel(org_b, "b-mail", "email", {"to": "ops@b.example"})
    as_a = acting_for(platform_token, "org-a")

    assert as_a.post(f"/api/v1/summaries/{theirs.pk}/regenerate").status_code == 404
    assert (
        as_a.patch("/api/v1/channels/b-mail", {"enabled": False}, content_type="application/json").status_code
        == 404
    )
    assert as_a.post("/api/v1/channels/b-mail/test").status_code == 404
    assert as_a.delete("/api/v1/channels/b-mail").status_code == 404
    made = as_a.post(
        "/api/v1/channels",
        {"name": "a-mail", "kind": "email", "config": {"to": "ops@a.example"}},
        content_type="application/json",
    )
    assert made.status_code == 201
    optin = as_a.post(
        "/api/v1/org/llm-optin", {"optin": True, "by": "lead@a.example"}, content_type="application/json"
    )
    assert optin.json()["llm_optin"] is True

    org_a.refresh_from_db()
    org_b.refresh_from_db()
    assert (org_a.llm_optin, org_b.llm_optin) == (True, False)
    assert LlmSession.objects.filter(org=org_b).count() == 1  # no new version
    assert NotifyChannel.objects.get(org=org_b, name="b-mail").enabled is True
    assert list(NotifyChannel.objects.filter(org=org_a).values_list("name", flat=True)) == ["a-mail"]


def test_acting_for_org_a_it_cannot_trigger_or_poll_org_bs_runs_and_syncs(
    two_orgs, platform_token, service_settings, fake_airbyte
):
    """Org B's Airbyte knows job 4567; org A's trigger of the same connection and job is a 404, and
    so is org A's poll of the handle org B was given. Org B's run (scenario c, named by its own
    `org:demo` tag, so no one's here) cannot be summarized for org A either."""
    (_, _), (org_b, _) = two_orgs
    c_scenario(fake_airbyte)
    set_airbyte(org_b, url=fake_airbyte.url, token=AIRBYTE_TOKEN)
    as_a, as_b = acting_for(platform_token, "org-a"), acting_for(platform_token, "org-b")
    path = f"/api/airbyte/v1/connections/{C_CONNECTION}/logsummary?job_id={C_JOB}"

    handle_b = as_b.get(path)
    assert handle_b.status_code == 200
    assert as_b.get(f"/api/tasks/stp/{handle_b.json()['task_id']}").status_code == 200

    refused = as_a.get(path)
    assert refused.status_code == 404
    assert "detail" in refused.json()
    assert as_a.get(f"/api/tasks/stp/{handle_b.json()['task_id']}").status_code == 404
    prefect = as_a.get(
        f"/api/prefect/v1/flow_runs/{RUN}/logsummary?task_id=7fa8b3be-ccb8-4987-8dd9-dd0a1db7d1ad"
    )
    assert prefect.status_code == 404
    assert LlmSession.objects.exclude(org=org_b).count() == 0


def test_a_platform_tokens_writes_count_against_the_org_it_acts_for(two_orgs, platform_token, settings):
    settings.RATE_WRITES = "2/7d"
    (_, token_a), _ = two_orgs
    as_a, as_b = acting_for(platform_token, "org-a"), acting_for(platform_token, "org-b")
    optin = {"optin": False, "by": "lead@x.example"}

    def write(client: Client) -> int:
        return client.post("/api/v1/org/llm-optin", optin, content_type="application/json").status_code

    assert [write(as_a), write(as_a)] == [200, 200]
    over = as_a.post("/api/v1/org/llm-optin", optin, content_type="application/json")
    assert over.status_code == 429
    assert int(over["Retry-After"]) >= 1
    assert write(Client(HTTP_AUTHORIZATION=f"Bearer {token_a}")) == 429  # org A's own token shares the count
    assert write(as_b) == 200  # org B's count is its own
