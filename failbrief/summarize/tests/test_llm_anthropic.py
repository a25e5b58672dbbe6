"""The Anthropic provider through the official SDK against a loopback fake server."""

from __future__ import annotations

import json

import pytest

from failbrief.summarize.providers.anthropic import AnthropicProvider
from failbrief.summarize.providers.llm_common import LlmConfig, LlmMalformed, LlmNotConfigured
from failbrief.summarize.tests.llm_cases import ROOT_LINE, UNIT, brief_answer, dbt_context
from failbrief.testing.fake_llm import FakeLlm

KEY = "sk-ant-test-0123456789"


def provider(fake: FakeLlm, **changes: object) -> AnthropicProvider:
    options: dict[str, object] = {
        "model": "claude-haiku-4-5",
        "api_key": KEY,
        "base_url": fake.anthropic_url,
        "timeout_seconds": 5.0,
        "deadline_seconds": 10.0,
        "max_retries": 2,
    }
    return AnthropicProvider(LlmConfig(**(options | changes)))  # type: ignore[arg-type]


def test_it_forces_a_tool_call_whose_input_is_the_brief(fake_llm):
    fake_llm.answer_next(brief_answer())
    answer = provider(fake_llm).answer(dbt_context(), UNIT, org_name="Acme Data")
    (request,) = fake_llm.requests
    assert request.headers["x-api-key"] == KEY
    assert request.body["tool_choice"] == {"type": "tool", "name": "record_brief"}
    schema = request.body["tools"][0]["input_schema"]
    assert schema["properties"]["category"]["enum"][0] == "source_connection"
    assert "You explain why a data-pipeline run failed" in request.body["system"]
    assert "Organisation: Acme Data" in request.text
    assert answer.brief.evidence == [ROOT_LINE]
    assert answer.brief.category == "schema_mismatch"
    assert (answer.tokens_in or 0) > 100


def test_a_json_text_answer_is_accepted_too(fake_llm):
    fake_llm.answer_next("```json\n" + json.dumps(brief_answer()) + "\n```")
    answer = provider(fake_llm).answer(dbt_context(), UNIT)
    assert answer.brief.root_cause is not None
    assert answer.requests == 1


def test_429_and_overloaded_529_are_retried(fake_llm):
    fake_llm.fail_next(1, status=429, headers={"retry-after": "0"})
    fake_llm.fail_next(1, status=529)
    answer = provider(fake_llm).answer(dbt_context(), UNIT)
    assert len(fake_llm.requests) == 3
    assert answer.brief.root_cause is not None


def test_a_tool_input_of_the_wrong_shape_gets_one_repair_then_gives_up(fake_llm):
    fake_llm.answer_next({"cause": "a column"}, {"root_cause": "still wrong"})
    with pytest.raises(LlmMalformed, match="does not match the schema"):
        provider(fake_llm).answer(dbt_context(), UNIT)
    assert "rejected: the answer does not match the schema" in fake_llm.requests[1].text


def test_without_a_key_it_says_which_setting_to_set(fake_llm):
    with pytest.raises(LlmNotConfigured, match="ANTHROPIC_API_KEY is not set"):
        provider(fake_llm, api_key=None).answer(dbt_context(), UNIT)
    assert fake_llm.requests == []
