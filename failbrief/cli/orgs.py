"""failbrief org … / failbrief token …: manage orgs, their webhook keys and API tokens."""

from __future__ import annotations

import click

from failbrief.cli.django_setup import migrate, setup_django


def _ready() -> None:
    setup_django()
    migrate()


@click.group("org")
def org_group() -> None:
    """Organisations: who owns a run, who may read its summaries."""


@org_group.command("add")
@click.argument("slug")
@click.option("--name", default="", help="Display name (default: the slug).")
@click.option("--default", "is_default", is_flag=True, help="Runs no other rule matches belong to this org.")
@click.option(
    "--webhook-key", default=None, help="The org's own X-Notification-Key (use '-' to generate one)."
)
def add(slug: str, name: str, is_default: bool, webhook_key: str | None) -> None:
    """Create an org. A generated webhook key is printed once, on stdout."""
    _ready()
    from failbrief.orgs.manage import OrgError, add_org
    from failbrief.orgs.secrets import new_secret

    key = new_secret() if webhook_key == "-" else webhook_key
    try:
        org = add_org(slug, name=name, default=is_default, webhook_key=key)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created org {org.slug}{' (default)' if org.is_default else ''}", err=True)
    if webhook_key == "-":
        click.echo(key)


@org_group.command("list")
def list_orgs() -> None:
    """One line per org: slug, default flag, whether it has its own webhook key, token count."""
    _ready()
    from failbrief.orgs.models import Org

    for org in Org.objects.order_by("slug"):
        flags = [
            f for f, on in (("default", org.is_default), ("webhook-key", bool(org.webhook_key_hash))) if on
        ]
        click.echo(f"{org.slug}\t{','.join(flags) or '-'}\ttokens={org.tokens.count()}")


@org_group.command("map-deployment")
@click.argument("slug")
@click.argument("deployment_id")
def map_deployment_command(slug: str, deployment_id: str) -> None:
    """Runs of this Prefect deployment belong to the org."""
    _ready()
    from failbrief.orgs.manage import OrgError, get_org, map_deployment

    try:
        map_deployment(get_org(slug), deployment_id)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"deployment {deployment_id} → {slug}", err=True)


@click.group("token")
def token_group() -> None:
    """API tokens for the read API (Authorization: Bearer …)."""


@token_group.command("create")
@click.argument("slug")
@click.option("--label", default="", help="What the token is for.")
def create(slug: str, label: str) -> None:
    """Print a new token for the org on stdout (only the token, so scripts can capture it)."""
    _ready()
    from failbrief.orgs.manage import OrgError, create_token, get_org

    try:
        token = create_token(get_org(slug), label)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"token for {slug} (shown once):", err=True)
    click.echo(token)
