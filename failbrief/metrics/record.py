"""One-line hooks the request and task code call when something worth counting happens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.utils import timezone

from failbrief.metrics.registry import (
    LLM_COST,
    LLM_LATENCY,
    LLM_TOKENS_IN,
    LLM_TOKENS_OUT,
    NO_ORG,
    PLATFORM_REQUESTS,
    WEBHOOK_TO_SUMMARY,
    WEBHOOKS,
)

if TYPE_CHECKING:
    from failbrief.summarize.models import LlmSession

REFUSED_WEBHOOK = {
    400: "bad_request",
    401: "unauthorized",
    413: "too_large",
    415: "unsupported_media_type",
    503: "no_key_configured",
}
# The LlmSession field each LLM counter adds up.
_LLM_COUNTERS = (
    (LLM_TOKENS_IN, "tokens_in"),
    (LLM_TOKENS_OUT, "tokens_out"),
    (LLM_COST, "cost_estimate_usd"),
)


def count_webhook(result: str) -> None:
    WEBHOOKS.labels(result=result).inc()


def count_refused_webhook(status: int) -> None:
    count_webhook(REFUSED_WEBHOOK.get(status, "bad_request"))


def count_stored_webhook(duplicate: bool, starts_work: bool) -> None:
    count_webhook("duplicate" if duplicate else "accepted" if starts_work else "ignored")


def count_platform_request(platform: str, org_slug: str | None) -> None:
    """One request with a platform token, acting for `org_slug` (None: refused before an org was found)."""
    PLATFORM_REQUESTS.labels(platform=platform, org=org_slug or NO_ORG).inc()


def observe_llm_call(row_fields: Mapping[str, object]) -> None:
    """Record one LLM call from the LlmSession fields writer.py stores for it."""
    provider, model = str(row_fields.get("provider", "")), str(row_fields.get("model", ""))
    latency = row_fields.get("llm_latency_seconds")
    if isinstance(latency, int | float):
        outcome = "error" if row_fields.get("llm_error") else "ok"
        LLM_LATENCY.labels(provider=provider, model=model, outcome=outcome).observe(latency)
    for counter, key in _LLM_COUNTERS:
        value = row_fields.get(key)
        if isinstance(value, int | float) and value > 0:
            counter.labels(provider=provider, model=model).inc(value)


def observe_summary_stored(row: LlmSession, summarizer: str) -> None:
    """Webhook to stored summary, for a row an event produced. A regenerate (a later version) or an
    on-demand request has no webhook to measure from."""
    event = row.event if row.event_id is not None and row.version == 1 else None
    if event is None:
        return
    seconds = (timezone.now() - event.received_at).total_seconds()
    WEBHOOK_TO_SUMMARY.labels(summarizer=summarizer or "unknown").observe(max(0.0, seconds))
