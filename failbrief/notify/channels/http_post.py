"""POST one JSON body to a webhook and turn every way it can go wrong into a DeliveryError.

Retryable: timeouts, connection errors, 5xx and 429 (no sooner than its Retry-After). Permanent:
every other 4xx (a revoked or deleted webhook, a body the service refused) and redirects, which
we do not follow: a webhook URL that redirects is wrong, and following it would resend the body
to a host the user never configured. Reasons name the destination by its hint, never by the URL,
which carries a token."""

from __future__ import annotations

import json
from collections.abc import Mapping

import httpx

from failbrief.lib.http import excerpt, retry_after_seconds
from failbrief.notify.channels.base import DeliveryError

JsonObject = Mapping[str, object]


def json_body(payload: JsonObject) -> bytes:
    """The exact bytes sent (the signed webhook signs these same bytes)."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def post_json(
    http: httpx.Client,
    url: str,
    body: bytes,
    *,
    hint: str,
    headers: Mapping[str, str] | None = None,
) -> httpx.Response:
    """POST `body` (JSON bytes) to `url`; the 2xx response, or DeliveryError."""
    try:
        response = http.post(
            url,
            content=body,
            headers={"Content-Type": "application/json", **(headers or {})},
            follow_redirects=False,
        )
    except httpx.TimeoutException as exc:
        # "timed out", or that the deadline of the whole send passed (notify/transport.py)
        raise DeliveryError(f"{hint} did not answer in time: {exc}", retryable=True) from None
    except httpx.TransportError as exc:
        reason = _scrub(f"{type(exc).__name__}: {exc}", url, hint)
        raise DeliveryError(f"could not reach {hint}: {reason}", retryable=True) from None
    if response.is_success:
        return response
    raise delivery_error(response, url, hint)


def delivery_error(response: httpx.Response, url: str, hint: str) -> DeliveryError:
    status = response.status_code
    said = _scrub(excerpt(response.content), url, hint)
    reason = f"{hint} answered {status} {response.reason_phrase}".rstrip() + (f": {said}" if said else "")
    if status == 429 or status >= 500:
        return DeliveryError(reason, retryable=True, retry_after=retry_after_seconds(response.headers))
    if response.is_redirect:
        return DeliveryError(f"{reason} (redirects are not followed; check the URL)", retryable=False)
    return DeliveryError(reason, retryable=False)


def _scrub(text: str, url: str, hint: str) -> str:
    # Some servers and transport errors echo the request URL; its path and query hold the token.
    return text.replace(url, hint)
