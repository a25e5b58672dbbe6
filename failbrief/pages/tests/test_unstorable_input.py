"""Text no database can hold, sent to the pages: a 400 page saying what is wrong, never a 500.

PostgreSQL refuses a NUL in any text it is given, so a %00 in a run id, a search or a form field
would otherwise reach a query and fail there (the services tier runs this on PostgreSQL)."""

from __future__ import annotations

import pytest

from failbrief.pages.models import TeamNote
from failbrief.pages.tests.conftest import Side, store_failure


@pytest.mark.services
@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        ("get", "/o/org-a/runs/abc%00def/", None),
        ("get", "/o/org-a/?q=orders%00", None),
        ("get", "/o/org-a/recurring/sig%00/", None),
        ("get", "/signup/tok%00en/", None),
        ("post", "/o/org-a/recurring/{signature}/note", {"note": "restart the\x00 pod"}),
        ("post", "/o/org-a/summaries/{summary}/feedback", {"vote": "down", "comment": "wrong\x00"}),
        ("post", "/signin/", {"email": "admin@org-a.test\x00", "password": "x"}),
    ],
    ids=["run-id", "search", "signature", "signup-token", "team-note", "feedback", "signin"],
)
def test_a_nul_character_is_a_400_saying_so(sides: tuple[Side, Side], method: str, path: str, form):
    a, _ = sides
    row = store_failure(a.org, signature="s" * 16)
    client = a.client("admin")
    url = path.format(signature=row.signature, summary=row.pk)
    answer = client.post(url, form) if method == "post" else client.get(url)
    assert answer.status_code == 400
    assert "NUL character" in answer.content.decode()
    assert not TeamNote.objects.exists()
