"""A form sent twice (a double click, or reloading the answer and choosing "Resend") does its work
once: rotating the webhook key twice would retire the key Prefect still uses at once, a second
token or signing secret would be made that nobody ever sees."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from django.test import Client
from django.urls import reverse

from failbrief.notify.models import NotifyChannel
from failbrief.orgs.manage import create_token, rotate_webhook_key
from failbrief.orgs.models import ApiToken
from failbrief.pages.tests.conftest import Side, store_failure
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_receivers import FakeReceiver

FAILED = json.dumps({"body": "Flow run x with id 0b59dfe2-2741-41e2-8685-dbc036b23e5d entered state Failed"})


def form_of(client: Client, page: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action` on `page`, as a browser would send them."""
    html = client.get(page).content.decode()
    start = html.index(f'action="{action}"')
    form = html[start : html.index("</form>", start)]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))


def accepted(key: str) -> bool:
    answer = Client().post(
        "/webhooks/v1/notification/", FAILED, content_type="application/json", HTTP_X_NOTIFICATION_KEY=key
    )
    return answer.status_code == 202


def test_the_rotate_form_sent_twice_rotates_once_and_prefects_key_keeps_its_grace(sides, settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = None
    a, _ = sides
    prefects = rotate_webhook_key(a.org, timedelta(0))  # the key the Prefect block holds
    admin = a.client("admin")
    url = reverse("pages:settings_rotate_key", args=["org-a"])
    data = form_of(admin, reverse("pages:settings", args=["org-a"]), url) | {"grace_hours": "24"}
    made = admin.post(url, data)
    new = made.context["shown_once"]["value"]
    again = admin.post(url, data, follow=True)  # the browser resends the same form
    assert accepted(prefects), "the key Prefect uses must keep working for the grace period"
    assert accepted(new)
    assert again.status_code == 200
    assert "already" in again.content.decode()
    # A new form (the page loaded again) rotates again, as asked.
    data = form_of(admin, reverse("pages:settings", args=["org-a"]), url) | {"grace_hours": "24"}
    assert "shown_once" in admin.post(url, data).context


def test_the_token_form_sent_twice_makes_one_token(sides: tuple[Side, Side]):
    a, _ = sides
    admin = a.client("admin")
    url = reverse("pages:settings_new_token", args=["org-a"])
    data = form_of(admin, reverse("pages:settings", args=["org-a"]), url) | {"label": "dalgo"}
    admin.post(url, data)
    again = admin.post(url, data, follow=True)
    assert ApiToken.objects.filter(org=a.org).count() == 1
    assert "already" in again.content.decode()


def test_a_webhook_channel_sent_twice_is_added_once_and_says_where_its_secret_was(sides, settings):
    settings.NOTIFY_ALLOW_PRIVATE = True
    a, _ = sides
    admin = a.client("admin")
    url = reverse("pages:settings_new_channel", args=["org-a"])
    with FakeReceiver() as receiver:
        form = form_of(admin, reverse("pages:settings", args=["org-a"]), url)
        data = form | {"name": "hook", "kind": "webhook", "url": receiver.url("/in")}
        assert "shown_once" in admin.post(url, data).context
        again = admin.post(url, data, follow=True).content.decode()
    assert NotifyChannel.objects.filter(org=a.org).count() == 1
    assert "Channel not added" not in again
    assert "already added" in again


def test_revoking_or_removing_twice_says_it_is_done_not_404(sides, settings):
    settings.NOTIFY_ALLOW_PRIVATE = True
    a, _ = sides
    create_token(a.org, "old")
    token = ApiToken.objects.get(org=a.org)
    admin = a.client("admin")
    url = reverse("pages:settings_revoke_token", args=["org-a", token.pk])
    data = form_of(admin, reverse("pages:settings", args=["org-a"]), url)
    assert admin.post(url, data).status_code == 302
    again = admin.post(url, data, follow=True)
    assert again.status_code == 200
    assert "revoked" in again.content.decode()
    # Without the form's repeat, an unknown token is still a 404.
    assert admin.post(url).status_code == 404


def test_regenerate_sent_twice_makes_one_new_version(sides: tuple[Side, Side]):
    a, _ = sides
    row = store_failure(a.org)
    admin = a.client("admin")
    url = reverse("pages:regenerate", args=["org-a", row.pk])
    data = form_of(admin, reverse("pages:run", args=["org-a", row.flow_run_id]), url)
    admin.post(url, data)
    admin.post(url, data)
    assert LlmSession.objects.filter(flow_run_id=row.flow_run_id).count() == 2


def test_a_channel_test_sent_twice_sends_one_message(sides, settings):
    settings.NOTIFY_ALLOW_PRIVATE = True
    a, _ = sides
    admin = a.client("admin")
    with FakeReceiver() as receiver:
        admin.post(
            reverse("pages:settings_new_channel", args=["org-a"]),
            {"name": "hook", "kind": "webhook", "url": receiver.url("/in"), "secret": "s" * 32},
        )
        url = reverse("pages:settings_test_channel", args=["org-a", "hook"])
        data = form_of(admin, reverse("pages:settings", args=["org-a"]), url)
        admin.post(url, data)
        again = admin.post(url, data, follow=True).content.decode()
        assert len(receiver.requests) == 1
    assert "already" in again
