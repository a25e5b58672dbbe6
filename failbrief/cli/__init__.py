"""The `failbrief` command: a click group, one module per command group."""

from __future__ import annotations

import click

from failbrief.cli.orgs import org_group, token_group
from failbrief.cli.serve import beat_command, migrate_command, run_command, web_command, worker_command


@click.group()
def main() -> None:
    """failbrief: root-cause summaries of failed pipeline runs."""


main.add_command(org_group)
main.add_command(token_group)
main.add_command(run_command)
for _server_command in (migrate_command, web_command, worker_command, beat_command):
    main.add_command(_server_command)

from failbrief.cli.logs import condense_command, summarize_command  # noqa: E402

main.add_command(condense_command)
main.add_command(summarize_command)

from failbrief.cli.prefect import check_prefect_command, setup_prefect_command  # noqa: E402

main.add_command(setup_prefect_command)
main.add_command(check_prefect_command)

from failbrief.cli.channels import channel_group, notifications_command  # noqa: E402

main.add_command(channel_group)
main.add_command(notifications_command)

from failbrief.cli.backfill import backfill_command  # noqa: E402

main.add_command(backfill_command)

from failbrief.cli.vault import vault_group  # noqa: E402

main.add_command(vault_group)

from failbrief.cli.users import user_group  # noqa: E402

main.add_command(user_group)

from failbrief.cli.demo import demo_command  # noqa: E402

main.add_command(demo_command)

from failbrief.cli.check import check_command  # noqa: E402

main.add_command(check_command)

from failbrief.cli.events import events_command  # noqa: E402

main.add_command(events_command)
