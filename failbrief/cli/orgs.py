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
    from failbrief.orgs.models import Org
    from failbrief.orgs.secrets import new_secret

    key = new_secret() if webhook_key == "-" else webhook_key
    before = (
        Org.objects.filter(is_default=True).values_list("slug", flat=True).first() if is_default else None
    )
    try:
        org = add_org(slug, name=name, default=is_default, webhook_key=key)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"created org {org.slug}{' (default)' if org.is_default else ''}", err=True)
    if before:
        click.echo(
            f"org {before} is no longer the default: runs no other rule matches now belong to {org.slug}",
            err=True,
        )
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
    """Runs of this Prefect deployment belong to the org. DEPLOYMENT_ID is its id (a UUID), not its
    name."""
    _ready()
    from failbrief.orgs.manage import OrgError, get_org, map_deployment

    try:
        stored = map_deployment(get_org(slug), deployment_id)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"deployment {stored} → {slug}", err=True)


@org_group.command("set")
@click.argument("slug")
@click.option(
    "--llm-provider", default=None, help="offline, openai or anthropic ('' = the global LLM_PROVIDER)."
)
@click.option("--llm-model", default=None, help="Model name ('' = the global LLM_MODEL).")
@click.option(
    "--airbyte-url", default=None, help="The org's Airbyte Config API, e.g. http://airbyte:8000/api/v1."
)
@click.option(
    "--airbyte-token", default=None, help="Its token, stored encrypted and never shown ('' removes it)."
)
def set_command(
    slug: str,
    llm_provider: str | None,
    llm_model: str | None,
    airbyte_url: str | None,
    airbyte_token: str | None,
) -> None:
    """Change an org's LLM and Airbyte settings."""
    _ready()
    from failbrief.orgs.manage import OrgError, get_org, set_airbyte, set_llm

    try:
        org = get_org(slug)
        if llm_provider is not None or llm_model is not None:
            set_llm(org, provider=llm_provider, model=llm_model)
        if airbyte_url is not None or airbyte_token is not None:
            set_airbyte(org, url=airbyte_url, token=airbyte_token)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"updated org {slug}", err=True)


@org_group.command("optin")
@click.argument("slug")
@click.option("--by", "by", required=True, help="Who decides (an email), recorded with the time.")
@click.option("--off", is_flag=True, help="Opt out again: no more logs go to an LLM.")
def optin_command(slug: str, by: str, off: bool) -> None:
    """Let this org's (redacted, condensed) logs go to the configured LLM."""
    _ready()
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email

    from failbrief.orgs.manage import OrgError, get_org, set_llm_optin

    try:
        validate_email(by.strip())
    except ValidationError:
        # The record answers "who let our logs go to an LLM?" later: a person one can write to.
        raise click.ClickException(f"--by: {by!r} is not an email address") from None
    try:
        set_llm_optin(get_org(slug), not off, by.strip())
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"org {slug}: LLM use {'off' if off else 'on'} (by {by})", err=True)


@click.group("token")
def token_group() -> None:
    """API tokens (Authorization: Bearer …): an org's own, or a platform's that acts for any org."""


@token_group.command("create")
@click.argument("slug", required=False)
@click.option(
    "--platform",
    default=None,
    metavar="NAME",
    help="A platform token instead (e.g. dalgo): it acts for the org each request names in "
    "X-Failbrief-Org or x-dalgo-org. Give no SLUG with it.",
)
@click.option("--label", default="", help="What the token is for.")
def create(slug: str | None, platform: str | None, label: str) -> None:
    """Print a new token for the org SLUG (or the platform) on stdout, only the token, so scripts can
    capture it. It is shown once; only its hash is stored."""
    if (slug is None) == (platform is None):
        raise click.UsageError("give either an org SLUG or --platform NAME")
    _ready()
    from failbrief.orgs.manage import OrgError, create_platform_token, create_token, get_org

    try:
        token = (
            create_platform_token(platform, label) if platform else create_token(get_org(str(slug)), label)
        )
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    owner = f"platform {platform} (acts for any org it names)" if platform else slug
    click.echo(f"token for {owner} (shown once):", err=True)
    click.echo(token)


@token_group.command("list")
def list_tokens_command() -> None:
    """One line per token: prefix, owner (org:SLUG or platform:NAME), created, label. Never the token."""
    _ready()
    from failbrief.orgs.manage import list_tokens

    for token in list_tokens():
        created = token.created_at.strftime("%Y-%m-%d %H:%M")
        click.echo(f"{token.prefix}\t{token.owner}\t{created}\t{token.label or '-'}")


@token_group.command("revoke")
@click.argument("token")
def revoke_command(token: str) -> None:
    """Delete a token (org or platform), given whole or as the prefix 'token list' shows. Requests
    with it are refused (401) from then on."""
    _ready()
    from failbrief.orgs.manage import OrgError, revoke_token

    try:
        gone = revoke_token(token)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {gone.prefix}… ({gone.owner})", err=True)
