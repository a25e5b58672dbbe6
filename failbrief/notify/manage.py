"""Add, list, change and try an org's notification channels: shared by the CLI and the API."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from failbrief.lib.deadline import within
from failbrief.notify.channels.base import ConfigError, DeliveryError
from failbrief.notify.channels.registry import channel as channel_of
from failbrief.notify.compose import run_url
from failbrief.notify.deliver import http_client
from failbrief.notify.destinations import BlockedDestination, refusal
from failbrief.notify.message import Message
from failbrief.notify.models import NotifyChannel
from failbrief.orgs.models import Org
from failbrief.orgs.vault import VaultError, seal, unseal


class ChannelError(ValueError):
    """What the user asked cannot be done; the message says why."""


def add_channel(
    org: Org, name: str, kind: str, raw: Mapping[str, object]
) -> tuple[NotifyChannel, dict[str, str]]:
    """Store a new channel; returns it and its cleaned config (which the caller shows once: a
    generated webhook secret is only ever visible here)."""
    if not name or slugify(name) != name:
        raise ChannelError(f"channel name must be a slug (lowercase letters, digits, - and _), not {name!r}")
    try:
        config = channel_of(kind).clean_config(raw)
    except ConfigError as exc:
        raise ChannelError(str(exc)) from None
    if "url" in config and (reason := refusal(config["url"])) is not None:
        raise ChannelError(f"{kind} channel URL refused: {reason}")
    try:
        with transaction.atomic():
            channel = NotifyChannel.objects.create(
                org=org,
                name=name,
                kind=kind,
                config_sealed=seal(json.dumps(config)),
                hint=channel_of(kind).describe(config),
            )
    except IntegrityError:
        raise ChannelError(f"org {org.slug} already has a channel named {name!r}") from None
    return channel, config


def get_channel(org: Org, name: str) -> NotifyChannel:
    channel = NotifyChannel.objects.filter(org=org, name=name).first()
    if channel is None:
        raise ChannelError(f"org {org.slug} has no channel named {name!r}")
    return channel


def set_enabled(channel: NotifyChannel, enabled: bool) -> NotifyChannel:
    channel.enabled = enabled
    channel.save(update_fields=["enabled", "updated_at"])
    return channel


def remove_channel(channel: NotifyChannel) -> None:
    """Deletes the channel and its delivery records."""
    channel.delete()


def send_test(channel: NotifyChannel) -> str:
    """Send a sample message now, outside the queue; returns "" when it went through, else why not.
    It is done within NOTIFY_TEST_DEADLINE_SECONDS, since a web request waits on it."""
    try:
        config = json.loads(unseal(channel.config_sealed))
    except VaultError as exc:
        return str(exc)
    try:
        with within(settings.NOTIFY_TEST_DEADLINE_SECONDS), http_client() as http:
            channel_of(channel.kind).send(config, sample_message(channel.org), http, f"test-{channel.pk}")
    except DeliveryError as exc:
        return exc.reason
    except BlockedDestination as exc:
        return f"not sent: {exc}"
    return ""


def sample_message(org: Org) -> Message:
    flow_run_id = "00000000-0000-0000-0000-000000000000"
    return Message(
        org=org.slug,
        flow_run_id=flow_run_id,
        flow_run_name="test-notification",
        deployment="failbrief test",
        failing_step="(none: this is a test message)",
        category="unknown",
        root_cause="This is a test message from failbrief: the channel works.",
        suggested_fix="Nothing to fix.",
        run_url=run_url(org.slug, flow_run_id),
        summary_id=0,
        failed_at=datetime.now(UTC),
    )
