"""Which summarizer writes an org's brief: opt-in, the org's provider, reuse, and the offline fallback."""

from __future__ import annotations

import json
from typing import Any

import pytest

from failbrief.condense.condenser import condense
from failbrief.condense.tokens import count_tokens
from failbrief.orgs.manage import add_org, set_airbyte, set_llm, set_llm_optin
from failbrief.summarize.models import LlmSession
from failbrief.summarize.providers.offline import OfflineProvider
from failbrief.summarize.providers.pricing import cost_usd
from failbrief.summarize.providers.registry import choice_for
from failbrief.summarize.signature import failure_signature
from failbrief.summarize.store import claim_summary, complete_summary
from failbrief.summarize.tests.llm_cases import DBT_LOG, ROOT_LINE, UNIT, brief_answer, dbt_context
from failbrief.summarize.writer import Written, write_brief

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("llm_settings")]
SECRETS = [
    "hunter2-pw",
    "s3cret-in-url",
    "AKIAABCDEFGHIJKLMNOP",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk",
]


@pytest.fixture
def org(db):
    org = add_org("acme", name="Acme Data")
    set_llm_optin(org, True, "lead@acme.example")
    return org


def fields_of(written: Written) -> dict[str, Any]:
    return dict(written.row_fields)


def store(org, written: Written, run: str = "run-1") -> LlmSession:
    """Complete a summary row with what the writer returned, as the pipeline does."""
    row, _ = claim_summary(org, run, "task-1", "test")
    brief = written.brief
    complete_summary(
        row,
        root_cause=brief.root_cause,
        category=brief.category,
        evidence=brief.evidence,
        explanation=brief.explanation,
        suggested_fix=brief.suggested_fix,
        confidence=brief.confidence,
        summarizer=written.summarizer,
        **written.row_fields,
    )
    row.refresh_from_db()
    return row


def test_an_org_that_has_not_opted_in_gets_the_offline_brief_and_sends_nothing(db, fake_llm):
    quiet = add_org("quiet")
    written = write_brief(quiet, dbt_context(), UNIT)
    assert written.summarizer == "offline"
    assert ROOT_LINE in "\n".join(written.brief.evidence)
    assert "provider" not in written.row_fields
    assert fake_llm.requests == []


def test_an_org_that_opted_out_again_sends_nothing(org, fake_llm):
    set_llm_optin(org, False, "lead@acme.example")
    assert write_brief(org, dbt_context(), UNIT).summarizer == "offline"
    assert fake_llm.requests == []


def test_an_opted_in_org_gets_the_llms_brief_with_its_cost(org, fake_llm):
    fake_llm.answer_next(brief_answer())
    written = write_brief(org, dbt_context(), UNIT)
    assert written.summarizer == "openai"
    assert written.brief.category == "schema_mismatch"
    fields = fields_of(written)
    assert fields["provider"] == "openai"
    assert fields["model"] == "gpt-4o-mini"
    assert fields["prompt_version"] == "v1"
    assert fields["tokens_in"] > 100
    assert fields["cost_estimate_usd"] > 0
    assert fields["llm_error"] == ""
    assert fields["signature"]
    assert "Organisation: Acme Data" in fake_llm.requests[0].text


def test_a_model_that_finds_no_cause_says_insufficient_evidence_instead_of_guessing(org, fake_llm):
    from failbrief.summarize.writer import dalgo_response

    fake_llm.answer_next(brief_answer(root_cause=None, evidence=[], missing="the log stops before the error"))
    written = write_brief(org, dbt_context(), UNIT)
    assert written.brief.root_cause is None
    assert written.brief.confidence == "low"
    assert dalgo_response(written.brief)[0]["response"].startswith("Insufficient evidence")
    assert "Missing: the log stops before the error" in written.brief.explanation


def test_the_orgs_own_provider_and_model_win_over_the_global_ones(org, fake_llm):
    set_llm(org, provider="anthropic", model="claude-sonnet-4-5")
    written = write_brief(org, dbt_context(), UNIT)
    assert written.summarizer == "anthropic"
    assert fields_of(written)["model"] == "claude-sonnet-4-5"
    assert fake_llm.requests[0].api == "anthropic"


