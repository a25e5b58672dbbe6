"""The org's LLM settings and opt-in through the API; keys are never shown."""

from __future__ import annotations

import pytest
from django.test import Client

from failbrief.orgs.manage import add_org, create_token, set_llm
from failbrief.orgs.models import Org


@pytest.fixture
def acme(db, settings):
    settings.LLM_PROVIDER = "openai"
    settings.LLM_MODEL = ""
    settings.OPENAI_API_KEY = "sk-secret-never-shown-0123456789"
    org = add_org("acme", name="Acme Data")
    return org, Client(HTTP_AUTHORIZATION=f"Bearer {create_token(org)}")


def test_an_org_starts_opted_out_and_summarized_offline(acme):
    _, client = acme
    body = client.get("/api/v1/org").json()
    assert body["llm_optin"] is False
    assert body["llm_provider"] == "openai"
    assert body["llm_model"] == "gpt-4o-mini"
    assert body["summarizer"] == "offline"


def test_opting_in_records_who_and_when_and_switches_the_summarizer(acme):
    org, client = acme
    answer = client.post(
        "/api/v1/org/llm-optin", {"optin": True, "by": "lead@acme.example"}, content_type="application/json"
    )
    assert answer.status_code == 200
    assert answer.json()["summarizer"] == "openai"
    org = Org.objects.get(pk=org.pk)
    assert (org.llm_optin, org.llm_optin_by) == (True, "lead@acme.example")
    assert org.llm_optin_at is not None


def test_opting_in_without_saying_who_is_refused(acme):
    _, client = acme
    answer = client.post("/api/v1/org/llm-optin", {"optin": True, "by": " "}, content_type="application/json")
    assert answer.status_code == 400
    assert "--by" in answer.json()["detail"] or "who" in answer.json()["detail"]


def test_the_orgs_own_provider_and_model_are_shown_but_never_a_key(acme):
    org, client = acme
    set_llm(org, provider="anthropic", model="claude-sonnet-4-5")
    answer = client.get("/api/v1/org")
    assert answer.json()["llm_provider"] == "anthropic"
    assert answer.json()["llm_model"] == "claude-sonnet-4-5"
    assert "sk-secret" not in answer.content.decode()


def test_regenerating_another_orgs_summary_is_a_404(acme):
    _, client = acme
    assert client.post("/api/v1/summaries/999999/regenerate").status_code == 404
