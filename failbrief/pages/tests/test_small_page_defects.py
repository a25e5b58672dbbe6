"""Smaller things a person meets on the pages: a sign-up link opened again after joining, the LLM
notice when the server has no LLM, a date range the wrong way round, an empty pager landmark, a
channel name too long for the column."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from failbrief.notify.models import NotifyChannel
from failbrief.pages.invites import create_invite
from failbrief.pages.tests.conftest import PASSWORD, Side, store_failure


def test_a_used_sign_up_link_opened_again_by_whoever_joined_goes_to_the_org(sides: tuple[Side, Side]):
    a, _ = sides
    path = "/" + create_invite(a.org, "nia@example.org").split("://", 1)[1].split("/", 1)[1]
    client = Client()
    data = {"name": "Nia", "password": PASSWORD, "password2": PASSWORD}
    assert client.post(path, data).status_code == 302
    # The form sent twice (a double click), or the mail's link clicked again later.
    again = client.post(path, data)
    assert again.status_code == 302
    assert again["Location"] == reverse("pages:failures", args=["org-a"])
    assert client.get(path)["Location"] == reverse("pages:failures", args=["org-a"])
    # Anyone else still finds it spent.
    assert Client().get(path).status_code == 404
    other = a.client()
    assert other.get(path).status_code == 404


def test_the_llm_notice_does_not_name_offline_as_where_logs_go(sides, settings):
    settings.LLM_PROVIDER = "offline"
    settings.LLM_MODEL = ""
    a, _ = sides
    page = a.client("admin").get(reverse("pages:settings", args=["org-a"])).content.decode()
    assert "(offline, model )" not in page
    assert "no LLM" in page


def test_a_date_range_the_wrong_way_round_says_so(sides: tuple[Side, Side]):
    a, _ = sides
    store_failure(a.org)
    answer = a.client().get(
        reverse("pages:failures", args=["org-a"]), {"since": "2024-05-10", "until": "2024-05-01"}
    )
    assert answer.status_code == 400
    assert "after" in answer.content.decode()


def test_one_page_of_failures_has_no_empty_pager(sides: tuple[Side, Side]):
    a, _ = sides
    store_failure(a.org)
    page = a.client().get(reverse("pages:failures", args=["org-a"])).content.decode()
    assert 'aria-label="Pages"></nav>' not in page


def test_a_channel_name_longer_than_the_column_is_refused_not_cut(sides: tuple[Side, Side]):
    a, _ = sides
    name = "ops-" + "x" * 100
    data = {"name": name, "kind": "email", "to": "ops@example.org"}
    answer = a.client("admin").post(reverse("pages:settings_new_channel", args=["org-a"]), data)
    assert answer.status_code == 400
    assert "100" in answer.content.decode()
    assert not NotifyChannel.objects.exists()
