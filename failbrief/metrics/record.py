"""One-line hooks the request and task code call when something worth counting happens."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from django.http import HttpRequest
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


# Where the webhook view leaves its result for middleware.CountWebhooks, which counts every
# request to the webhook URL once, the view's and those refused before it ran alike.
_RESULT_KEY = "failbrief.webhook_result"


def note_refused_webhook(request: HttpRequest, status: int) -> None:
    request.META[_RESULT_KEY] = REFUSED_WEBHOOK.get(status, "bad_request")


def note_stored_webhook(request: HttpRequest, duplicate: bool, starts_work: bool) -> None:
    request.META[_RESULT_KEY] = "duplicate" if duplicate else "accepted" if starts_work else "ignored"


def count_webhook(request: HttpRequest, status: int) -> None:
    """One request to the webhook URL, answered `status`: by the result the view noted or, when the
    view noted none, by the status. That is a delivery refused before the view ran (Django's method
    check, lib/json_errors.py, the host check, the HTTPS redirect) or one the view failed on (500,
    not stored: Prefect does not send it again, so only the reconciler still catches its run)."""
    noted = request.META.get(_RESULT_KEY)
    WEBHOOKS.labels(result=noted if isinstance(noted, str) else _result_of_status(status)).inc()


def _result_of_status(status: int) -> str:
    if status >= 500:
        return "error"
    if 300 <= status < 400:
        return "redirected"
    return {405: "method_not_allowed", 413: "too_large", 415: "unsupported_media_type"}.get(
        status, "bad_request"
    )


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
