"""What an LLM must answer, and how its answer becomes a Brief. Pure: no Django.

One schema (`BriefOut`) serves both sides: its JSON Schema form is sent as the structured-output
format or tool input schema, and every answer is validated against it, whatever the provider
claims to enforce (small local models often ignore the format). Evidence the model quotes is kept
only when it occurs verbatim in the text it was sent, so it cannot invent evidence.

The rest of its text is shown as failbrief's own words, so a model that repeats what an attacker
put in a log must not turn it into advice (docs/llm.md, "What a model's answer can show"):
addresses outside the org's hosts and known documentation are made inert (links.py), a fix step
that repeats an instruction of the logs says so, no field is longer than a brief needs, and the
confidence is never above the offline rules' calibrated one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection
from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from failbrief.condense.brief import CATEGORIES, Brief, Category
from failbrief.condense.decide import Decision
from failbrief.summarize.providers.links import inert_links

MAX_EVIDENCE = 5
MAX_FIX_STEPS = 5
# A quoted fragment shorter than this ("Error", "failed") occurs in almost any log: it proves nothing.
MIN_EVIDENCE_CHARS = 8
# What a brief needs, however much a model (or a server that ignores max_tokens) writes.
MAX_ROOT_CAUSE_CHARS = 500
MAX_FAILING_STEP_CHARS = 200
MAX_EXPLANATION_CHARS = 1500
MAX_MISSING_CHARS = 300
MAX_STEP_CHARS = 500
FROM_THE_LOGS = "From the logs, not checked by failbrief: "
# A fix step repeats the logs when it holds, word for word, a run of 3 words of at least 16
# characters ("pip install acme-hotfix", "reset your password here") or a `code span` of at least 8
# found in them. Shorter runs are common phrases ("does not exist"), and single words are the
# names a fix must use (a model, a column).
REPEATED_WORDS = 3
MIN_REPEATED_CHARS = 16
MIN_REPEATED_CODE_CHARS = 8
_WORD_EDGES = "`'\"\u201c\u201d\u2018\u2019()[]{}<>,;:.!?*"  # with typographic quotes
_CODE_SPAN = re.compile(r"`([^`\n]+)`")
_LEVEL = {"low": 0, "medium": 1, "high": 2}
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


def parse_brief(raw: str, sent: str, rules: Decision, known_hosts: Collection[str] = ()) -> Brief:
    """The Brief in the model's answer `raw`. Evidence not found verbatim in `sent` (the text the
    model was given) is dropped; `rules` is the offline rules' decision, whose confidence bounds the
    model's; addresses on `known_hosts` (the org's own) stay links. Raises MalformedOutput."""
    answer = _validated(_json_object(raw))
    evidence = verified_evidence(answer.evidence, sent)
    confidence: str = answer.confidence
    if answer.root_cause is None or not evidence:
        confidence = "low"  # a cause with no line to back it is a guess, however sure the model sounds
    confidence = bounded(confidence, answer.category, rules.category, rules.confidence)

    def shown(text: str | None, limit: int) -> str | None:
        return None if text is None else inert_links(_cut(text, limit), known_hosts)

    steps = [_cut(step.strip(), MAX_STEP_CHARS) for step in answer.suggested_fix if step.strip()]
    logs = _words(sent)
    steps = [f"{FROM_THE_LOGS}{step}" if repeats(step, logs) else step for step in steps]
    return Brief(
        root_cause=shown(answer.root_cause, MAX_ROOT_CAUSE_CHARS),
        failing_step=shown(answer.failing_step, MAX_FAILING_STEP_CHARS),
        category=answer.category,
        evidence=evidence,
        suggested_fix=inert_links(_steps(steps), known_hosts),
        explanation=inert_links(_explanation(answer), known_hosts),
        confidence=confidence,
    )


def bounded(confidence: str, category: str, rules_category: str, rules_confidence: str) -> str:
    """The most a model may say. `high` is what the offline rules grant only for signals whose
    precision was measured (calibration.py): a model's reading earns no more than that. Where the
    rules decided another category one of the two is wrong, and where they found nothing no
    measured signal backs the model: at most `medium` then."""
    ceiling = "high" if rules_confidence == "high" and rules_category == category else "medium"
    return min(confidence, ceiling, key=_LEVEL.__getitem__)


def rechecked(stored: Brief, rules: Brief, known_hosts: Collection[str] = ()) -> Brief:
    """A model's stored brief about to be reused for the same failure, held to what a new answer
    must pass: it may have been stored before one of these checks existed (reuse reaches back
    SIGNATURE_WINDOW_DAYS). `rules` is the offline brief of the failure now. Idempotent."""

    def shown(text: str | None, limit: int) -> str | None:
        return None if text is None else inert_links(_cut(text, limit), known_hosts)

    return Brief(
        root_cause=shown(stored.root_cause, MAX_ROOT_CAUSE_CHARS),
        failing_step=shown(stored.failing_step, MAX_FAILING_STEP_CHARS),
        category=stored.category,
        evidence=stored.evidence,
        suggested_fix=inert_links(stored.suggested_fix, known_hosts),
        explanation=inert_links(stored.explanation, known_hosts),
        confidence=bounded(stored.confidence, stored.category, rules.category, rules.confidence),
    )


def repeats(step: str, logs: str) -> bool:
    """Whether fix step `step` repeats an instruction of `logs` (as `_words` gives them)."""
    words = [word.strip(_WORD_EDGES) for word in step.split()]
    words = [word for word in words if word]
    for start in range(len(words) - REPEATED_WORDS + 1):
        run = " ".join(words[start : start + REPEATED_WORDS]).lower()
        if len(run) >= MIN_REPEATED_CHARS and run in logs:
            return True
    spans = (" ".join(span.split()).lower() for span in _CODE_SPAN.findall(step))
    return any(len(span) >= MIN_REPEATED_CODE_CHARS and span in logs for span in spans)


def _words(text: str) -> str:
    return " ".join(text.split()).lower()


def _cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


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
    steps = steps[:MAX_FIX_STEPS]
    if len(steps) == 1:
        return steps[0]
    return "\n".join(f"{number}. {step}" for number, step in enumerate(steps, start=1))


def _explanation(answer: BriefOut) -> str:
    text = _cut(answer.explanation, MAX_EXPLANATION_CHARS)
    if answer.root_cause is None and answer.missing:
        text = f"{text} Missing: {_cut(answer.missing, MAX_MISSING_CHARS)}".strip()
    return text