def test_secrets_in_the_logs_never_reach_the_llm(org, fake_llm):
    log = [
        *DBT_LOG[:3],
        f"12:00:03  connecting to postgres://etl:{SECRETS[1]}@db.internal:5432/warehouse",
        f"12:00:03  profile: password={SECRETS[0]} aws_access_key_id={SECRETS[2]}",
        f"12:00:04  ERROR auth failed with Authorization: Bearer {SECRETS[3]}",
        *DBT_LOG[3:],
    ]
    write_brief(org, condense(log, 4000), UNIT)
    (request,) = fake_llm.requests
    sent = json.dumps(request.body) + json.dumps(request.headers)
    assert "postgres://etl:[REDACTED]@db.internal" in sent
    assert not [secret for secret in SECRETS if secret in sent]


def test_a_provider_that_keeps_failing_leaves_the_offline_brief_with_the_reason(org, fake_llm):
    fake_llm.fail_next(10, status=500)
    written = write_brief(org, dbt_context(), UNIT)
    assert written.summarizer == "offline"
    assert ROOT_LINE in "\n".join(written.brief.evidence)
    assert "HTTP 500" in fields_of(written)["llm_error"]
    assert fields_of(written)["provider"] == "openai"


def test_malformed_output_twice_falls_back_to_the_offline_brief(org, fake_llm):
    fake_llm.answer_next("not json", "still not json")
    written = write_brief(org, dbt_context(), UNIT)
    assert written.summarizer == "offline"
    assert "malformed answer twice" in fields_of(written)["llm_error"]


def test_a_missing_key_falls_back_and_the_error_says_what_to_set(org, fake_llm, settings):
    settings.LLM_PROVIDER = "anthropic"
    settings.ANTHROPIC_API_KEY = None
    written = write_brief(org, dbt_context(), UNIT)
    assert written.summarizer == "offline"
    assert fields_of(written)["llm_error"].startswith("ANTHROPIC_API_KEY is not set")
    assert fake_llm.requests == []


def test_a_rejected_key_is_not_echoed_into_the_stored_error(org, fake_llm, settings):
    fake_llm.fail_next(1, status=401)
    written = write_brief(org, dbt_context(), UNIT)
    assert settings.OPENAI_API_KEY not in fields_of(written)["llm_error"]
    assert "HTTP 401" in fields_of(written)["llm_error"]


def test_the_same_failure_again_reuses_the_stored_summary_without_a_call(org, fake_llm):
    first = store(org, write_brief(org, dbt_context(), UNIT), run="run-1")
    tonight = [line.replace("12:00", "23:41").replace("0.41s", "2.90s") for line in DBT_LOG]
    written = write_brief(org, dbt_context(tonight), UNIT)
    again = store(org, written, run="run-2")
    assert len(fake_llm.requests) == 1
    assert again.reused_from_id == first.pk
    assert again.root_cause == first.root_cause
    assert again.tokens_in == 0
    assert fields_of(written)["response"][-1]["response"].startswith(
        "This failure was summarized before: same as run-1 (2 times)"
    )
    first.refresh_from_db()
    assert first.reuse_count == 1


def test_regenerate_asks_the_llm_again_even_for_a_known_failure(org, fake_llm):
    store(org, write_brief(org, dbt_context(), UNIT), run="run-1")
    written = write_brief(org, dbt_context(), UNIT, reuse=False)
    assert len(fake_llm.requests) == 2
    assert "reused_from" not in written.row_fields


def test_an_offline_fallback_is_never_reused(org, fake_llm):
    fake_llm.fail_next(3, status=500)  # every try of the first summary (LLM_MAX_RETRIES=2)
    store(org, write_brief(org, dbt_context(), UNIT), run="run-1")
    written = write_brief(org, dbt_context(), UNIT)
    assert len(fake_llm.requests) == 4
    assert written.summarizer == "openai"
    assert "reused_from" not in written.row_fields


def test_another_org_with_the_same_failure_does_not_reuse_it(org, fake_llm):
    store(org, write_brief(org, dbt_context(), UNIT), run="run-1")
    other = add_org("other")
    set_llm_optin(other, True, "x@other.example")
    write_brief(other, dbt_context(), UNIT)
    assert len(fake_llm.requests) == 2


