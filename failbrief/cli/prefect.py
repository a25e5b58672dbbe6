"""`failbrief setup-prefect` and `failbrief check-prefect`: install and inspect the Prefect automation
that posts failed flow runs to failbrief. The work is in failbrief/runs/automation.py."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

import click

from failbrief.cli.django_setup import migrate, setup_django
from failbrief.cli.prefect_fix import prefect_fix
from failbrief.lib.url_credentials import without_credentials, without_password
from failbrief.runs import automation
from failbrief.runs.automation import (
    ONCE,
    WEBHOOK_PATH,
    HookSpec,
    Installed,
    automation_name,
    check,
    install,
    prefect_http,
)
from failbrief.runs.diagnose import prefect_trouble
from failbrief.runs.errors import PrefectError

if TYPE_CHECKING:
    from failbrief.orgs.models import Org

# How long the old key of an org keeps working while its block is written: only until the command
# ends, but long enough to outlast a process killed mid-way (SIGKILL runs no cleanup).
STAGED_KEY_GRACE = timedelta(hours=24)
PREFECT_URL_HELP = "Prefect's REST API, ending in /api (default: PREFECT_API_URL)."


def base_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """A --public-url Prefect can post to: Prefect stores anything, then fails every call to a
    URL that is not one, once and silently (it never retries)."""
    if value is None:
        return None
    parts = urlsplit(value.strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise click.BadParameter(
            f"{value!r} is not an http(s) URL; give failbrief's base URL, e.g. https://failbrief.example.org"
        )
    if parts.query or parts.fragment or parts.path.rstrip("/").endswith(WEBHOOK_PATH.rstrip("/")):
        base = urlunsplit(
            parts._replace(path=parts.path.split(WEBHOOK_PATH.rstrip("/"))[0], query="", fragment="")
        )
        raise click.BadParameter(
            f"{value!r}: give failbrief's base URL, without a path to the webhook or a query "
            f"({base.rstrip('/')}); the webhook's path is added to it"
        )
    return value.strip().rstrip("/")


@click.command("setup-prefect")
@click.option("--prefect-url", default=None, help=PREFECT_URL_HELP)
@click.option(
    "--public-url",
    required=True,
    callback=base_url,
    help="failbrief's base URL as the Prefect server reaches it, e.g. https://failbrief.example.org.",
)
@click.option(
    "--org",
    "org_slug",
    default=None,
    help="Report as this org: the webhook carries its own key (a new one unless --webhook-key).",
)
@click.option("--webhook-key", default=None, help="With --org: the org's current key, kept as it is.")
@click.option("--deployed-only", is_flag=True, help="Only runs of deployments (skips subflows, ad-hoc runs).")
@click.option("--tag", "tags", multiple=True, help="Only runs carrying this tag (repeat for any of several).")
@click.option("--dry-run", is_flag=True, help="Print the JSON it would send, change nothing.")
def setup_prefect_command(
    prefect_url: str | None,
    public_url: str,
    org_slug: str | None,
    webhook_key: str | None,
    deployed_only: bool,
    tags: tuple[str, ...],
    dry_run: bool,
) -> None:
    """Create or update the Webhook block and the Automation that post every failed, crashed or
    timed-out flow run to failbrief. Running it again updates them in place: one block, one
    automation."""
    setup_django()
    quiet_http_log()
    from django.conf import settings

    if webhook_key and not org_slug:
        raise click.UsageError(
            "--webhook-key goes with --org; the global key is PREFECT_NOTIFICATIONS_WEBHOOK_KEY"
        )
    name = automation_name(org_slug)
    if dry_run:
        spec = HookSpec(public_url, "", name, deployed_only, tags)
        click.echo(json.dumps(automation.dry_run(spec), indent=2))
        return
    key, org = _webhook_key(org_slug, webhook_key, settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY)
    spec = HookSpec(public_url, key, name, deployed_only, tags)
    api_url = prefect_url or settings.PREFECT_API_URL
    staged = _StagedKey(org, key, rotated=org is not None and not webhook_key)
    try:
        with prefect_http(api_url, settings.PREFECT_API_KEY, settings.PREFECT_TIMEOUT_SECONDS) as http:
            done = install(http, spec, block_written=staged.block_written)
    except PrefectError as exc:
        staged.failed()
        raise click.ClickException(
            f"{prefect_trouble(without_password(api_url), exc)}; {prefect_fix(exc)}"
        ) from None
    except BaseException:  # Ctrl-C: the same, the org must not lose the key Prefect sends
        staged.failed()
        raise
    staged.done()
    _report(done, spec)


def _webhook_key(org_slug: str | None, given: str | None, global_key: str | None) -> tuple[str, Org | None]:
    """The key the block sends, and the org it is the key of (None: the global key). With an org,
    its own key: the given one, else a new one. Nothing is stored yet (see `_StagedKey`)."""
    if org_slug is None:
        if not global_key:
            raise click.ClickException(
                "PREFECT_NOTIFICATIONS_WEBHOOK_KEY is not set: set it, or use --org SLUG to give the "
                "org its own key"
            )
        return global_key, None
    migrate()
    from failbrief.orgs.manage import OrgError, get_org
    from failbrief.orgs.secrets import new_secret, secret_hash

    try:
        org = get_org(org_slug)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
    if given and org.webhook_key_hash and org.webhook_key_hash != secret_hash(given):
        raise click.ClickException(
            f"--webhook-key is not org {org_slug}'s key; leave it out to give the org a new one"
        )
    return given or new_secret(), org


class _StagedKey:
    """An org's key change that follows what Prefect's block sends. While the block is written
    failbrief accepts the new key and the old one (a failure Prefect reports meanwhile still
    carries the old). Once the block holds the new key, the old ones stop; if Prefect never took
    it, the org keeps its keys as they were, so its webhooks are not refused (401) meanwhile."""

    def __init__(self, org: Org | None, key: str, *, rotated: bool) -> None:
        self.org, self.key, self.rotated, self.written = org, key, rotated, False
        if org is None:
            return
        from failbrief.orgs.manage import set_webhook_key, webhook_keys

        self.before = webhook_keys(org)
        set_webhook_key(org, key, keep_current_for=STAGED_KEY_GRACE)

    def block_written(self) -> None:
        self.written = True
        if self.org is not None:
            from failbrief.orgs.manage import set_webhook_key

            set_webhook_key(self.org, self.key)

    def failed(self) -> None:
        if self.org is None:
            return
        from failbrief.orgs.manage import restore_webhook_keys

        if self.written:
            key = (
                "has a new webhook key: Prefect's block sends it" if self.rotated else "keeps its webhook key"
            )
            click.echo(
                f"org {self.org.slug} {key}, but the automation was not updated; run this again", err=True
            )
            return
        restore_webhook_keys(self.org, self.before)
        if self.rotated:
            click.echo(f"org {self.org.slug} keeps its webhook key: Prefect did not take a new one", err=True)

    def done(self) -> None:
        if self.org is not None and self.rotated:
            click.echo(
                f"org {self.org.slug} has a new webhook key (the block sends it; the old one stops working)",
                err=True,
            )


def quiet_http_log() -> None:
    # Every request would be an INFO line on stderr; the command prints what matters.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _report(done: Installed, spec: HookSpec) -> None:
    click.echo(f"webhook block {spec.name!r} {done.block} ({done.block_id})")
    click.echo(f"automation {spec.name!r} {done.automation} ({done.automation_id})")
    for extra in done.removed_duplicates:
        click.echo(f"removed a duplicate automation {spec.name!r} ({extra})")
    click.echo(f"Prefect posts failed flow runs to {spec.webhook_url}")


@click.command("check-prefect")
@click.option("--prefect-url", default=None, help=PREFECT_URL_HELP)
@click.option("--org", "org_slug", default=None, help="Check the automation set up with --org SLUG.")
@click.option(
    "--hours", default=24.0, show_default=True, help="How far back to look for failed webhook calls."
)
def check_prefect_command(prefect_url: str | None, org_slug: str | None, hours: float) -> None:
    """Is Prefect reachable, which version, is the automation there and enabled, and did any of its
    webhook calls fail lately (Prefect never retries them; the reconciler catches those runs).
    Exits 1 when something is wrong."""
    setup_django()
    quiet_http_log()
    from django.conf import settings

    if org_slug:
        _require_org(org_slug)
    api_url = prefect_url or settings.PREFECT_API_URL
    name = automation_name(org_slug)
    with prefect_http(api_url, settings.PREFECT_API_KEY, settings.PREFECT_TIMEOUT_SECONDS, ONCE) as http:
        health = check(http, name, since=timedelta(hours=hours))
    click.echo(
        f"Prefect API {without_credentials(api_url)}: {'reachable' if health.reachable else 'NOT reachable'}"
    )
    if health.version:
        click.echo(f"Prefect version: {health.version}")
    if health.automation_id:
        state = "enabled" if health.enabled else "DISABLED"
        click.echo(f"automation {name!r}: present, {state} ({health.automation_id})")
        click.echo(f"posts to: {without_credentials(health.webhook_url or 'unknown')}")
    click.echo(f"failed webhook calls in the last {hours:g} h: {len(health.failures)}")
    for failure in health.failures[:10]:
        click.echo(f"  {failure.occurred}  {failure.reason}")
    for problem in health.problems:
        click.echo(f"problem: {problem}", err=True)
    if health.problems:
        raise SystemExit(1)


def _require_org(slug: str) -> None:
    from failbrief.cli.preflight import require_migrated
    from failbrief.orgs.manage import OrgError, get_org

    require_migrated()  # it only reads: no migrate
    try:
        get_org(slug)
    except OrgError as exc:
        raise click.ClickException(str(exc)) from None
