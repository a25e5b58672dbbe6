"""Team notes on recurring failures: "Last time: … — NAME, DATE" on every brief, page and
notification of the same failure signature."""

from __future__ import annotations

from django.contrib.auth.models import User

from failbrief.condense.redact import redact
from failbrief.orgs.models import Org
from failbrief.pages.models import TeamNote


def note_of(org: Org | int, signature: str) -> TeamNote | None:
    if not signature:
        return None
    org_id = org if isinstance(org, int) else org.pk
    return TeamNote.objects.filter(org_id=org_id, signature=signature).first()


def note_line(note: TeamNote | None) -> str:
    """The note as one line; "" without a note."""
    if note is None:
        return ""
    return f"Last time: {note.text.strip()} — {note.author_name}, {note.updated_at:%Y-%m-%d}"


def save_note(org: Org, signature: str, text: str, author: User) -> TeamNote | None:
    """Write (or replace) the org's note on `signature`; an empty text removes it. Redacted: people
    paste the command that fixed it, credentials and all, and the note goes out with notifications."""
    text = redact(text.strip())
    if not text:
        TeamNote.objects.filter(org=org, signature=signature).delete()
        return None
    note, _ = TeamNote.objects.update_or_create(
        org=org,
        signature=signature,
        defaults={"text": text, "author": author, "author_name": display_name(author)},
    )
    return note


def display_name(user: User) -> str:
    return user.get_full_name() or user.email or user.username
