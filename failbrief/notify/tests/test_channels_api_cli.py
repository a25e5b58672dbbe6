"""Managing channels as an org's admin would: through the API with the org's token and through the
CLI. Secrets are never shown back; one org never sees another's channels."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner, Result
from django.test import Client

from failbrief.cli import main
from failbrief.notify.models import NotifyChannel
from failbrief.orgs.manage import add_org, create_token
from failbrief.testing.fake_receivers import FakeReceiver

pytestmark = pytest.mark.django_db
SLACK_TOKEN = "xoxbSecretTokenValue9f3a"


@pytest.fixture
def hook() -> Iterator[FakeReceiver]:
    with FakeReceiver() as receiver:
        yield receiver


@pytest.fixture
def admin() -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {create_token(add_org('acme'))}")


def post(client: Client, path: str, body: object) -> tuple[int, dict[str, Any]]:
    answer = client.post(path, json.dumps(body), content_type="application/json")
    return answer.status_code, answer.json() if answer.content else {}


def test_an_admin_adds_tries_lists_disables_and_removes_a_channel(admin, hook):
    url = hook.url(f"/services/T0/B0/{SLACK_TOKEN}")
    status, created = post(
        admin, "/api/v1/channels", {"name": "ops", "kind": "slack", "config": {"url": url}}
    )
    assert status == 201
    assert created["secret"] is None
    assert SLACK_TOKEN not in json.dumps(created)

    status, tried = post(admin, "/api/v1/channels/ops/test", {})
    assert (status, tried) == (200, {"sent": True, "reason": ""})
    assert len(hook.requests) == 1

    listed = admin.get("/api/v1/channels").json()
    assert [(c["name"], c["kind"], c["enabled"]) for c in listed] == [("ops", "slack", True)]
    assert SLACK_TOKEN not in json.dumps(listed)

    patched = admin.patch(
        "/api/v1/channels/ops", json.dumps({"enabled": False}), content_type="application/json"
    )
    assert patched.json()["enabled"] is False
    assert admin.delete("/api/v1/channels/ops").status_code == 204
    assert admin.get("/api/v1/channels").json() == []


def test_a_signed_webhook_secret_is_shown_once_at_creation(admin, hook):
    status, created = post(
        admin, "/api/v1/channels", {"name": "pager", "kind": "webhook", "config": {"url": hook.url()}}
    )
    assert status == 201
    assert created["secret"]
    assert created["secret"] not in json.dumps(admin.get("/api/v1/channels").json())


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"name": "ops", "kind": "slack", "config": {"url": "http://hooks.example.org/x"}}, "https"),
        ({"name": "mail", "kind": "email", "config": {"to": "not-an-address"}}, "not-an-address"),
        (
            {
                "name": "Ops Team",
                "kind": "slack",
                "config": {"url": "https://hooks.slack.com/services/a/b/c"},
            },
            "slug",
        ),
    ],
)
def test_a_wrong_channel_is_refused_with_what_to_fix(admin, body, said):
    status, answer = post(admin, "/api/v1/channels", body)
    assert status == 400
    assert said in answer["detail"]
    assert not NotifyChannel.objects.exists()


def test_an_unknown_kind_and_a_taken_name_are_refused(admin, hook):
    status, _ = post(admin, "/api/v1/channels", {"name": "x", "kind": "pigeon", "config": {}})
    assert status == 422
    body = {"name": "ops", "kind": "slack", "config": {"url": hook.url()}}
    assert post(admin, "/api/v1/channels", body)[0] == 201
    status, answer = post(admin, "/api/v1/channels", body)
    assert status == 400
    assert "already" in answer["detail"]


def test_one_org_cannot_see_or_change_anothers_channels(admin, hook):
    post(admin, "/api/v1/channels", {"name": "ops", "kind": "slack", "config": {"url": hook.url()}})
    other = Client(HTTP_AUTHORIZATION=f"Bearer {create_token(add_org('globex'))}")
    assert other.get("/api/v1/channels").json() == []
    assert other.delete("/api/v1/channels/ops").status_code == 404
    assert other.post("/api/v1/channels/ops/test").status_code == 404
    assert NotifyChannel.objects.count() == 1


def failbrief(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_the_cli_manages_channels_and_prints_a_generated_secret_once(hook):
    add_org("acme")
    added = failbrief(
        "channel", "add", "acme", "ops", "--kind", "slack", "--url", hook.url(f"/s/T/B/{SLACK_TOKEN}")
    )
    assert added.exit_code == 0, added.output
    tested = failbrief("channel", "test", "acme", "ops")
    assert tested.exit_code == 0, tested.output
    assert len(hook.requests) == 1
    listed = failbrief("channel", "list", "acme")
    assert "ops\tslack\tenabled" in listed.output
    assert SLACK_TOKEN not in listed.output

    webhook = failbrief("channel", "add", "acme", "pager", "--kind", "webhook", "--url", hook.url("/in"))
    assert webhook.exit_code == 0
    assert webhook.stdout.strip().startswith("fb_")  # the secret, on stdout, once

    hook.fail_next(404, body=b"no_service")
    refused = failbrief("channel", "test", "acme", "ops")
    assert refused.exit_code == 1
    assert "404" in refused.output
    assert failbrief("channel", "disable", "acme", "ops").exit_code == 0
    assert "disabled" in failbrief("channel", "list", "acme").output
    assert failbrief("channel", "remove", "acme", "ops").exit_code == 0
    missing = failbrief("channel", "test", "acme", "ops")
    assert missing.exit_code == 1
    assert "no channel named 'ops'" in missing.output


@pytest.mark.parametrize("stall", ["hang", "drip"])
def test_trying_a_stalled_receiver_answers_within_the_test_deadline(admin, hook, settings, stall):
    """A receiver that never answers, or drips its answer a byte at a time, must not hold a web
    worker: the test message has a short deadline, and the answer says it passed."""
    settings.NOTIFY_TIMEOUT_SECONDS = 30.0  # each read alone would wait this long
    settings.NOTIFY_TEST_DEADLINE_SECONDS = 1.0
    body = {"name": "ops", "kind": "slack", "config": {"url": hook.url(f"/services/T0/B0/{SLACK_TOKEN}")}}
    assert post(admin, "/api/v1/channels", body)[0] == 201
    if stall == "hang":
        hook.hang()
    else:
        hook.drip(0.1)  # its ~110-byte answer would take 11 s, each byte well within 30 s
    status, tried = post(admin, "/api/v1/channels/ops/test", {})
    assert status == 200
    assert tried["sent"] is False
    assert tried["reason"].endswith("did not answer in time: the 1 s deadline of this send passed")
    assert SLACK_TOKEN not in tried["reason"]
    assert len(hook.requests) == 1
