"""👍/👎 with a comment and a category correction, per person, shown on the run page and exported
by GET /api/v1/feedback (the org's token only sees its own org's)."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from failbrief.orgs.manage import create_token
from failbrief.pages.models import Feedback
from failbrief.pages.tests.conftest import store_failure


def send(client: Client, row, **data: str):
    return client.post(reverse("pages:feedback", args=[row.org.slug, row.pk]), data)


def test_each_person_gives_one_verdict_shown_on_the_run_page(sides):
    a, _ = sides
    row = store_failure(a.org, category="sql_error")
    member, admin = a.client("member"), a.client("admin")
    assert (
        send(
            member, row, vote="down", category="schema_mismatch", comment="it was a renamed column"
        ).status_code
        == 302
    )
    assert send(admin, row, vote="up").status_code == 302
    assert (
        send(member, row, vote="down", category="schema_mismatch", comment="a renamed column").status_code
        == 302
    )
    assert Feedback.objects.count() == 2  # the member's second verdict replaced the first
    page = admin.get(reverse("pages:run", args=["org-a", row.flow_run_id])).content.decode()
    assert "👍 1 · 👎 1" in page
    assert "category is <strong>schema_mismatch</strong>" in page
    assert "a renamed column" in page
    assert "it was a renamed column" not in page


def test_a_vote_and_a_known_category_are_required(sides):
    a, _ = sides
    row = store_failure(a.org)
    client = a.client()
    assert (
        "Choose 👍 or 👎"
        in client.post(
            reverse("pages:feedback", args=["org-a", row.pk]), {"vote": "meh"}, follow=True
        ).content.decode()
    )
    assert (
        "Unknown category"
        in client.post(
            reverse("pages:feedback", args=["org-a", row.pk]),
            {"vote": "up", "category": "aliens"},
            follow=True,
        ).content.decode()
    )
    assert not Feedback.objects.exists()


def test_feedback_is_exported_as_labelled_data_to_its_own_org_only(sides):
    a, b = sides
    wrong = store_failure(a.org, category="sql_error", root_cause="wrong one")
    right = store_failure(a.org, category="network", root_cause="right one")
    theirs = store_failure(b.org, category="network")
    send(a.client("member"), wrong, vote="down", category="auth_credentials", comment="expired password")
    send(a.client("member"), right, vote="up")
    send(b.client("member"), theirs, vote="up")
    token_a, token_b = create_token(a.org), create_token(b.org)

    answer = Client().get("/api/v1/feedback", HTTP_AUTHORIZATION=f"Bearer {token_a}")
    assert answer.status_code == 200
    got = answer.json()
    assert got["next_cursor"] is None
    by_cause = {f["root_cause"]: f for f in got["feedback"]}
    assert set(by_cause) == {"wrong one", "right one"}
    assert (by_cause["wrong one"]["label"], by_cause["wrong one"]["helpful"]) == ("auth_credentials", False)
    assert by_cause["wrong one"]["comment"] == "expired password"
    assert by_cause["wrong one"]["user"] == "member@org-a.test"
    assert by_cause["right one"]["label"] == "network"
    assert by_cause["right one"]["evidence"]

    only_b = Client().get("/api/v1/feedback", HTTP_AUTHORIZATION=f"Bearer {token_b}").json()["feedback"]
    assert [f["summary_id"] for f in only_b] == [theirs.pk]
    assert Client().get("/api/v1/feedback").status_code == 401
    # A signed-in person's session cookie is not an API credential.
    assert a.client("admin").get("/api/v1/feedback").status_code == 401

    first = Client().get("/api/v1/feedback?limit=1", HTTP_AUTHORIZATION=f"Bearer {token_a}").json()
    assert len(first["feedback"]) == 1
    rest = (
        Client()
        .get(
            f"/api/v1/feedback?limit=1&cursor={first['next_cursor']}", HTTP_AUTHORIZATION=f"Bearer {token_a}"
        )
        .json()
    )
    assert {first["feedback"][0]["root_cause"], rest["feedback"][0]["root_cause"]} == {
        "wrong one",
        "right one",
    }
