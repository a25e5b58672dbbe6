"""failbrief channel …: where an org's summaries are sent; failbrief notifications: what was sent."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from failbrief.cli.django_setup import migrate, setup_django

if TYPE_CHECKING:
    from failbrief.notify.models import NotifyChannel

KINDS = ["slack", "discord", "teams", "email", "webhook"]
ChannelAction = Callable[[str, str, "NotifyChannel"], None]


def _ready() -> None:
    setup_django()
    migrate()


def _org_channel(slug: str, name: str) -> NotifyChannel:
    from failbrief.notify.manage import ChannelError, get_channel
    from failbrief.orgs.manage import OrgError, get_org

    try:
        return get_channel(get_org(slug), name)
    except (OrgError, ChannelError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group("channel")
def channel_group() -> None:
    """Notification channels: Slack, Discord, Teams, email, signed webhook."""


@channel_group.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--kind", type=click.Choice(KINDS), required=True)
@click.option("--url", default=None, help="The webhook URL (slack, discord, teams, webhook).")
@click.option("--to", default=None, help="email: comma-separated addresses.")
@click.option("--secret", default=None, help="webhook: the HMAC secret (default: generated, printed once).")
def add(slug: str, name: str, kind: str, url: str | None, to: str | None, secret: str | None) -> None:
    """Send the org's summaries to a new channel. A generated webhook secret is printed once, on stdout."""
    _ready()
    from failbrief.notify.manage import ChannelError, add_channel
    from failbrief.orgs.manage import OrgError, get_org

    raw = {key: value for key, value in (("url", url), ("to", to), ("secret", secret)) if value is not None}
    try:
        channel, config = add_channel(get_org(slug), name, kind, raw)
    except (OrgError, ChannelError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"channel {slug}/{channel.name} ({channel.kind}) → {channel.hint}", err=True)
    if kind == "webhook" and secret is None:
        click.echo(config["secret"])


@channel_group.command("list")
@click.argument("slug")
def list_channels(slug: str) -> None:
    """One line per channel: name, kind, enabled, destination hint."""
    _ready()
    from failbrief.notify.models import NotifyChannel
    from failbrief.orgs.manage import OrgError, get_org

    try:
        org = get_org(slug)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    for channel in NotifyChannel.objects.filter(org=org).order_by("name"):
        state = "enabled" if channel.enabled else "disabled"
        click.echo(f"{channel.name}\t{channel.kind}\t{state}\t{channel.hint}")


def _channel_command(command: str) -> Callable[[ChannelAction], click.Command]:
    """`failbrief channel <command> SLUG NAME`: the decorated function gets the org's channel (its
    docstring is the command's help)."""

    def decorate(action: ChannelAction) -> click.Command:
        @channel_group.command(command, help=inspect.getdoc(action))
        @click.argument("slug")
        @click.argument("name")
        def run(slug: str, name: str) -> None:
            _ready()
            action(slug, name, _org_channel(slug, name))

        return run

    return decorate


@_channel_command("enable")
def enable(slug: str, name: str, channel: NotifyChannel) -> None:
    """Send to the channel again."""
    _set_enabled(slug, name, channel, True)


@_channel_command("disable")
def disable(slug: str, name: str, channel: NotifyChannel) -> None:
    """Stop sending to the channel (its config and history are kept)."""
    _set_enabled(slug, name, channel, False)


def _set_enabled(slug: str, name: str, channel: NotifyChannel, enabled: bool) -> None:
    from failbrief.notify.manage import set_enabled

    set_enabled(channel, enabled)
    click.echo(f"channel {slug}/{name} {'enabled' if enabled else 'disabled'}", err=True)


@_channel_command("remove")
def remove(slug: str, name: str, channel: NotifyChannel) -> None:
    """Delete the channel and its delivery history."""
    from failbrief.notify.manage import remove_channel

    remove_channel(channel)
    click.echo(f"channel {slug}/{name} removed", err=True)


@_channel_command("test")
def test(slug: str, name: str, channel: NotifyChannel) -> None:
    """Send a sample message now; exits 1 with the reason when it does not go through."""
    from failbrief.notify.manage import send_test

    reason = send_test(channel)
    if reason:
        # Some reasons already say so (a destination the network rule blocks).
        raise click.ClickException(f"not sent: {reason.removeprefix('not sent: ')}")
    click.echo(f"sent a test message to {slug}/{name}", err=True)


@click.command("notifications")
@click.argument("slug")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 1000))
def notifications_command(slug: str, limit: int) -> None:
    """The org's newest notifications: id, channel, status, repeat count, attempts, flow run, reason."""
    _ready()
    from failbrief.notify.models import Notification
    from failbrief.orgs.manage import OrgError, get_org

    try:
        org = get_org(slug)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    rows = Notification.objects.filter(channel__org=org).select_related("channel", "summary").order_by("-pk")
    for n in rows[:limit]:
        click.echo(
            f"{n.pk}\t{n.channel.name}\t{n.status}\t{n.repeat_count}x\tattempts={n.attempts}\t"
            f"{n.summary.flow_run_id}\t{n.reason}"
        )
