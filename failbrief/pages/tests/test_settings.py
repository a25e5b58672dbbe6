"""Org settings: admins only (members 403, other orgs 404, anonymous → sign-in, CSRF), and no
secret is ever rendered back after the answer that made it."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from failbrief.notify.models import NotifyChannel
from failbrief.orgs.models import ApiToken, Org
from failbrief.testing.black_hole import BlackHole
from failbrief.testing.fake_automations import FakeAutomations
from failbrief.testing.fake_receivers import FakeReceiver

SLACK_URL = "https://hooks.slack.com/services/T0/B0/very-secret-part"


def actions(slug: str) -> list[tuple[str, dict[str, str]]]:
    return [
        (reverse("pages:settings_llm", args=[slug]), {"optin": "on", "provider": "openai"}),
        (reverse("pages:settings_rotate_key", args=[slug]), {"grace_hours": "1"}),
        (reverse("pages:settings_new_token", args=[slug]), {"label": "x"}),
        (
            reverse("pages:settings_new_channel", args=[slug]),
            {"name": "c", "kind": "slack", "url": SLACK_URL},
        ),
        (reverse("pages:settings_check_prefect", args=[slug]), {}),
    ]


def unchanged(org: Org) -> None:
    org.refresh_from_db()
    assert not org.llm_optin
    assert org.llm_provider == ""
    assert org.webhook_key_hash is None
    assert not ApiToken.objects.filter(org=org).exists()
    assert not NotifyChannel.objects.filter(org=org).exists()


def test_only_admins_of_the_org_reach_its_settings(sides):
    a, b = sides
    url = reverse("pages:settings", args=["org-a"])
    assert a.client("admin").get(url).status_code == 200
    assert a.client("member").get(url).status_code == 403
    assert b.client("admin").get(url).status_code == 404
    assert Client().get(url)["Location"].startswith(reverse("pages:signin"))
    assert (
        "Settings" not in a.client("member").get(reverse("pages:failures", args=["org-a"])).content.decode()
    )
    for path, data in actions("org-a"):
        assert a.client("member").post(path, data).status_code == 403, path
        assert b.client("admin").post(path, data).status_code == 404, path
        assert Client().post(path, data).status_code == 302, path
        csrf_checked = Client(enforce_csrf_checks=True)
        csrf_checked.force_login(a.admin)
        assert csrf_checked.post(path, data).status_code == 403, path
    unchanged(a.org)


def test_an_admin_opts_in_to_the_llm_after_reading_the_notice(sides):
    a, _ = sides
    admin = a.client("admin")
    page = admin.get(reverse("pages:settings", args=["org-a"])).content.decode()
    assert "Data sharing." in page
    assert "Nothing of this" in page
    done = admin.post(
        reverse("pages:settings_llm", args=["org-a"]),
        {"optin": "on", "provider": "anthropic", "model": "m-1"},
    )
    assert done.status_code == 302
    a.org.refresh_from_db()
    assert (a.org.llm_optin, a.org.llm_optin_by, a.org.llm_provider, a.org.llm_model) == (
        True,
        "admin@org-a.test",
        "anthropic",
        "m-1",
    )
    admin.post(reverse("pages:settings_llm", args=["org-a"]), {"provider": "", "model": ""})
    a.org.refresh_from_db()
    assert (a.org.llm_optin, a.org.llm_provider) == (False, "")
    bad = admin.post(reverse("pages:settings_llm", args=["org-a"]), {"provider": "skynet"}, follow=True)
    assert "unknown LLM provider" in bad.content.decode()


def test_a_rotated_webhook_key_is_shown_once_and_the_old_one_works_during_the_grace(sides, settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = None
    a, _ = sides
    admin = a.client("admin")
    made = admin.post(reverse("pages:settings_rotate_key", args=["org-a"]), {"grace_hours": "2"})
    first = made.context["shown_once"]["value"]
    assert first in made.content.decode()
    assert made["Cache-Control"] == "no-store"
    rotated = admin.post(reverse("pages:settings_rotate_key", args=["org-a"]), {"grace_hours": "2"})
    second = rotated.context["shown_once"]["value"]
    page = admin.get(reverse("pages:settings", args=["org-a"])).content.decode()
    assert first not in page
    assert second not in page
    assert "previous key keeps working until" in page
    body = json.dumps(
        {"body": "Flow run x with id 0b59dfe2-2741-41e2-8685-dbc036b23e5d entered state Failed"}
    )
    for key in (first, second):
        answer = Client().post(
            "/webhooks/v1/notification/",
            body,
            content_type="application/json",
            headers={"X-Notification-Key": key},
        )
        assert answer.status_code == 202
    bad = admin.post(reverse("pages:settings_rotate_key", args=["org-a"]), {"grace_hours": "-1"}, follow=True)
    assert "between 0 and 720" in bad.content.decode()


def test_an_api_token_is_shown_once_works_and_is_revoked(sides):
    a, b = sides
    admin = a.client("admin")
    made = admin.post(reverse("pages:settings_new_token", args=["org-a"]), {"label": "dalgo"})
    token = made.context["shown_once"]["value"]
    assert Client().get("/api/v1/org", HTTP_AUTHORIZATION=f"Bearer {token}").json()["slug"] == "org-a"
    page = admin.get(reverse("pages:settings", args=["org-a"])).content.decode()
    assert token not in page
    assert token[:10] in page  # the prefix identifies it
    row = ApiToken.objects.get(org=a.org)
    # Another org's admin cannot revoke it, even through their own org's URL.
    assert (
        b.client("admin").post(reverse("pages:settings_revoke_token", args=["org-b", row.pk])).status_code
        == 404
    )
    assert Client().get("/api/v1/org", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200
    assert admin.post(reverse("pages:settings_revoke_token", args=["org-a", row.pk])).status_code == 302
    assert Client().get("/api/v1/org", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401


def test_channels_are_added_tested_and_removed_and_their_urls_never_shown(sides, settings):
    settings.NOTIFY_ALLOW_PRIVATE = True
    a, b = sides
    admin = a.client("admin")
    added = admin.post(
        reverse("pages:settings_new_channel", args=["org-a"]),
        {"name": "ops", "kind": "slack", "url": SLACK_URL},
        follow=True,
    ).content.decode()
    assert "Channel ops added" in added
    assert "very-secret-part" not in added
    assert "hooks.slack.com" in added  # the hint says where, not how to post there
    with FakeReceiver() as receiver:
        made = admin.post(
            reverse("pages:settings_new_channel", args=["org-a"]),
            {"name": "hook", "kind": "webhook", "url": receiver.url("/in/secret-path-token")},
        )
        secret = made.context["shown_once"]["value"]
        page = admin.get(reverse("pages:settings", args=["org-a"])).content.decode()
        assert secret not in page
        assert "secret-path-token" not in page
        tested = admin.post(reverse("pages:settings_test_channel", args=["org-a", "hook"]), follow=True)
        assert "A test message went to hook" in tested.content.decode()
        assert len(receiver.requests) == 1
        assert (
            b.client("admin").post(reverse("pages:settings_test_channel", args=["org-b", "hook"])).status_code
            == 404
        )
    refused = admin.post(
        reverse("pages:settings_new_channel", args=["org-a"]),
        {"name": "bad", "kind": "slack", "url": "not a url"},
        follow=True,
    )
    assert "Channel not added" in refused.content.decode()
    assert admin.post(reverse("pages:settings_remove_channel", args=["org-a", "ops"])).status_code == 302
    assert list(NotifyChannel.objects.filter(org=a.org).values_list("name", flat=True)) == ["hook"]


@pytest.mark.usefixtures("sides")
def test_the_prefect_connection_check_says_what_is_wrong(settings):
    admin = Client()
    admin.login(username="admin@org-a.test", password="correct horse battery staple")
    with FakeAutomations() as prefect:
        settings.PREFECT_API_URL = prefect.url
        page = admin.post(reverse("pages:settings_check_prefect", args=["org-a"])).content.decode()
    assert "Prefect API: reachable" in page
    assert "no automation named" in page
    with FakeAutomations() as gone:
        settings.PREFECT_API_URL = gone.url
    settings.PREFECT_TIMEOUT_SECONDS = 1
    page = admin.post(reverse("pages:settings_check_prefect", args=["org-a"])).content.decode()
    assert "not reachable" in page


@pytest.mark.usefixtures("sides")
def test_the_prefect_check_asks_a_silent_prefect_once_not_once_per_retry(settings):
    # The admin waits on the page: a Prefect behind a firewall that drops packets costs one timeout,
    # as `failbrief check` does, not four timeouts and their backoffs.
    admin = Client()
    admin.login(username="admin@org-a.test", password="correct horse battery staple")
    with BlackHole() as hole:
        settings.PREFECT_API_URL = f"http://127.0.0.1:{hole.port}/api"
        settings.PREFECT_TIMEOUT_SECONDS = 1
        page = admin.post(reverse("pages:settings_check_prefect", args=["org-a"])).content.decode()
        tries = hole.connections
    assert "not reachable" in page
    assert tries == 1
