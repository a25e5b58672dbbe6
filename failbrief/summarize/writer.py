"""Context in, brief out: which summarizer writes the brief for this org, and what the call cost.

1. The offline brief is always made first: it is the brief of an org that has not opted in, the
   fallback when the LLM fails, and its root-cause lines make the failure signature.
2. An org that has not opted in (or whose provider is offline) gets it: nothing goes to an LLM.
   The opt-in is read afresh at this point, so an opt-out wins over a task queued before it.
3. The same failure in the same org within the window reuses the stored LLM summary, unless this
   is a regenerate (`reuse=False`).
4. Otherwise one LLM request (plus one repair request for a malformed answer), inside the
   per-summary deadline. Any fault stores the offline brief with `llm_error` saying why.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Collection
from dataclasses import dataclass, field

from failbrief.condense.brief import Brief, FailedUnitInfo
from failbrief.condense.condenser import Context
from failbrief.condense.redact import REDACTED, redact
from failbrief.metrics.record import observe_llm_call
from failbrief.orgs.models import Org
from failbrief.summarize.models import LlmSession
from failbrief.summarize.providers.base import Answer, Provider
from failbrief.summarize.providers.llm_common import PROMPT_VERSION, LlmError, Reply, billed_tokens
from failbrief.summarize.providers.llm_output import rechecked
from failbrief.summarize.providers.pricing import cost_usd
from failbrief.summarize.providers.registry import OFFLINE, Choice, choice_for, known_hosts, provider
from failbrief.summarize.signature import failure_signature, reusable_summary, same_as
from failbrief.summarize.store import count_reuse

log = logging.getLogger(__name__)
# OpenAI-style keys as an error message may quote them ("Incorrect API key provided: sk-pr***1234").
_ECHOED_KEY = re.compile(r"\bsk-[\w*.-]+")


@dataclass
class Written:
    brief: Brief
    summarizer: str
    # LlmSession columns to store with the brief: provider, model, tokens, latency, llm_error…
    row_fields: dict[str, object] = field(default_factory=dict)


def write_brief(org: Org, context: Context, unit: FailedUnitInfo, *, reuse: bool = True) -> Written:
    """The brief for this org's failure. Never raises for a provider's fault: it falls back to the
    offline brief and records why. `reuse=False` (regenerate) always asks the LLM again."""
    offline = provider(OFFLINE).answer(context, unit).brief
    signature = failure_signature(offline)
    # The org as it is now, not as the task loaded it: an opt-out (or a provider change) made while
    # the logs settled or the run's earlier units were summarized must win before anything is sent.
    org = Org.objects.get(pk=org.pk)
    choice = choice_for(org)
    if choice is None:
        return Written(offline, "offline", {"signature": signature})
    earlier = reusable_summary(org, signature, choice.provider, choice.model) if reuse else None
    if earlier is not None:
        return _reused(earlier, offline, signature, known_hosts(org))
    written = _from_llm(org, choice, context, unit, offline)
    observe_llm_call(written.row_fields)
    written.row_fields["signature"] = signature
    return written


def _from_llm(org: Org, choice: Choice, context: Context, unit: FailedUnitInfo, offline: Brief) -> Written:
    llm = provider(choice.provider, choice.model, known_hosts(org))
    started = time.monotonic()
    try:
        answer = llm.answer(context, unit, org.name)
    except Exception as exc:  # whatever went wrong, a summary must exist: the offline one
        billed = exc.billed if isinstance(exc, LlmError) else ()
        return _fallback(choice, offline, _reason(exc, llm), time.monotonic() - started, billed)
    return Written(answer.brief, choice.provider, _call_fields(choice, answer, started))


def _call_fields(choice: Choice, answer: Answer, started: float) -> dict[str, object]:
    # The model as configured, so the next occurrence of the failure finds this row; the API may
    # answer with a dated snapshot name ("gpt-4o-mini-2024-07-18"), which prices the call.
    return {
        "provider": choice.provider,
        "model": choice.model,
        "prompt_version": PROMPT_VERSION,
        "tokens_in": answer.tokens_in,
        "tokens_out": answer.tokens_out,
        "llm_latency_seconds": round(time.monotonic() - started, 4),
        "cost_estimate_usd": cost_usd(answer.model or choice.model, answer.tokens_in, answer.tokens_out),
        "llm_error": "",
    }


def _fallback(
    choice: Choice, offline: Brief, reason: str, seconds: float, billed: tuple[Reply, ...] = ()
) -> Written:
    """The offline brief, with why the LLM's was not used and what its unusable answers (a malformed
    one and its repair) cost: they were billed all the same."""
    log.warning("LLM %s/%s failed, offline brief stored: %s", choice.provider, choice.model, reason)
    fields: dict[str, object] = {
        "provider": choice.provider,
        "model": choice.model,
        "prompt_version": PROMPT_VERSION,
        "llm_latency_seconds": round(seconds, 4),
        "llm_error": reason[:4000],
    }
    if billed:
        tokens_in, tokens_out = billed_tokens(billed)
        answered_as = billed[-1].model or choice.model
        fields |= {
            "tokens_in": tokens_in,
            "tokens_out": tokens_out,
            "cost_estimate_usd": cost_usd(answered_as, tokens_in, tokens_out),
        }
    return Written(offline, "offline", fields)


def _reason(exc: Exception, llm: Provider) -> str:
    """Why the LLM gave no brief, safe to store and show: redacted, and the key itself scrubbed
    (some APIs echo part of a wrong key back)."""
    reason = str(exc) if isinstance(exc, LlmError) else f"{type(exc).__name__}: {exc}"
    for secret in llm.secrets():
        reason = reason.replace(secret, REDACTED)
    return redact(_ECHOED_KEY.sub(REDACTED, reason))


def _reused(earlier: LlmSession, offline: Brief, signature: str, hosts: Collection[str]) -> Written:
    """The earlier summary's reading of the failure, with this run's own evidence lines (the
    earlier ones need not occur in this log) and failing step, held to the checks of a new answer.
    No LLM call: no tokens, no cost."""
    times = count_reuse(earlier)
    stored = Brief(
        root_cause=earlier.root_cause,
        failing_step=offline.failing_step or earlier.failing_step,
        category=earlier.category,
        evidence=offline.evidence,
        suggested_fix=earlier.suggested_fix,
        explanation=earlier.explanation,
        confidence=earlier.confidence,
    )
    brief = rechecked(stored, offline, hosts)
    fields: dict[str, object] = {
        "signature": signature,
        "reused_from": earlier,
        "provider": earlier.provider,
        "model": earlier.model,
        "prompt_version": earlier.prompt_version,
        "tokens_in": 0,
        "tokens_out": 0,
        "cost_estimate_usd": 0.0,
        "response": _response_with_marker(brief, same_as(earlier), times),
    }
    return Written(brief, earlier.summarizer, fields)


def _response_with_marker(brief: Brief, marker: str, times: int) -> list[dict[str, str]]:
    note = f"This failure was summarized before: {marker}. Seen {times} times within the window."
    return [*dalgo_response(brief), {"prompt": "Seen before", "response": note}]


def brief_fields(brief: Brief) -> dict[str, object]:
    return {
        "category": brief.category,
        "root_cause": brief.root_cause,
        "failing_step": brief.failing_step,
        "evidence": brief.evidence,
        "suggested_fix": brief.suggested_fix,
        "explanation": brief.explanation,
        "confidence": brief.confidence,
        "response": dalgo_response(brief),
    }


def dalgo_response(brief: Brief) -> list[dict[str, str]]:
    """Dalgo's `response` list: a "Summary" item first, then what else a reader needs."""
    summary = brief.root_cause or "Insufficient evidence: the logs do not show the cause of this failure."
    if brief.explanation:
        summary = f"{summary}\n\n{brief.explanation}"
    items = [{"prompt": "Summary", "response": summary}]
    if brief.suggested_fix:
        items.append({"prompt": "Suggested fix", "response": brief.suggested_fix})
    if brief.evidence:
        items.append({"prompt": "Evidence", "response": "\n".join(brief.evidence)})
    return items
