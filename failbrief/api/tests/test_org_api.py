"""/api/v1/org: what the token's org is summarized with, before and after it opts in to an LLM."""

from __future__ import annotations

from typing import Any

from django.test import Client, override_settings


def _client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@override_settings(LLM_PROVIDER="anthropic", LLM_MODEL="")
def test_an_org_is_summarized_offline_until_it_opts_in(two_orgs: Any) -> None:
    (_, token_a), (_, token_b) = two_orgs
    before = _client(token_a).get("/api/v1/org").json()
    assert (before["llm_optin"], before["llm_provider"], before["summarizer"]) == (
        False,
        "anthropic",
        "offline",
    )
    assert before["llm_model"]  # the model it would be asked with, shown before anyone opts in

    answer = _client(token_a).post(
        "/api/v1/org/llm-optin", {"optin": True, "by": "ops@a.example"}, content_type="application/json"
    )
    assert answer.status_code == 200
    after = answer.json()
    assert (after["llm_optin"], after["llm_optin_by"], after["summarizer"]) == (
        True,
        "ops@a.example",
        "anthropic",
    )
    assert after["llm_model"] == before["llm_model"]
    # The other org's choice is its own.
    assert _client(token_b).get("/api/v1/org").json()["summarizer"] == "offline"