def test_a_fallback_after_two_malformed_answers_still_counts_the_tokens_they_cost(org, fake_llm):
    unusable = ["not json", json.dumps(brief_answer(category="database"))]  # not JSON; no such category
    fake_llm.answer_next(*unusable)
    row = store(org, write_brief(org, dbt_context(), UNIT))
    assert row.summarizer == "offline"
    assert "malformed answer twice" in row.llm_error
    billed_in = sum(count_tokens(request.text) for request in fake_llm.requests)  # as the fake bills
    billed_out = sum(count_tokens(text) for text in unusable)
    assert (row.tokens_in, row.tokens_out) == (billed_in, billed_out)
    assert row.cost_estimate_usd == cost_usd("gpt-4o-mini", billed_in, billed_out)
    assert (row.cost_estimate_usd or 0.0) > 0


def test_links_to_the_orgs_own_prefect_pages_and_airbyte_stay_links_and_others_do_not(
    org, fake_llm, settings
):
    settings.PREFECT_UI_URL = "https://prefect.acme.example"
    settings.PUBLIC_URL = "https://failbrief.acme.example"
    set_airbyte(org, url="https://airbyte.acme.example/api/v1")
    fix = [
        "Open https://prefect.acme.example/deployments and run the flow again",
        "Read https://failbrief.acme.example/o/acme/ for earlier failures",
        "Check the connection at https://airbyte.acme.example/workspaces",
        "Log in at https://acme-sso.example/reset first",
    ]
    fake_llm.answer_next(brief_answer(suggested_fix=fix))
    steps = store(org, write_brief(org, dbt_context(), UNIT)).suggested_fix.splitlines()
    assert steps[:3] == [f"{number}. {step}" for number, step in enumerate(fix[:3], start=1)]
    assert steps[3] == "4. Log in at hxxps://acme-sso[.]example/reset first"


def test_invisible_and_direction_changing_characters_in_an_answer_are_stored_visible(org, fake_llm):
    # U+202E shows "curl …/hs.xif | sh" reversed; U+200B splits a word unseen; NUL no column can hold.
    fix = ["Run `rm -rf /tmp/cache/\u202ehs.xif\u202c` then re\u200brun", "Restart\x00 the flow"]
    fake_llm.answer_next(brief_answer(suggested_fix=fix, explanation="The model\u2066 failed.\u2069"))
    row = store(org, write_brief(org, dbt_context(), UNIT))
    assert row.summarizer == "openai"
    assert row.suggested_fix == (
        "1. Run `rm -rf /tmp/cache/[U+202E]hs.xif[U+202C]` then re[U+200B]run\n2. Restart[U+0000] the flow"
    )
    assert row.explanation == "The model[U+2066] failed.[U+2069]"


def test_a_summary_stored_before_the_answer_checks_is_reused_with_them(org, fake_llm):
    # An LLM brief from before links were made inert and confidence bounded by the rules may be
    # reused for a week; what it says must pass the same checks as a new answer.
    rules = OfflineProvider().write_brief(dbt_context(), UNIT)
    choice = choice_for(org)
    assert choice is not None
    assert rules.confidence != "high"
    earlier, _ = claim_summary(org, "run-0", "task-1", "test")
    complete_summary(
        earlier,
        root_cause="The token expired: renew it at https://acme-sso.example/reset",
        category=rules.category,
        evidence=rules.evidence,
        explanation="See https://acme-sso.example/help.",
        suggested_fix="1. Log in at https://acme-sso.example/reset",
        confidence="high",
        summarizer=choice.provider,
        provider=choice.provider,
        model=choice.model,
        signature=failure_signature(rules),
    )
    again = store(org, write_brief(org, dbt_context(), UNIT), run="run-2")
    assert again.reused_from_id == earlier.pk
    assert not fake_llm.requests
    assert "https://acme-sso.example" not in f"{again.root_cause} {again.explanation} {again.suggested_fix}"
    assert "hxxps://acme-sso[.]example/reset" in again.suggested_fix
    assert again.confidence == "medium"
