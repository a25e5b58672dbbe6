"""`failbrief check`: what is misconfigured, each with its fix. Exit 1 when anything is.

It checks what stops a failure from becoming a summary: the database, the broker and the vault
key (as the servers check them before they start), a webhook key (without one every webhook is
refused), Prefect at PREFECT_API_URL (reachable, the key accepted) and failbrief's automations
there (enabled, posting to failbrief's webhook with a key it accepts, their recent calls delivered:
check_automation.py)."""

from __future__ import annotations

import click
from rich.console import Console

from failbrief.cli.django_setup import setup_django
from failbrief.cli.finding import Finding
from failbrief.cli.prefect import base_url
from failbrief.cli.prefect_fix import prefect_fix
from failbrief.runs.errors import PrefectError

# PostgreSQL's connect timeout during the check; psycopg's own default waits 130 s on a host that
# drops packets, and a person is waiting for the verdict.
DATABASE_CONNECT_SECONDS = 5


@click.command("check")
@click.option(
    "--prefect-url", default=None, help="Prefect's REST API, ending in /api (default: PREFECT_API_URL)."
)
@click.option(
    "--public-url",
    default=None,
    callback=base_url,
    help="failbrief's base URL as the Prefect server reaches it: the automations must post there.",
)
def check_command(prefect_url: str | None, public_url: str | None) -> None:
    """Tell what is misconfigured, each with its fix: the database, the broker, the vault key, the
    webhook key, Prefect (reachable, the API key accepted) and failbrief's automations in it
    (enabled, posting to failbrief's webhook with a key it accepts, no failed call lately). Exits 1
    when anything is wrong."""
    setup_django()
    from django.conf import settings

    from failbrief.cli.prefect import quiet_http_log

    quiet_http_log()
    api_url = prefect_url or settings.PREFECT_API_URL
    database = _database()
    findings = [
        database,
        _broker(),
        _vault_key(database.ok),
        _webhook_key(database.ok),
        *_prefect(api_url, public_url, database.ok),
    ]
    out = Console(highlight=False, soft_wrap=True)
    for finding in findings:
        mark = "[green]ok     [/]" if finding.ok else "[red]PROBLEM[/]"
        out.print(f"{mark} {finding.what}: {finding.detail}")
        if finding.fix:
            out.print(f"        fix: {finding.fix}")
    problems = sum(1 for f in findings if not f.ok)
    if problems:
        out.print(f"{problems} problem(s)")
        raise SystemExit(1)
    out.print("all good: failed Prefect runs reach failbrief and get summarized")


def _database() -> Finding:
    from django.conf import settings
    from django.db import OperationalError, connection
    from django.db.migrations.executor import MigrationExecutor

    from failbrief.lib.url_credentials import without_password

    where = without_password(settings.DATABASE_URL)
    if not settings.USES_SQLITE:
        connection.settings_dict.setdefault("OPTIONS", {})["connect_timeout"] = DATABASE_CONNECT_SECONDS
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except OperationalError as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        fix = "start it, or correct DATABASE_URL"
        if "timeout" in reason.lower():
            detail = f"{where} did not answer within {DATABASE_CONNECT_SECONDS} s"
        else:
            detail = f"{where} refused ({reason})"
        return Finding("database", False, detail, fix)
    finally:
        connection.close()
    if pending:
        return Finding(
            "database", False, f"{where} lacks {len(pending)} migration(s)", "run 'failbrief migrate'"
        )
    return Finding("database", True, f"{where} answers, tables up to date")


REFUSED_START = "failbrief web, worker and beat refuse to start until then"


def _broker() -> Finding:
    from django.conf import settings

    from failbrief.cli.preflight import broker_problem, require_broker_transport
    from failbrief.lib.url_credentials import without_password

    if not settings.USES_SQLITE and settings.USES_EMBEDDED_BROKER and not settings.DEBUG:
        # The embedded broker answers here, but its file is this host's: the same refusal as the servers'.
        detail = "CELERY_BROKER_URL is not set; a PostgreSQL deployment needs a broker every host shares"
        return Finding("broker", False, detail, f"set it to redis://… or amqp://… ({REFUSED_START})")
    try:
        require_broker_transport()
    except click.ClickException as exc:
        return Finding("broker", False, exc.message.removeprefix("CELERY_BROKER_URL: "), REFUSED_START)
    problem = broker_problem()
    if problem:
        fix = "start the broker, or correct CELERY_BROKER_URL; webhooks are stored meanwhile, not summarized"
        return Finding("broker", False, problem.removeprefix("CELERY_BROKER_URL: "), fix)
    return Finding("broker", True, f"{without_password(settings.CELERY_BROKER_URL)} answers")


