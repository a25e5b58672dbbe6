"""The moments an operator types for --since and --until: a duration back from now (30m, 12h, 7d,
2w) or an ISO date or date-time; anything else is one clear usage line."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

DURATION = re.compile(r"(?P<count>\d+)\s*(?P<unit>[smhdw])")
UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def moment(text: str, now: datetime) -> datetime:
    """A duration back from `now` (30m, 12h, 7d, 2w) or an ISO date or date-time (UTC unless it
    carries an offset). Raises ValueError with a message for the user."""
    text = text.strip()
    if found := DURATION.fullmatch(text):
        try:
            return now - timedelta(**{UNITS[found["unit"]]: int(found["count"])})
        except OverflowError:
            raise ValueError(f"{text!r} is further back than a date can be") from None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text!r} is neither a duration back from now (30m, 12h, 7d, 2w) nor an ISO date or "
            "date-time (2026-11-19, 2026-11-19T08:00Z)"
        ) from None
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def when_option(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Click callback: the option as a moment."""
    if value is None:
        return None
    try:
        return moment(value, datetime.now(UTC))
    except ValueError as exc:
        raise click.BadParameter(str(exc), ctx, param) from None


def past_option(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    """Click callback: the option as a moment that is not in the future (the start of a window:
    nothing was received or ended after now)."""
    when = when_option(ctx, param, value)
    if when is not None and when > datetime.now(UTC):
        raise click.BadParameter(f"{when:%Y-%m-%d %H:%M:%S} UTC is in the future", ctx, param)
    return when
