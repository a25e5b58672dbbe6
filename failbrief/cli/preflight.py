"""Checks every server command runs before it starts a process, so the likely deployment mistakes
end in one line naming the variable and the fix, not in a child's traceback minutes later.

SECRET_KEY and malformed values are refused by settings.py itself (see `setup_django`); here we
check what only connecting or importing can tell: the database answers, and the broker URL's
transport can load in this installation."""

from __future__ import annotations

from urllib.parse import urlsplit

import click

from failbrief.lib.url_credentials import without_password


def require_database() -> None:
    """Exit with one line if the database refuses the connection."""
    from django.conf import settings
    from django.db import OperationalError, connection

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        reason = _first_line(exc)
        raise click.ClickException(
            f"DATABASE_URL: cannot connect to {without_password(settings.DATABASE_URL)} ({reason}); "
            "start the database or correct DATABASE_URL"
        ) from None
    finally:
        connection.close()


def require_migrated() -> None:
    """Exit with one line if the database does not answer or lacks tables: for the commands that
    only read, and so do not migrate (on PostgreSQL that would want the vault key)."""
    from django.conf import settings
    from django.db import DatabaseError, connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        where = without_password(settings.DATABASE_URL)
        raise click.ClickException(
            f"DATABASE_URL: cannot connect to {where} ({_first_line(exc)}); "
            "start the database or correct DATABASE_URL"
        ) from None
    if pending:
        raise click.ClickException(
            "the database has no tables yet (or lacks migrations): run 'failbrief migrate'"
        )


def require_vault_key() -> None:
    """Exit with one line if the stored secrets' key is missing or unusable.

    On PostgreSQL the processes may run on several hosts, and a key file in one host's var/ would
    leave every other host unable to decrypt what it sealed: the key must come from the shared
    environment (FAILBRIEF_VAULT_KEY)."""
    from django.conf import settings

    from failbrief.orgs.vault import VaultError, current_keys

    if not settings.VAULT_KEYS and not settings.USES_SQLITE and not settings.DEBUG:
        raise click.ClickException(
            "FAILBRIEF_VAULT_KEY is not set; a PostgreSQL deployment's hosts must share one vault key: "
            "make one with 'failbrief vault generate-key' and set it everywhere (docs/deploy.md)"
        )
    try:
        current_keys()
    except VaultError as exc:
        raise click.ClickException(f"vault: {exc}") from None


def require_shared_broker() -> None:
    """Exit with one line if a PostgreSQL deployment would use the embedded SQLite broker.

    Its file is in each host's var/: a web host would queue webhooks where the workers of the other
    hosts never look, and their summaries would never come, without a word anywhere."""
    from django.conf import settings

    if not settings.USES_SQLITE and settings.USES_EMBEDDED_BROKER and not settings.DEBUG:
        raise click.ClickException(
            "CELERY_BROKER_URL is not set; a PostgreSQL deployment needs a broker every host shares: "
            "set it to redis://… or amqp://… (docs/deploy.md)"
        )


def require_broker_transport() -> None:
    """Exit with one line if the broker URL names a transport this installation cannot load.

    A worker would otherwise die at start with an ImportError from deep inside kombu (a transport
    whose own dependency is missing), while the web server kept answering as if all were well."""
    from django.conf import settings
    from kombu.transport import resolve_transport

    url = settings.CELERY_BROKER_URL
    scheme = urlsplit(url).scheme
    try:
        resolve_transport(
            scheme.split("+")[0]
        )  # "sqla+sqlite": kombu's sqla transport; imports the transport's module, as a worker will
    except (ImportError, KeyError) as exc:
        raise click.ClickException(
            f"CELERY_BROKER_URL: the {scheme!r} transport of {without_password(url)} cannot load "
            f"({_first_line(exc)}); reinstall failbrief with its dependencies (pip install failbrief), "
            "or use redis://, amqp:// or the embedded sqla+sqlite:// broker"
        ) from None


def broker_problem() -> str | None:
    """Why the broker does not answer right now, or None. Not fatal: webhooks are stored in the
    database and re-enqueued once it answers, and workers keep retrying to connect."""
    from django.conf import settings

    from failbrief.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors
        return f"CELERY_BROKER_URL: {without_password(settings.CELERY_BROKER_URL)} does not answer ({exc})"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
