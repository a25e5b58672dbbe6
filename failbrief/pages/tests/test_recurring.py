"""Recurring failures: a page per signature with a team note, and the note on every later brief,
page and notification of the same signature (in its own org only)."""

from __future__ import annotations

from django.urls import reverse

from failbrief.notify.channels import slack
from failbrief.notify.compose import compose
from failbrief.notify.message import plain_text
from failbrief.pages.models import Feedback, TeamNote
from failbrief.pages.tests.conftest import store_failure

SIG = "f" * 64


def test_a_signature_page_says_how_often_and_since_when_and_lists_the_runs(sides):
    a, b = sides
    rows = [store_failure(a.org, signature=SIG, deployment=f"dep-{n}") for n in range(3)]
    store_failure(b.org, signature=SIG, deployment="b-dep")
    page = a.client().get(reverse("pages:signature", args=["org-a", SIG])).content.decode()
    assert "Seen 3 times since" in page
    assert rows[0].created_at.strftime("%Y-%m-%d") in page
    for n in range(3):
        assert f"dep-{n}" in page
    assert "b-dep" not in page
    assert a.client().get(reverse("pages:signature", args=["org-a", "0" * 64])).status_code == 404


def test_a_team_note_is_carried_by_every_later_brief_page_and_notification(sides):
    a, b = sides
    first = store_failure(a.org, signature=SIG)
    client = a.client()
    saved = client.post(
        reverse("pages:signature_note", args=["org-a", SIG]), {"note": "Rerun the orders migration"}
    )
    assert saved.status_code == 302
    note = TeamNote.objects.get(org=a.org, signature=SIG)
    assert note.author_name == "Member"
    line = f"Last time: Rerun the orders migration — {note.author_name}, {note.updated_at:%Y-%m-%d}"

    later = store_failure(a.org, signature=SIG)
    run_page = client.get(reverse("pages:run", args=["org-a", later.flow_run_id])).content.decode()
    assert line in run_page
    assert "seen 2×" in run_page
    assert line in client.get(reverse("pages:run", args=["org-a", first.flow_run_id])).content.decode()
    assert (
        "Rerun the orders migration"
        in client.get(reverse("pages:signature", args=["org-a", SIG])).content.decode()
    )

    message = compose(later, flow_run_name="crimson-fox", deployment="nightly", failed_at=None)
    expected = f"Last time: Rerun the orders migration — {note.author_name}, {note.updated_at:%Y-%m-%d}"
    assert expected in plain_text(message)
    assert "Rerun the orders migration" in str(slack.blocks(message))

    # Org B's failure with the same signature carries nothing of org A's note.
    theirs = store_failure(b.org, signature=SIG)
    assert compose(theirs, flow_run_name="x", deployment="y", failed_at=None).team_note == ""
    page_b = b.client().get(reverse("pages:run", args=["org-b", theirs.flow_run_id])).content.decode()
    assert "Rerun the orders migration" not in page_b

    # An empty note removes it.
    client.post(reverse("pages:signature_note", args=["org-a", SIG]), {"note": "  "})
    assert not TeamNote.objects.exists()
    assert "Last time" not in plain_text(compose(later, flow_run_name="x", deployment="y", failed_at=None))


def test_a_secret_pasted_into_a_team_note_or_a_feedback_comment_is_redacted_before_it_is_stored(sides):
    """People paste the command that fixed it, connection string included; the note then goes with
    every later notification to the org's Slack, Teams or email."""
    a, _ = sides
    pasted = "psql postgresql://etl_loader:Wh1teRabbit-88@warehouse.internal:5432/analytics -c 'VACUUM'"
    row = store_failure(a.org, signature=SIG)
    client = a.client()
    client.post(reverse("pages:signature_note", args=["org-a", SIG]), {"note": f"Ran {pasted}"})
    client.post(
        reverse("pages:feedback", args=["org-a", row.pk]), {"vote": "up", "comment": f"Fixed: {pasted}"}
    )

    later = store_failure(a.org, signature=SIG)
    shown = {
        "note": TeamNote.objects.get(org=a.org, signature=SIG).text,
        "feedback": Feedback.objects.get(summary=row).comment,
        "run page": client.get(reverse("pages:run", args=["org-a", row.flow_run_id])).content.decode(),
        "slack": str(slack.blocks(compose(later, flow_run_name="x", deployment="y", failed_at=None))),
    }
    assert [where for where, text in shown.items() if "warehouse.internal" not in text] == []
    assert [where for where, text in shown.items() if "Wh1teRabbit-88" in text] == []


def test_a_note_post_without_the_note_field_changes_nothing_and_says_so(sides):
    a, b = sides
    store_failure(a.org, signature=SIG)
    store_failure(b.org, signature=SIG)
    note_url = reverse("pages:signature_note", args=["org-a", SIG])
    client = a.client()
    assert client.post(note_url, {"note": "Rerun the orders migration"}).status_code == 302
    b.client().post(reverse("pages:signature_note", args=["org-b", SIG]), {"note": "B's own fix"})
    # A script, a form of another page, a field renamed: no `note` sent is not "remove the note".
    for data in ({}, {"text": ""}):
        refused = client.post(note_url, data)
        assert refused.status_code == 400
        assert "no note field" in refused.content.decode()
        assert "Rerun the orders migration" in refused.content.decode()  # the note still shown
    assert TeamNote.objects.get(org=a.org, signature=SIG).text == "Rerun the orders migration"
    # Only org A's note is touched by org A's empty note; org B's stays.
    assert client.post(note_url, {"note": ""}).status_code == 302
    assert not TeamNote.objects.filter(org=a.org).exists()
    assert TeamNote.objects.get(org=b.org, signature=SIG).text == "B's own fix"
