"""A refused or missing page is one of the pages (language, title, the way back), not Django's
bare "Not Found" / "403 Forbidden", and says what to do; the API keeps its JSON."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from failbrief.pages.tests.conftest import Side


def test_a_member_refused_an_admin_page_is_told_why(sides: tuple[Side, Side]):
    a, _ = sides
    answer = a.client().get(reverse("pages:settings", args=["org-a"]))
    assert answer.status_code == 403
    page = answer.content.decode()
    assert '<html lang="en">' in page
    assert "admin" in page
    assert 'href="/"' in page


def test_a_missing_page_says_where_to_go(sides: tuple[Side, Side]):
    a, _ = sides
    answer = a.client().get("/o/org-b/")  # another org's, like one that does not exist
    assert answer.status_code == 404
    page = answer.content.decode()
    assert '<html lang="en">' in page
    assert 'href="/"' in page
    assert Client().get("/api/v1/nothing-here").json()["detail"]


def test_a_form_sent_without_its_token_says_to_reload(sides: tuple[Side, Side]):
    client = Client(enforce_csrf_checks=True)
    answer = client.post(reverse("pages:signin"), {"email": "member@org-a.test", "password": "x"})
    assert answer.status_code == 403
    page = answer.content.decode()
    assert '<html lang="en">' in page
    assert "reload" in page.lower()
