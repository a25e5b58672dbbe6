"""What an LLM must answer, and how its answer becomes a Brief. Pure: no Django.

One schema (`BriefOut`) serves both sides: its JSON Schema form is sent as the structured-output
format or tool input schema, and every answer is validated against it, whatever the provider
claims to enforce (small local models often ignore the format). Evidence the model quotes is kept
only when it occurs verbatim in the text it was sent, so it cannot invent evidence.
"""

from __future__ import annotations

import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from failbrief.condense.brief import CATEGORIES, Brief, Category

MAX_EVIDENCE = 5
MAX_FIX_STEPS = 5
# A quoted fragment shorter than this ("Error", "failed") occurs in almost any log: it proves nothing.
MIN_EVIDENCE_CHARS = 8
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)

Confidence = Literal["high", "medium", "low"]


class MalformedOutput(ValueError):
    """The model's answer is not JSON, or not a brief (the message says which field is wrong)."""


class BriefOut(BaseModel):
    """The model's answer, as the system prompt (prompts/system_v1.txt) describes it."""

    model_config = ConfigDict(extra="ignore")

    root_cause: str | None
    failing_step: str | None
    category: Category
    explanation: str
    suggested_fix: list[str]
    evidence: list[str]
    confidence: Confidence
    missing: str | None = None

    @field_validator("root_cause", "failing_step", "missing")
    @classmethod
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value.strip() or None if isinstance(value, str) else None


def _nullable(description: str) -> dict[str, object]:
    return {"type": ["string", "null"], "description": description}


def _strings(description: str) -> dict[str, object]:
    return {"type": "array", "items": {"type": "string"}, "description": description}


# Written out (not generated) because OpenAI's strict mode wants every key required and no defaults.
BRIEF_JSON_SCHEMA: dict[str, object] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "root_cause",
        "failing_step",
        "category",
        "explanation",
        "suggested_fix",
        "evidence",
        "confidence",
        "missing",
    ],
    "properties": {
        "root_cause": _nullable("One sentence naming the concrete cause; null when the logs do not show it."),
        "failing_step": _nullable("The task, model, test, stream or command that failed; null if unknown."),
        "category": {"type": "string", "enum": list(CATEGORIES)},
        "explanation": {"type": "string", "description": "2-4 plain sentences for a data analyst."},
        "suggested_fix": _strings("Short concrete steps, most likely fix first."),
        "evidence": _strings("Lines copied verbatim from the logs that show the cause."),
        "confidence": {"type": "string", "enum": ["high", "medium", "low"]},
        "missing": _nullable("What information is missing when the cause is not shown; else null."),
    },
}


def parse_brief(raw: str, sent: str) -> Brief:
    """The Brief in the model's answer `raw`. Evidence not found verbatim in `sent` (the text the
    model was given) is dropped. Raises MalformedOutput."""
    answer = _validated(_json_object(raw))
    evidence = verified_evidence(answer.evidence, sent)
    confidence = answer.confidence
    if answer.root_cause is None or not evidence:
        confidence = "low"  # a cause with no line to back it is a guess, however sure the model sounds
    return Brief(
        root_cause=answer.root_cause,
        failing_step=answer.failing_step,
        category=answer.category,
        evidence=evidence,
        suggested_fix=_steps(answer.suggested_fix),
        explanation=_explanation(answer),
        confidence=confidence,
    )


def _json_object(raw: str) -> object:
    text = raw.strip()
    if not text:
        raise MalformedOutput("the answer is empty")
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    try:
        return json.loads(text)
    except ValueError:
        pass
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:  # prose around the object: small models add "Here is the JSON:"
        try:
            return json.loads(text[start : end + 1])
        except ValueError:
            pass
    raise MalformedOutput(f"the answer is not JSON: {raw[:200]!r}")


def _validated(data: object) -> BriefOut:
    if not isinstance(data, dict):
        raise MalformedOutput(f"the answer is JSON but not an object: {type(data).__name__}")
    try:
        return BriefOut.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()[:5])
        raise MalformedOutput(f"the answer does not match the schema: {problems}") from None


def verified_evidence(quoted: list[str], sent: str) -> list[str]:
    """The quoted lines that occur verbatim in `sent`, in order, without duplicates."""
    kept: list[str] = []
    for line in quoted:
        text = line.strip()
        if len(text) >= MIN_EVIDENCE_CHARS and text in sent and text not in kept:
            kept.append(text)
    return kept[:MAX_EVIDENCE]


def _steps(steps: list[str]) -> str:
    steps = [step.strip() for step in steps if step.strip()][:MAX_FIX_STEPS]
    if len(steps) == 1:
        return steps[0]
    return "\n".join(f"{number}. {step}" for number, step in enumerate(steps, start=1))


def _explanation(answer: BriefOut) -> str:
    text = answer.explanation.strip()
    if answer.root_cause is None and answer.missing:
        text = f"{text} Missing: {answer.missing}".strip()
    return text
