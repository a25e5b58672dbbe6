"""A form refused for one field keeps everything else the person typed, and says what is wrong
next to the field (tied to it for screen readers); a long text is never silently cut."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from failbrief.notify.models import NotifyChannel
from failbrief.pages.invites import create_invite
from failbrief.pages.models import TeamNote
from failbrief.pages.tests.conftest import Side, store_failure

SIG = "e" * 64


def field(page: str, name: str) -> str:
    """The <input> or <textarea> named `name`."""
    found = re.search(rf'<(?:input|textarea)[^>]*\bname="{name}"[^>]*>', page)
    assert found, name
    return found.group(0)


def described_error(page: str, name: str) -> str:
    """The error text that the field `name` names with aria-describedby, and it is aria-invalid."""
    tag = field(page, name)
    assert 'aria-invalid="true"' in tag, tag
    ids = re.search(r'aria-describedby="([^"]+)"', tag)
    assert ids, tag
    texts = [re.search(rf'id="{i}"[^>]*>(.*?)</', page, re.S) for i in ids.group(1).split()]
    return " ".join(t.group(1) for t in texts if t)


@pytest.mark.usefixtures("sides")
def test_a_wrong_password_keeps_the_email_and_the_error_is_tied_to_the_fields():
    page = Client().post(reverse("pages:signin"), {"email": "member@org-a.test", "password": "no"})
    html = page.content.decode()
    assert 'value="member@org-a.test"' in field(html, "email")
    assert "Wrong email or password" in described_error(html, "password")


def test_a_refused_sign_up_keeps_the_name_and_says_why_at_the_password(sides: tuple[Side, Side]):
    a, _ = sides
    path = "/" + create_invite(a.org, "nia@example.org").split("://", 1)[1].split("/", 1)[1]
    page = Client().post(path, {"name": "Nia Okafor", "password": "short", "password2": "short"})
    assert page.status_code == 400
    html = page.content.decode()
    assert 'value="Nia Okafor"' in field(html, "name")
    assert "too short" in described_error(html, "password")


def test_a_refused_channel_keeps_what_was_typed_and_says_why_by_the_form(sides, settings):
    a, _ = sides
    admin = a.client("admin")
    data = {"name": "ops-alerts", "kind": "email", "to": "ops@example.org, not-an-address"}
    page = admin.post(reverse("pages:settings_new_channel", args=["org-a"]), data)
    assert page.status_code == 400
    html = page.content.decode()
    assert 'value="ops-alerts"' in field(html, "name")
    assert 'value="ops@example.org, not-an-address"' in field(html, "to")
    assert '<option value="email" selected>' in html
    assert "Channel not added" in html
    assert not NotifyChannel.objects.exists()


def test_a_long_note_with_line_breaks_is_kept_whole_and_one_too_long_is_refused_and_kept(sides):
    a, _ = sides
    store_failure(a.org, signature=SIG)
    client = a.client()
    url = reverse("pages:signature_note", args=["org-a", SIG])
    # The textarea allows 4000 characters, a line break counting one; the browser sends it as CRLF.
    lines = [f"step {n:03d}: rerun the orders migration" for n in range(108)]
    typed = "\n".join(lines)[:4000]
    assert len(typed) <= 4000
    assert client.post(url, {"note": typed.replace("\n", "\r\n")}).status_code == 302
    assert TeamNote.objects.get().text == typed  # whole, its last line included
    too_long = "x" * 4001
    page = client.post(url, {"note": too_long})
    assert page.status_code == 400
    html = page.content.decode()
    assert too_long in html  # kept for the person to shorten
    assert "4000" in described_error(html, "note")
    assert TeamNote.objects.get().text == typed  # unchanged


def test_the_channel_name_field_accepts_exactly_the_names_the_server_does(sides: tuple[Side, Side]):
    a, _ = sides
    html = a.client("admin").get(reverse("pages:settings", args=["org-a"])).content.decode()
    pattern = re.search(r'pattern="([^"]+)"', field(html, "name"))
    assert pattern
    assert re.fullmatch(pattern.group(1), "ops-alerts_2")
    assert not re.fullmatch(pattern.group(1), "Ops")  # refused by the server: ask for it here


def test_an_error_message_is_announced_at_once_and_a_confirmation_politely(sides: tuple[Side, Side]):
    a, _ = sides
    admin = a.client("admin")
    bad = admin.post(reverse("pages:settings_llm", args=["org-a"]), {"provider": "skynet"}, follow=True)
    assert re.search(r'<li class="error" role="alert">[^<]*unknown LLM provider', bad.content.decode())
    good = admin.post(reverse("pages:settings_llm", args=["org-a"]), {"provider": ""}, follow=True)
    assert re.search(r'<li class="success" role="status">LLM settings saved', good.content.decode())


def test_a_name_with_capitals_is_refused_saying_lowercase(sides: tuple[Side, Side]):
    a, _ = sides
    data = {"name": "Ops", "kind": "email", "to": "ops@example.org"}
    page = a.client("admin").post(reverse("pages:settings_new_channel", args=["org-a"]), data)
    error = re.search(r'id="ch-error">([^<]*)<', page.content.decode())
    assert error
    assert "lowercase" in error.group(1)
