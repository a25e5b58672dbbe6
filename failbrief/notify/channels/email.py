"""Email through Django's mail backend (SMTP settings: EMAIL_HOST and friends): a plain-text part
and an HTML alternative rendered from notify/summary_email.html with autoescaping on, since every
field of a message comes from pipeline logs.

SMTP errors: connection errors, timeouts and 4xx replies are retryable; 5xx replies (an unknown
mailbox, a refused sender, failed authentication) are permanent."""

from __future__ import annotations

import re
import smtplib
import ssl
from collections.abc import Mapping
from email.utils import parseaddr
from typing import ClassVar

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.template.loader import render_to_string

from failbrief.notify.channels.base import ConfigError, DeliveryError
from failbrief.notify.channels.config import only_keys
from failbrief.notify.message import Message, evidence_lines, facts, plain_text, shorten

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
MAX_RECIPIENTS = 50
SUBJECT_LIMIT = 200
_SEPARATORS = re.compile(r"[,;\s]+")
_UNSAFE_ID = re.compile(r"[^A-Za-z0-9._-]")


class Email:
    kind: ClassVar[str] = "email"

    def clean_config(self, raw: Mapping[str, object]) -> dict[str, str]:
        """`to`: addresses separated by commas (or a list of them), stored as "a@x.org, b@y.org"."""
        only_keys(raw, self.kind, ["to"])
        addresses = list(dict.fromkeys(_addresses(raw.get("to"))))
        if not addresses:
            raise ConfigError("email needs at least one address in 'to' (e.g. \"ops@example.org\")")
        if len(addresses) > MAX_RECIPIENTS:
            raise ConfigError(f"email takes at most {MAX_RECIPIENTS} addresses, not {len(addresses)}")
        for address in addresses:
            try:
                validate_email(address)
            except ValidationError:
                raise ConfigError(f"{address!r} is not an email address") from None
        return {"to": ", ".join(addresses)}

    def describe(self, config: Mapping[str, str]) -> str:
        return shorten(config["to"], 120)

    def send(self, config: Mapping[str, str], message: Message, http: httpx.Client, delivery_id: str) -> None:
        if settings.EMAIL_BACKEND == SMTP_BACKEND and not settings.EMAIL_HOST:
            raise DeliveryError(
                "EMAIL_HOST is not set; set it to your SMTP server to send email", retryable=False
            )
        recipients = [address for address in _SEPARATORS.split(config["to"]) if address]
        mail = EmailMultiAlternatives(
            subject=shorten("[failbrief] " + " ".join(message.title.split()), SUBJECT_LIMIT),
            body=plain_text(message),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=recipients,
            headers={"X-Failbrief-Delivery": delivery_id, "Message-ID": _message_id(delivery_id)},
        )
        mail.attach_alternative(html(message), "text/html")
        try:
            mail.send()
        except OSError as exc:  # smtplib's errors are OSErrors too
            raise smtp_error(exc, f"{settings.EMAIL_HOST}:{settings.EMAIL_PORT}") from None


def html(message: Message) -> str:
    context = {"message": message, "facts": facts(message), "evidence": evidence_lines(message)}
    return render_to_string("notify/summary_email.html", context)


def smtp_error(exc: OSError, server: str) -> DeliveryError:
    """What the mail server (or the network) said, as a DeliveryError."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        replies = exc.recipients.items()
        said = "; ".join(f"{address}: {code} {_text(reply)}" for address, (code, reply) in replies)
        transient = all(400 <= code < 500 for code, _ in exc.recipients.values())
        return DeliveryError(f"{server} refused every recipient: {said}", retryable=transient)
    if isinstance(exc, smtplib.SMTPResponseException) and not isinstance(exc, smtplib.SMTPConnectError):
        code = exc.smtp_code
        reason = f"{server} answered {code} {_text(exc.smtp_error)}"
        return DeliveryError(reason, retryable=not 500 <= code < 600)
    if isinstance(exc, smtplib.SMTPNotSupportedError | ssl.SSLCertVerificationError):
        return DeliveryError(f"{server}: {exc} (check EMAIL_USE_TLS / EMAIL_USE_SSL)", retryable=False)
    return DeliveryError(f"could not reach {server}: {type(exc).__name__}: {exc}", retryable=True)


def _addresses(value: object) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        items: list[object] = list(_SEPARATORS.split(value))
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise ConfigError(f"email 'to' must be a string or a list, not {type(value).__name__}")
    if not all(isinstance(item, str) for item in items):
        raise ConfigError("email 'to' must list addresses as strings")
    return [str(item).strip() for item in items if str(item).strip()]


def _message_id(delivery_id: str) -> str:
    # The same id on every retry of one delivery, so a mail client shows a resent copy only once.
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "failbrief.localhost"
    return f"<{_UNSAFE_ID.sub('-', delivery_id)}.failbrief@{domain}>"


def _text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split())[:200]
