"""`failbrief backfill`: summarize the failed runs of a past window that have no summary yet. The work
is in failbrief/events/backfill.py; this module parses the window and shows the progress."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from failbrief.cli.django_setup import migrate, setup_django
from failbrief.cli.serve import count_in_the_hosts_metrics_dir
from failbrief.cli.when import past_option, when_option
from failbrief.lib.url_credentials import without_credentials

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress

    from failbrief.events.backfill import Outcome, Plan, PlannedRun
    from failbrief.runs.prefect import PrefectClient

INTERRUPTED = 130  # the shell's code for Ctrl-C


@click.command("backfill")
@click.option(
    "--since",
    required=True,
    metavar="WHEN",
    callback=past_option,
    help="Start of the window: 30m, 12h, 7d, 2w or an ISO date.",
)
@click.option(
    "--until",
    metavar="WHEN",
    callback=when_option,
    default=None,
    help="End of the window, the same forms (default: now).",
)
@click.option(
    "--org",
    "org_slug",
    metavar="SLUG",
    default=None,
    help="Only this org's runs; the others are counted and skipped.",
)
@click.option(
    "--dry-run", is_flag=True, help="List the failed runs found and what would happen to each; write nothing."
)
@click.option(
    "--max-per-minute", type=click.IntRange(min=1), metavar="N", default=None,
    help="Start at most N runs a minute (default: one at a time, no other limit).",
)  # fmt: skip
def backfill_command(
    since: datetime, until: datetime | None, org_slug: str | None, dry_run: bool, max_per_minute: int | None
) -> None:
    """Summarize the failed flow runs (Failed, Crashed, TimedOut, DBT_TEST_FAILED) that ended in the
    window and have no summary yet, one at a time, here rather than on a worker. Backfilled
    summaries send no notifications. Interrupted or stopped, the same command resumes; nothing is
    summarized twice. Exits 1 when a run could not be summarized."""
    until = until or datetime.now(UTC)
    if since >= until:
        raise click.BadParameter(
            f"{since:%Y-%m-%d %H:%M:%S} UTC is not before --until {until:%Y-%m-%d %H:%M:%S} UTC",
            param_hint="--since",
        )
    setup_django()
    if not dry_run:
        count_in_the_hosts_metrics_dir()  # first: before anything imports the metrics
    migrate()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per request would bury the progress
    from django.conf import settings

    from failbrief.events import backfill
    from failbrief.runs.configured import prefect_client
    from failbrief.runs.errors import PrefectError

    _check_org(org_slug)
    with prefect_client() as client:
        try:
            found = backfill.plan(client, since, until, org_slug)
        except PrefectError as exc:
            raise click.ClickException(
                f"Prefect at {without_credentials(settings.PREFECT_API_URL)}: {exc}; nothing was changed"
            ) from None
        _warn_if_incomplete(found)
        if dry_run:
            _print_plan(found)
            return
        _summarize(client, found, max_per_minute)


def _check_org(org_slug: str | None) -> None:
    from failbrief.orgs.models import Org

    if org_slug and not Org.objects.filter(slug=org_slug).exists():
        raise click.BadParameter(f"no org {org_slug!r} (failbrief org list)", param_hint="--org")


def _window(found: Plan) -> str:
    return f"{found.since:%Y-%m-%d %H:%M}..{found.until:%Y-%m-%d %H:%M} UTC"


def _found_line(found: Plan) -> str:
    from failbrief.events.backfill import Status

    counts = found.counts()
    parts = [f"{counts[status]} {status}" for status in Status if counts[status]]
    return f"{len(found.runs)} failed runs in {_window(found)}" + (f": {', '.join(parts)}" if parts else "")


def _warn_if_incomplete(found: Plan) -> None:
    if not found.complete:
        click.echo(
            "warning: Prefect holds more failed runs with one end time than it answers at once; some "
            "were not read. Run again with an --until just before that time.",
            err=True,
        )


def _print_plan(found: Plan) -> None:
    """The table: one line per run, oldest first, then the counts."""
    rows = [("ended (UTC)", "status", "org", "flow run", "name", "note")]
    for planned in found.runs:
        ended = f"{planned.run.end_time:%Y-%m-%d %H:%M:%S}" if planned.run.end_time else "-"
        rows.append(
            (ended, planned.status, planned.org or "-", planned.run.id, planned.run.name, planned.note)
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        click.echo(
            "  ".join([*(cell.ljust(w) for cell, w in zip(row, widths, strict=False)), row[-1]]).rstrip()
        )
    click.echo(_found_line(found))


def _summarize(client: PrefectClient, found: Plan, max_per_minute: int | None) -> None:
    from rich.console import Console

    from failbrief.events.backfill import BackfillStopped

    console = Console(stderr=True, highlight=False)
    console.print(_found_line(found), markup=False, soft_wrap=True)
    tally: Counter[str] = Counter()
    stopped = ""
    try:
        if found.todo:
            _summarize_todo(client, found.todo, max_per_minute, console, tally)
    except BackfillStopped as exc:
        stopped = f"stopped: {exc}"
    except KeyboardInterrupt:
        stopped = "interrupted"
    _finish(found, tally, stopped)


def _summarize_todo(
    client: PrefectClient,
    todo: list[PlannedRun],
    max_per_minute: int | None,
    console: Console,
    tally: Counter[str],
) -> None:
    """One line per run above the bar; `tally` counts the outcomes, also when interrupted."""
    from failbrief.events.backfill import summarize_each

    with _logs_through(console), _progress(console) as progress:
        bar = progress.add_task("", total=len(todo), summarized=0, skipped=0, failed=0)

        def starting(planned: PlannedRun) -> None:
            progress.update(bar, description=planned.run.name or planned.run.id[:8])

        for planned, outcome in summarize_each(
            client, todo, max_per_minute=max_per_minute, on_start=starting
        ):
            tally[outcome.kind] += 1
            summarized, skipped, failed = tally["summarized"], tally["skipped"], tally["failed"]
            progress.update(bar, advance=1, summarized=summarized, skipped=skipped, failed=failed)
            console.print(_outcome_line(planned, outcome), markup=False, soft_wrap=True)
        progress.update(bar, description="done")


@contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    counts = (
        "{task.fields[summarized]} summarized, {task.fields[skipped]} skipped, {task.fields[failed]} failed"
    )
    with Progress(
        TextColumn("{task.description:.24}"),
        BarColumn(bar_width=24),
        MofNCompleteColumn(),
        TextColumn(counts),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console,
    ) as progress:
        yield progress


@contextmanager
def _logs_through(console: Console) -> Iterator[None]:
    """Log records go above the bar instead of through it; INFO lines (one per step of every run)
    are left out unless LOG_LEVEL=DEBUG asked for everything."""
    root = logging.getLogger()
    level = logging.WARNING if root.level >= logging.INFO else root.level
    saved = root.handlers[:]
    root.handlers = [_ConsoleHandler(console, level)]
    try:
        yield
    finally:
        root.handlers = saved


class _ConsoleHandler(logging.Handler):
    def __init__(self, console: Console, level: int) -> None:
        super().__init__(level)
        self.console = console
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.console.print(self.format(record), markup=False, highlight=False, soft_wrap=True)


def _outcome_line(planned: PlannedRun, outcome: Outcome) -> str:
    return f"{outcome.kind:<10} {planned.run.id}  {planned.run.name}  {outcome.reason}"


def _finish(found: Plan, tally: Counter[str], stopped: str) -> None:
    from failbrief.events.backfill import Status

    skipped_before = sum(n for status, n in found.counts().items() if status is not Status.TO_SUMMARIZE)
    left = len(found.todo) - sum(tally.values())
    click.echo(
        f"backfill {_window(found)}: {tally['summarized']} summarized, "
        f"{tally['skipped'] + skipped_before} skipped, {tally['failed']} failed"
        + (f", {left} not reached" if left else "")
    )
    if stopped:
        click.echo(f"{stopped}. Run the same command again to resume: done runs are skipped.", err=True)
        raise SystemExit(INTERRUPTED if stopped == "interrupted" else 1)
    if tally["failed"]:
        raise SystemExit(1)
