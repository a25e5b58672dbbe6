"""The one interface every notification channel implements (one module per channel)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Protocol

import httpx

from failbrief.notify.message import Message


class ConfigError(ValueError):
    """A channel's configuration is wrong (e.g. not an https URL); the message says what to fix."""


class DeliveryError(Exception):
    """A send that did not go through. `retryable` errors (timeouts, 5xx, 429) are tried again with
    backoff, no sooner than `retry_after` seconds; the others (4xx: a revoked webhook, a bad
    address) are recorded as failed at once."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class Channel(Protocol):
    kind: ClassVar[str]  # "slack", "discord", "teams", "email", "webhook"

    def clean_config(self, raw: Mapping[str, object]) -> dict[str, str]:
        """The stored form of a user's config, or ConfigError saying what is wrong."""
        ...

    def describe(self, config: Mapping[str, str]) -> str:
        """A hint that identifies the destination without revealing its secret (webhook URLs carry
        tokens), e.g. "hooks.slack.com/…/Xy12" or "ops@example.org"."""
        ...

    def send(self, config: Mapping[str, str], message: Message, http: httpx.Client, delivery_id: str) -> None:
        """Deliver one message, or raise DeliveryError. `delivery_id` is stable across retries of the
        same delivery (the signed webhook sends it so a receiver can drop a repeat)."""
        ...