def _vault_key(database_ok: bool) -> Finding:
    """The key of the stored secrets, as the servers check it before they start."""
    from django.conf import settings

    from failbrief.orgs.vault import VaultError, current_keys

    what = "vault key"
    if not settings.VAULT_KEYS:
        if not settings.USES_SQLITE and not settings.DEBUG:
            detail = "FAILBRIEF_VAULT_KEY is not set; a PostgreSQL deployment's hosts must share one"
            fix = f"make one with 'failbrief vault generate-key' and set it on every host ({REFUSED_START})"
            return Finding(what, False, detail, fix)
        if not settings.VAULT_KEY_FILE.exists():  # made on first start; check writes nothing
            return Finding(what, True, f"{settings.VAULT_KEY_FILE} is made on first start")
    source = "FAILBRIEF_VAULT_KEY" if settings.VAULT_KEYS else str(settings.VAULT_KEY_FILE)
    try:
        current_keys()
    except VaultError as exc:
        return Finding(what, False, str(exc), f"correct {source} ({REFUSED_START})")
    if database_ok:
        from failbrief.orgs.vault_rotate import legacy_secrets, sealed_with_another_key

        waiting = len(legacy_secrets())
        if waiting:
            detail = f"{waiting} stored secret(s) are still under the key derived from SECRET_KEY"
            return Finding(what, False, detail, f"run 'failbrief migrate' ({REFUSED_START})")
        foreign = sealed_with_another_key()
        if foreign:
            detail = (
                f"{source} decrypts none of the {foreign} stored secret(s): not the key they were sealed with"
            )
            return Finding(what, False, detail, f"set the key the other hosts use ({REFUSED_START})")
    return Finding(what, True, f"{source} reads the stored secrets")


def _webhook_key(database_ok: bool) -> Finding:
    from django.conf import settings

    if settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY:
        return Finding("webhook key", True, "PREFECT_NOTIFICATIONS_WEBHOOK_KEY is set")
    fix = (
        "set PREFECT_NOTIFICATIONS_WEBHOOK_KEY (then run setup-prefect so Prefect sends it), or give an "
        "org its own: 'failbrief setup-prefect --org SLUG --public-url URL'"
    )
    if not database_ok:
        return Finding("webhook key", False, "no global key, and orgs' own keys cannot be read", fix)
    from failbrief.orgs.models import Org

    slugs = list(Org.objects.exclude(webhook_key_hash=None).order_by("slug").values_list("slug", flat=True))
    if slugs:
        return Finding("webhook key", True, f"no global key; org(s) {', '.join(slugs)} have their own")
    return Finding("webhook key", False, "none: the webhook endpoint refuses every request (503)", fix)


def _prefect(api_url: str, public_url: str | None, database_ok: bool) -> list[Finding]:
    from django.conf import settings

    from failbrief.cli.check_automation import automation_findings
    from failbrief.lib.url_credentials import without_password
    from failbrief.runs.automation import ONCE, prefect_http
    from failbrief.runs.diagnose import prefect_trouble

    shown = without_password(api_url)  # a proxy's basic auth may be in it; this output gets pasted
    with prefect_http(api_url, settings.PREFECT_API_KEY, settings.PREFECT_TIMEOUT_SECONDS, ONCE) as http:
        try:
            version = http.call("GET", "admin/version")
        except PrefectError as exc:
            return [Finding("Prefect", False, prefect_trouble(shown, exc), prefect_fix(exc))]
        found = Finding("Prefect", True, f"{shown} answers (version {version})")
        try:
            return [found, *automation_findings(http, public_url, database_ok)]
        except PrefectError as exc:
            return [found, Finding("automation", False, prefect_trouble(shown, exc), prefect_fix(exc))]
