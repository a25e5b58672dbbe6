"""A generic signed webhook: the whole message as JSON, for receivers of your own.

The scheme (docs/notifications.md, "Signed webhook"):

    POST <url>
    Content-Type: application/json
    X-Failbrief-Delivery: <delivery_id>      the same on every retry of one delivery
    X-Failbrief-Timestamp: <unix seconds>    when this attempt was signed
    X-Failbrief-Signature: sha256=<hex>      HMAC-SHA256(secret, f"{timestamp}.{raw body}")

A receiver recomputes the HMAC over the raw body bytes exactly as received (not re-serialized
JSON), compares it in constant time, and rejects a timestamp more than 5 minutes from its clock
so a captured request cannot be replayed later. It should also drop a `delivery_id` it has
already handled: a retry after a lost 2xx sends the same delivery again."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import time
from collections.abc import Mapping
from datetime import datetime
from typing import ClassVar

import httpx

from failbrief.notify.channels.base import ConfigError
from failbrief.notify.channels.config import only_keys, text_value, url_hint, webhook_url
from failbrief.notify.channels.http_post import json_body, post_json
from failbrief.notify.message import Message
from failbrief.orgs.secrets import new_secret

SIGNATURE_PREFIX = "sha256="
MIN_SECRET_LENGTH = 16
DEFAULT_TOLERANCE_SECONDS = 300


class Webhook:
    kind: ClassVar[str] = "webhook"

    def clean_config(self, raw: Mapping[str, object]) -> dict[str, str]:
        """Without a secret one is generated: the caller shows it once, it is never shown again."""
        only_keys(raw, self.kind, ["url", "secret"])
        url = webhook_url(text_value(raw, "url", self.kind), self.kind)
        secret = text_value(raw, "secret", self.kind) or new_secret()
        if len(secret) < MIN_SECRET_LENGTH:
            raise ConfigError(f"webhook secret must be at least {MIN_SECRET_LENGTH} characters")
        return {"url": url, "secret": secret}

    def describe(self, config: Mapping[str, str]) -> str:
        return url_hint(config["url"])

    def send(self, config: Mapping[str, str], message: Message, http: httpx.Client, delivery_id: str) -> None:
        body = json_body(payload(message, delivery_id))
        timestamp = str(int(time.time()))
        headers = {
            "X-Failbrief-Delivery": delivery_id,
            "X-Failbrief-Timestamp": timestamp,
            "X-Failbrief-Signature": sign(config["secret"], timestamp, body),
        }
        post_json(http, config["url"], body, hint=self.describe(config), headers=headers)


def payload(message: Message, delivery_id: str) -> dict[str, object]:
    """Every Message field (dates as ISO 8601 or null), its title, the event and the delivery id."""
    fields = {
        name: value.isoformat() if isinstance(value, datetime) else value
        for name, value in dataclasses.asdict(message).items()
    }
    fields["evidence"] = list(message.evidence)
    event = "summary.repeated" if message.is_repeat else "summary.completed"
    return {"event": event, "delivery_id": delivery_id, "title": message.title, **fields}


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Failbrief-Signature header value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: bytes,
    header: str,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when `header` (X-Failbrief-Signature) signs `body` with `secret` at `timestamp`
    (X-Failbrief-Timestamp) and that timestamp is within `tolerance` seconds of `now` (default:
    this machine's clock). False for anything malformed; never raises on bad input."""
    stamp = str(timestamp).strip()
    if not stamp.isascii() or not stamp.isdigit():
        return False
    current = time.time() if now is None else now
    if abs(current - int(stamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, stamp, body).encode(), header.strip().encode("utf-8", "replace"))
