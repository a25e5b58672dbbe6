"""failbrief user …: people who sign in to the pages (docs/pages.md)."""

from __future__ import annotations

import click

from failbrief.cli.django_setup import migrate, setup_django


@click.group("user")
def user_group() -> None:
    """People who read the pages: invitations and org memberships."""


@user_group.command("invite")
@click.argument("slug")
@click.argument("email")
@click.option("--admin", is_flag=True, help="An admin of the org (regenerate, settings), not a member.")
def invite_command(slug: str, email: str, admin: bool) -> None:
    """Print a one-time sign-up link to the org's pages for EMAIL (valid FAILBRIEF_INVITE_TTL_HOURS,
    72 h by default), and email it too when email is configured (EMAIL_HOST). The link is printed
    once, on stdout; only its hash is stored. An earlier link for EMAIL to the org stops working."""
    setup_django()
    migrate()
    from failbrief.orgs.manage import OrgError, get_org
    from failbrief.pages.invites import (
        InviteError,
        create_invite,
        email_configured,
        email_invite,
        withdraw_invites,
    )

    address = email.strip().lower()
    try:
        org = get_org(slug)
        withdrawn = withdraw_invites(org, address)
        link = create_invite(org, email, admin=admin)
    except (OrgError, InviteError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"invited {address} to {slug} as {'admin' if admin else 'member'}", err=True)
    if withdrawn:
        roles = ", ".join(sorted(set(withdrawn)))
        click.echo(f"the earlier link for {address} ({roles}) stops working", err=True)
    if email_configured():
        failed = email_invite(org, address, link, admin)
        click.echo(f"not emailed ({failed}): pass the link on yourself" if failed else "emailed", err=True)
    click.echo(link)
