"""An invitation's sign-up form sent twice at the same moment (a double click, two tabs): the second
is answered as the second submission of a used link (signed in, in the org), never a 500, and no
account is ever left without the membership it was made for.

Two real requests, each through Django's whole stack on its own thread and database connection.
To be deterministic the twin is sent from inside the first request's window between "is there an
account for this email?" and creating it: a password validator (a setting, as a deployment may
add one) that, the first time it runs, sends the other request and waits for its answer."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse

from failbrief.orgs.manage import add_org
from failbrief.pages.invites import create_invite, withdraw_invites
from failbrief.pages.models import Invite, Membership
from failbrief.pages.tests.conftest import PASSWORD

# Run on PostgreSQL too (the services tiers): the twins queue on the invitation row there, on the
# write lock in SQLite.
pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

EMAIL = "nia@example.org"
FORM = {"name": "Nia", "password": PASSWORD, "password2": PASSWORD}
_meanwhile: list[Callable[[], None]] = []


class MeanwhileValidator:
    """Runs what the test queued, once, while the first request validates its password."""

    def validate(self, password: str, user: Any = None) -> None:
        if _meanwhile:
            _meanwhile.pop()()

    def get_help_text(self) -> str:
        return ""


def on_its_own_thread(work: Callable[[], Any]) -> Any:
    """`work` on another thread (its own database connection, as another web worker has)."""
    answer: list[Any] = []

    def run() -> None:
        try:
            answer.append(work())
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    assert answer, "the other request did not answer"
    return answer[0]


@pytest.fixture
def invite_path(settings: Any) -> str:
    settings.AUTH_PASSWORD_VALIDATORS = [
        *settings.AUTH_PASSWORD_VALIDATORS,
        {"NAME": f"{__name__}.MeanwhileValidator"},
    ]
    _meanwhile.clear()
    org = add_org("org-a", name="ORG-A")
    return "/" + create_invite(org, EMAIL).split("://", 1)[1].split("/", 1)[1]


def test_the_form_sent_twice_at_once_signs_in_both_and_makes_one_account(invite_path: str):
    twin_answer: list[Any] = []
    _meanwhile.append(
        lambda: twin_answer.append(
            on_its_own_thread(lambda: Client(raise_request_exception=False).post(invite_path, FORM))
        )
    )
    first = Client(raise_request_exception=False)
    answer = first.post(invite_path, FORM)
    org_list = reverse("pages:failures", args=["org-a"])
    assert twin_answer[0].status_code == 302
    assert twin_answer[0]["Location"] == org_list
    # The later one is answered as a used link sent again by the person who used it: into the org.
    assert answer.status_code == 302, answer.content.decode()[:500]
    assert answer["Location"] == org_list
    assert first.get(org_list).status_code == 200
    user = User.objects.get(username=EMAIL)
    assert Membership.objects.filter(user=user).count() == 1
    assert Invite.objects.get().used_at is not None


def test_a_twin_with_another_password_is_told_the_link_was_just_used(invite_path: str):
    other = {"name": "Nia", "password": "another long passphrase", "password2": "another long passphrase"}
    _meanwhile.append(
        lambda: on_its_own_thread(lambda: Client(raise_request_exception=False).post(invite_path, other))
    )
    answer = Client(raise_request_exception=False).post(invite_path, FORM)
    assert answer.status_code == 404
    assert "already used" in answer.content.decode()
    assert User.objects.get(username=EMAIL).check_password("another long passphrase")


def test_a_link_withdrawn_while_its_form_is_sent_leaves_no_account(invite_path: str):
    # The operator invites the person again (which withdraws this link) as the form is sent.
    _meanwhile.append(lambda: on_its_own_thread(lambda: withdraw_invites(Invite.objects.get().org, EMAIL)))
    answer = Client(raise_request_exception=False).post(invite_path, FORM)
    assert answer.status_code == 404
    assert "expired" in answer.content.decode()
    # No account without a membership: the new link makes it with its password, not "confirm yours".
    assert not User.objects.filter(username=EMAIL).exists()


def test_two_sign_ups_sent_at_the_same_moment(invite_path: str):
    """No hook: two threads released together; both hash the password (slow) before creating."""
    start = threading.Barrier(2)
    answers: list[Any] = []

    def send() -> None:
        client = Client(raise_request_exception=False)
        start.wait(10)
        try:
            answers.append(client.post(invite_path, FORM))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(a.status_code for a in answers) == [302, 302]
    assert Membership.objects.filter(user__username=EMAIL).count() == 1
