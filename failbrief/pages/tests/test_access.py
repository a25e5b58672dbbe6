"""Who sees what: anonymous → sign-in, another org's pages → 404, a member cannot do an admin's
actions, every form needs its CSRF token; invitations; session cookies behind HTTPS."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from failbrief.pages.invites import create_invite, email_configured, email_invite
from failbrief.pages.models import Feedback, Invite, Membership, TeamNote
from failbrief.pages.tests.conftest import PASSWORD, store_failure
from failbrief.summarize.models import LlmSession


def org_pages(slug: str, row: LlmSession) -> list[str]:
    return [
        reverse("pages:failures", args=[slug]),
        reverse("pages:run", args=[slug, row.flow_run_id]),
        reverse("pages:signature", args=[slug, row.signature]),
    ]


def org_posts(slug: str, row: LlmSession) -> list[tuple[str, dict[str, str]]]:
    return [
        (reverse("pages:feedback", args=[slug, row.pk]), {"vote": "up"}),
        (reverse("pages:regenerate", args=[slug, row.pk]), {}),
        (reverse("pages:signature_note", args=[slug, row.signature]), {"note": "restart it"}),
    ]


def test_anonymous_people_are_sent_to_sign_in_from_every_page_and_action(sides):
    a, _ = sides
    row = store_failure(a.org, signature="s" * 64)
    anonymous = Client()
    assert anonymous.get("/")["Location"] == reverse("pages:signin")
    for url in org_pages("org-a", row):
        answer = anonymous.get(url)
        assert answer.status_code == 302
        assert answer["Location"].startswith(reverse("pages:signin") + "?next=")
    for url, data in org_posts("org-a", row):
        answer = anonymous.post(url, data)
        assert answer.status_code == 302
        assert answer["Location"].startswith(reverse("pages:signin"))
    assert not Feedback.objects.exists()
    assert not TeamNote.objects.exists()
    assert LlmSession.objects.count() == 1


def test_another_orgs_pages_and_rows_are_404_like_ones_that_do_not_exist(sides):
    a, b = sides
    theirs = store_failure(
        b.org,
        signature="b" * 64,
        root_cause="B's secret table is missing",
        context="Failed unit: load_orders (Failed)\nERROR B's private warehouse b-wh-7 refused the load",
    )
    client = a.client("admin")
    # Org B's own URLs…
    for url in org_pages("org-b", theirs):
        answer = client.get(url)
        assert answer.status_code == 404
        assert "b-wh-7" not in answer.content.decode()
    for url, data in org_posts("org-b", theirs):
        assert client.post(url, data).status_code == 404
    # …and org B's rows reached through org A's URLs.
    for url in org_pages("org-a", theirs)[1:]:
        answer = client.get(url)
        assert answer.status_code == 404
        assert "b-wh-7" not in answer.content.decode()
    for url, data in org_posts("org-a", theirs):
        assert client.post(url, data).status_code == 404
    assert "secret table" not in client.get(reverse("pages:failures", args=["org-a"])).content.decode()
    assert not Feedback.objects.exists()
    assert not TeamNote.objects.exists()
    assert LlmSession.objects.count() == 1
    # A slug that is no org at all answers the same.
    assert client.get(reverse("pages:failures", args=["no-such-org"])).status_code == 404


def test_a_member_cannot_regenerate_but_an_admin_can(sides, settings):
    a, _ = sides
    row = store_failure(a.org)
    member = a.client("member")
    assert member.post(reverse("pages:regenerate", args=["org-a", row.pk])).status_code == 403
    assert LlmSession.objects.count() == 1
    page = member.get(reverse("pages:run", args=["org-a", row.flow_run_id])).content.decode()
    assert "Regenerate" not in page
    page = a.client("admin").get(reverse("pages:run", args=["org-a", row.flow_run_id])).content.decode()
    assert "Regenerate" in page


def test_every_form_needs_its_csrf_token(sides):
    a, _ = sides
    row = store_failure(a.org, signature="c" * 64)
    client = Client(enforce_csrf_checks=True)
    client.force_login(a.admin)
    for url, data in org_posts("org-a", row):
        assert client.post(url, data).status_code == 403
    assert client.post(reverse("pages:signout")).status_code == 403
    assert not Feedback.objects.exists()
    assert LlmSession.objects.count() == 1
    # The page's own form carries the token, and with it the post goes through.
    page = client.get(reverse("pages:run", args=["org-a", row.flow_run_id]))
    token = page.cookies["csrftoken"].value
    answer = client.post(
        reverse("pages:feedback", args=["org-a", row.pk]), {"vote": "up"}, HTTP_X_CSRFTOKEN=token
    )
    assert answer.status_code == 302
    assert Feedback.objects.filter(summary=row, user=a.admin, helpful=True).exists()


@pytest.mark.usefixtures("sides")
def test_sign_in_with_the_right_password_only_and_sign_out():
    client = Client()
    wrong = client.post(reverse("pages:signin"), {"email": "member@org-a.test", "password": "nope"})
    assert wrong.status_code == 400
    assert "Wrong email or password" in wrong.content.decode()
    right = client.post(reverse("pages:signin"), {"email": "MEMBER@org-a.test", "password": PASSWORD})
    assert right.status_code == 302
    assert client.get("/")["Location"] == reverse("pages:failures", args=["org-a"])
    client.post(reverse("pages:signout"))
    assert client.get(reverse("pages:failures", args=["org-a"])).status_code == 302


@pytest.mark.usefixtures("sides")
def test_sign_in_goes_back_to_the_page_asked_for_but_never_to_another_site():
    client = Client()
    data = {"email": "member@org-a.test", "password": PASSWORD, "next": "https://evil.example/"}
    assert client.post(reverse("pages:signin"), data)["Location"] == reverse("pages:home")
    client = Client()
    data["next"] = reverse("pages:failures", args=["org-a"]) + "?q=x"
    assert client.post(reverse("pages:signin"), data)["Location"] == data["next"]


def test_an_invitation_signs_up_once_and_then_is_spent(sides):
    a, _ = sides
    link = create_invite(a.org, "New.Person@Example.org", admin=True)
    path = link.split("://", 1)[1].split("/", 1)[1]
    client = Client()
    form = client.get("/" + path)
    assert form.status_code == 200
    assert "new.person@example.org" in form.content.decode()
    assert Invite.objects.get().token_hash not in link  # only the hash is stored
    short = client.post("/" + path, {"password": "short", "password2": "short"})
    assert short.status_code == 400
    joined = client.post("/" + path, {"name": "Nia", "password": PASSWORD, "password2": PASSWORD})
    assert joined["Location"] == reverse("pages:failures", args=["org-a"])
    user = User.objects.get(username="new.person@example.org")
    assert Membership.objects.get(user=user, org=a.org).is_admin
    assert client.get(reverse("pages:failures", args=["org-a"])).status_code == 200
    assert Client().get("/" + path).status_code == 404  # used


def test_an_expired_invitation_is_refused(sides):
    a, _ = sides
    link = create_invite(a.org, "late@example.org")
    Invite.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    answer = Client().post(path, {"password": PASSWORD, "password2": PASSWORD})
    assert answer.status_code == 404
    assert "expired" in answer.content.decode()
    assert not User.objects.filter(username="late@example.org").exists()


def test_someone_with_an_account_joins_a_second_org_with_their_password(sides):
    a, b = sides
    link = create_invite(b.org, "member@org-a.test")
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]
    assert Client().post(path, {"password": "wrong"}).status_code == 400
    client = Client()
    assert client.post(path, {"password": PASSWORD}).status_code == 302
    assert set(a.member.memberships.values_list("org__slug", flat=True)) == {"org-a", "org-b"}
    assert client.get(reverse("pages:failures", args=["org-b"])).status_code == 200
    assert client.get(reverse("pages:failures", args=["org-a"])).status_code == 200


def test_session_and_csrf_cookies_are_secure_behind_https():
    script = "from django.conf import settings as s; print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE)"
    env = os.environ | {"FAILBRIEF_HTTPS": "true", "DJANGO_SETTINGS_MODULE": "failbrief.settings"}
    out = subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {script}"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert out.stdout.split() == ["True", "True"]


def test_user_invite_prints_a_one_time_link(tmp_path: Path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {"FAILBRIEF_VAR_DIR": str(tmp_path)}

    def failbrief(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "failbrief.cli", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )

    assert failbrief("org", "add", "acme").returncode == 0
    made = failbrief("user", "invite", "acme", "ops@example.org", "--admin")
    assert made.returncode == 0, made.stderr
    assert made.stdout.count("\n") == 1
    assert "/signup/fb_" in made.stdout
    assert "as admin" in made.stderr
    assert failbrief("user", "invite", "nope", "ops@example.org").returncode == 1
    assert "not an email" in failbrief("user", "invite", "acme", "not-an-email").stderr


def test_an_invitation_is_emailed_when_email_is_configured(sides, settings, mailoutbox):
    a, _ = sides
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert email_configured()
    link = create_invite(a.org, "ops@example.org")
    assert email_invite(a.org, "ops@example.org", link, admin=False) == ""
    [mail] = mailoutbox
    assert mail.to == ["ops@example.org"]
    assert link in mail.body
    assert "ORG-A" in mail.subject
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = ""
    assert not email_configured()


def test_an_invitation_email_that_cannot_go_says_why(sides, settings):
    a, _ = sides
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    reason = email_invite(a.org, "ops@example.org", create_invite(a.org, "ops@example.org"), admin=True)
    assert "ConnectionRefusedError" in reason
