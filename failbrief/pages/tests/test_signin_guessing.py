"""Sign-in cannot be used to guess a password: failed attempts on one account are limited
(FAILBRIEF_RATE_SIGNIN), the account's right password included while it is locked; other
accounts are not affected, and a success does not count."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from failbrief.pages.invites import create_invite
from failbrief.pages.tests.conftest import PASSWORD, Side, store_failure


def sign_in(email: str, password: str) -> tuple[int, str, bool]:
    client = Client()
    answer = client.post(reverse("pages:signin"), {"email": email, "password": password})
    signed_in = client.get(reverse("pages:failures", args=["org-a"])).status_code == 200
    return answer.status_code, answer.content.decode(), signed_in


@pytest.mark.usefixtures("sides")
def test_failed_sign_ins_on_one_account_are_limited(settings):
    settings.RATE_SIGNIN = "5/15m"
    for _ in range(5):
        assert sign_in("member@org-a.test", "guess")[0] == 400
    status, page, signed_in = sign_in("Member@org-a.test", PASSWORD)
    assert (status, signed_in) == (429, False)
    assert "Too many failed sign-ins" in page
    assert "minute" in page
    # Another account is not locked, and its successes do not count.
    for _ in range(6):
        assert sign_in("admin@org-a.test", PASSWORD)[0] == 302


def test_an_invitation_to_an_existing_account_is_no_way_around_it(sides: tuple[Side, Side], settings):
    settings.RATE_SIGNIN = "3/15m"
    _, b = sides
    path = "/" + create_invite(b.org, "member@org-a.test").split("://", 1)[1].split("/", 1)[1]
    for _ in range(3):
        assert Client().post(path, {"password": "guess"}).status_code == 400
    locked = Client().post(path, {"password": PASSWORD})
    assert locked.status_code == 429
    assert sign_in("member@org-a.test", PASSWORD)[0] == 429


def test_a_form_sent_after_the_session_ended_comes_back_to_its_page_not_a_405(sides: tuple[Side, Side]):
    a, _ = sides
    row = store_failure(a.org, signature="n" * 64)
    run_page = reverse("pages:run", args=["org-a", row.flow_run_id])
    client = Client()
    sent = client.post(
        reverse("pages:feedback", args=["org-a", row.pk]),
        {"vote": "up"},
        HTTP_REFERER=f"http://testserver{run_page}",
    )
    assert sent.status_code == 302
    signin = client.get(sent["Location"])
    assert "nothing was sent" in signin.content.decode()
    back = client.post(sent["Location"], {"email": "member@org-a.test", "password": PASSWORD})
    assert back["Location"] == run_page  # the page with the form, not the POST-only URL
    assert client.get(back["Location"]).status_code == 200
    # Without a referrer of this site: the org's list.
    sent = Client().post(
        reverse("pages:signature_note", args=["org-a", "n" * 64]),
        {"note": "x"},
        HTTP_REFERER="https://evil.example/",
    )
    back = Client().post(sent["Location"], {"email": "member@org-a.test", "password": PASSWORD})
    assert back["Location"] == reverse("pages:failures", args=["org-a"])


def locked_out(settings, account: str = "member@org-a.test") -> None:
    """Someone else fails on purpose until `account` is locked."""
    settings.RATE_SIGNIN = "3/15m"
    for _ in range(3):
        assert (
            Client().post(reverse("pages:signin"), {"email": account, "password": "guess"}).status_code == 400
        )
    assert sign_in(account, PASSWORD)[0] == 429


def signed_in_before(email: str = "member@org-a.test") -> Client:
    """A browser that signed in to `email` with its password, then signed out."""
    browser = Client()
    assert browser.post(reverse("pages:signin"), {"email": email, "password": PASSWORD}).status_code == 302
    browser.post(reverse("pages:signout"))
    return browser


@pytest.mark.usefixtures("sides")
def test_failing_on_purpose_does_not_lock_out_the_browser_that_last_signed_in(settings):
    mine = signed_in_before()
    assert mine.cookies["failbrief_known"]["httponly"]
    locked_out(settings)
    # The person's own browser still signs in; a new browser (the one failing on purpose) does not.
    answer = mine.post(reverse("pages:signin"), {"email": "Member@org-a.test", "password": PASSWORD})
    assert answer.status_code == 302
    assert mine.get(reverse("pages:failures", args=["org-a"])).status_code == 200
    assert sign_in("member@org-a.test", PASSWORD)[0] == 429
    # Its cookie is for that account only: another locked account is still locked from it.
    locked_out(settings, "admin@org-a.test")
    refused = mine.post(reverse("pages:signin"), {"email": "admin@org-a.test", "password": PASSWORD})
    assert refused.status_code == 429


@pytest.mark.usefixtures("sides")
def test_the_known_browser_is_still_limited_per_address_and_by_the_password_it_knew(settings):
    mine = signed_in_before()
    locked_out(settings)
    # Guessing from a known browser (a stolen cookie) counts per address: 3 more, then locked.
    for _ in range(3):
        assert (
            mine.post(reverse("pages:signin"), {"email": "member@org-a.test", "password": "x"}).status_code
            == 400
        )
    again = mine.post(reverse("pages:signin"), {"email": "member@org-a.test", "password": PASSWORD})
    assert again.status_code == 429
    # From another address the same cookie passes the account's lock.
    there = mine.post(
        reverse("pages:signin"), {"email": "member@org-a.test", "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    assert there.status_code == 302
    # A forged or tampered cookie, or one made before the password changed, passes nothing.
    forged = Client()
    forged.cookies["failbrief_known"] = "member@org-a.test"
    assert (
        forged.post(
            reverse("pages:signin"),
            {"email": "member@org-a.test", "password": PASSWORD},
            REMOTE_ADDR="10.0.0.8",
        ).status_code
        == 429
    )
    user = User.objects.get(username="member@org-a.test")
    user.set_password("a brand new passphrase")
    user.save()
    assert (
        mine.post(
            reverse("pages:signin"),
            {"email": "member@org-a.test", "password": "a brand new passphrase"},
            REMOTE_ADDR="10.0.0.7",
        ).status_code
        == 429
    )
