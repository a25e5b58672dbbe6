"""`failbrief events`: the webhook events failbrief received lately, with their state and reason."""

from __future__ import annotations

import json
from datetime import datetime

import click

from failbrief.cli.django_setup import setup_django
from failbrief.cli.when import past_option


@click.command("events")
@click.option("--org", "org_slug", default=None, help="Only the events this org's API token may see.")
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(1, 1000), help="How many, newest first."
)
@click.option(
    "--status",
    default=None,
    type=click.Choice(["pending", "retrying", "done", "ignored", "unmatched", "failed"]),
    help="Only events in this state.",
)
@click.option(
    "--since",
    metavar="WHEN",
    callback=past_option,
    default=None,
    help="Only events received since then: 30m, 12h, 7d, 2w or an ISO date (UTC unless it says).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON array instead of a table.")
def events_command(
    org_slug: str | None, limit: int, status: str | None, since: datetime | None, as_json: bool
) -> None:
    """The latest webhook events, newest first: when each arrived, its flow run and Prefect state,
    what failbrief made of it (pending, retrying, done, ignored, unmatched, failed) and why."""
    setup_django()
    from failbrief.cli.preflight import require_migrated

    require_migrated()  # it only reads: no migrate (which on PostgreSQL would want the vault key)
    from failbrief.events.state import in_state, state_of, visible_events
    from failbrief.orgs.manage import OrgError, get_org

    try:
        org = get_org(org_slug) if org_slug else None
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    events = visible_events(org).order_by("-received_at", "-pk")
    if status:
        events = in_state(events, status)
    if since:
        events = events.filter(received_at__gte=since)
    rows = []
    for event in events[:limit]:
        state = state_of(event)
        rows.append(
            {
                "id": event.pk,
                "received_at": event.received_at.isoformat(),
                "flow_run_id": event.flow_run_id,
                "flow_run_name": event.flow_run_name,
                "prefect_state": event.state_name,
                "state": state.state,
                "reason": state.reason,
                "shape": event.shape,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    _table(rows)


def _table(rows: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    if not rows:
        console.print("no events")
        return
    table = Table(show_lines=False)
    table.add_column("received (UTC)")
    table.add_column("flow run / Prefect state", no_wrap=True, min_width=36)
    table.add_column("state", no_wrap=True)
    table.add_column("reason", overflow="fold", ratio=1)
    colour = {"done": "green", "failed": "red", "pending": "yellow", "retrying": "yellow"}
    for row in rows:
        # Names and reasons come from Prefect and from error messages: a "[/]" in them would be
        # read as markup (and stop the command), so everything but our own styling is escaped.
        text = {key: escape(str(value)) for key, value in row.items()}
        name = f"{text['flow_run_name']}, " if row["flow_run_name"] else ""
        state = str(row["state"])
        table.add_row(
            text["received_at"][:19].replace("T", " "),
            f"{text['flow_run_id']}\n[dim]{name}{text['prefect_state']}[/]",
            f"[{colour.get(state, 'white')}]{text['state']}[/]",
            text["reason"],
        )
    console.print(table)
