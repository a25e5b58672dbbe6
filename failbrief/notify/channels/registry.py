"""Every notification channel, by kind."""

from __future__ import annotations

from failbrief.notify.channels.base import Channel, ConfigError
from failbrief.notify.channels.discord import Discord
from failbrief.notify.channels.email import Email
from failbrief.notify.channels.slack import Slack
from failbrief.notify.channels.teams import Teams
from failbrief.notify.channels.webhook import Webhook

CHANNELS: dict[str, Channel] = {
    "slack": Slack(),
    "discord": Discord(),
    "teams": Teams(),
    "email": Email(),
    "webhook": Webhook(),
}


def channel(kind: str) -> Channel:
    """The channel of `kind`, or ConfigError listing the kinds there are."""
    try:
        return CHANNELS[kind]
    except KeyError:
        raise ConfigError(f"unknown channel kind {kind!r}; one of {', '.join(CHANNELS)}") from None
