"""What a model's answer must be, and what is made of it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from failbrief.condense.brief import CATEGORIES
from failbrief.condense.decide import Decision
from failbrief.summarize.providers.llm_common import system_prompt, user_message
from failbrief.summarize.providers.llm_output import BRIEF_JSON_SCHEMA, BriefOut, MalformedOutput, parse_brief
from failbrief.summarize.tests.llm_cases import ROOT_LINE, UNIT, brief_answer, dbt_context

SENT = "\n".join(["12:00:07  Database Error in model stg_orders", f"12:00:07    {ROOT_LINE}"])
# The offline rules' decision, were it calibrated high: it bounds the model's confidence.
RULES = Decision("schema_mismatch", "high", "undefined-column")


def test_the_schema_sent_to_the_model_and_the_one_answers_are_checked_against_agree():
    schema: dict[str, Any] = BRIEF_JSON_SCHEMA
    assert set(schema["required"]) == set(BriefOut.model_fields)
    assert schema["properties"]["category"]["enum"] == list(CATEGORIES)


def test_the_system_prompt_names_every_category_and_every_field():
    prompt = system_prompt()
    assert all(category in prompt for category in CATEGORIES)
    assert all(f'"{name}"' in prompt for name in BriefOut.model_fields)


def test_only_evidence_found_verbatim_in_what_was_sent_is_kept():
    answer = brief_answer(evidence=[f"  {ROOT_LINE}  ", "column amount_usd is missing", ROOT_LINE, "Error"])
    brief = parse_brief(json.dumps(answer), SENT, RULES)
    assert brief.evidence == [ROOT_LINE]
    assert brief.confidence == "high"


def test_no_cause_means_low_confidence_and_says_what_is_missing():
    answer = brief_answer(
        root_cause=None, confidence="high", evidence=[], missing="the log ends before any error"
    )
    brief = parse_brief(json.dumps(answer), SENT, RULES)
    assert brief.root_cause is None
    assert brief.confidence == "low"
    assert brief.explanation.endswith("Missing: the log ends before any error")


def test_prose_around_the_json_object_is_tolerated():
    brief = parse_brief("Here is the brief:\n" + json.dumps(brief_answer()) + "\nHope it helps.", SENT, RULES)
    assert brief.category == "schema_mismatch"


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("", "empty"),
        ("not json at all", "not JSON"),
        ("[1, 2]", "not an object"),
        (json.dumps(brief_answer(category="database")), "category"),
        (json.dumps(brief_answer(confidence="certain")), "confidence"),
        (json.dumps({"root_cause": "x"}), "explanation"),
    ],
)
def test_answers_that_are_not_a_brief_are_malformed(raw, problem):
    with pytest.raises(MalformedOutput, match=problem):
        parse_brief(raw, SENT, RULES)


def test_the_message_carries_the_run_metadata_and_redacts_what_prefect_said_unredacted():
    unit = UNIT.__class__(task_name="load", state_message="connect postgres://etl:hunter2@db:5432 failed")
    text = user_message(dbt_context(), unit, org_name="Acme")
    assert "Organisation: Acme" in text
    assert "Failed task: load" in text
    assert "hunter2" not in text
    assert ROOT_LINE in text
