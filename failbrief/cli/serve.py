"""The server processes.

`failbrief run` (what `make run` starts): migrate, bootstrap a first org, then the web server, a
worker with beat and a notification worker, in the foreground; Ctrl-C stops all of them.
Production runs the same pieces as separate processes, one systemd unit or Procfile line each
(docs/deploy.md): `failbrief migrate` once per release, then `failbrief web`, `failbrief worker
--queues celery` and `failbrief worker --queues notify` (as many as needed, on any host) and
exactly one `failbrief beat`. Each checks the configuration first and then becomes the real
gunicorn or Celery process (exec), so the supervisor's signals reach it directly."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import click

from failbrief.cli.django_setup import migrate, setup_django
from failbrief.cli.preflight import (
    broker_problem,
    require_broker_transport,
    require_database,
    require_shared_broker,
    require_vault_key,
)

HOST_OPTION = click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), help="Address to bind (env HOST)."
)


def gunicorn_args(bind: str, workers: int, threads: int) -> list[str]:
    # gthread: a client that sends its request slowly holds one thread, not a whole worker, and
    # gunicorn parks connections that have sent nothing yet. Production still sits behind a
    # buffering proxy (docs/deploy.md), which absorbs slow clients before they reach us.
    return [
        "gunicorn",
        "failbrief.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
    ]


# gunicorn takes 0 workers (it listens and never answers) and 0 threads (each worker dies at start).
POSITIVE = click.IntRange(min=1)

QUEUES = ("celery", "notify")  # settings.CELERY_TASK_DEFAULT_QUEUE, settings.NOTIFY_QUEUE
POOLS = ("prefork", "threads", "solo")


def worker_args(
    concurrency: int,
    queues: Sequence[str] = QUEUES,
    pool: str = "prefork",
    beat_schedule: str | None = None,
) -> list[str]:
    args = ["celery", "-A", "failbrief.celery", "worker", "--loglevel", "INFO"]
    # The node name says what the worker takes, so two workers on one host do not share a name.
    args += ["--queues", ",".join(queues), "--hostname", f"{'-'.join(queues)}@%h"]
    args += ["--pool", pool, "--concurrency", str(concurrency)]
    if beat_schedule is not None:
        args += ["--beat", "--schedule", beat_schedule]
    return args


def _queue_list(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[str, ...]:
    queues = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
    unknown = [queue for queue in queues if queue not in QUEUES]
    if not queues or unknown:
        raise click.BadParameter(f"a comma-separated list of {', '.join(QUEUES)}, not {value!r}")
    return queues


def beat_args(schedule: str) -> list[str]:
    return ["celery", "-A", "failbrief.celery", "beat", "--loglevel", "INFO", "--schedule", schedule]


@click.command("run")
@HOST_OPTION
@click.option("--web-workers", default=2, type=POSITIVE, show_default=True, help="gunicorn worker processes.")
@click.option("--threads", default=4, type=POSITIVE, show_default=True, help="Threads per gunicorn worker.")
@click.option("--concurrency", default=2, show_default=True, help="Celery worker processes.")
@click.option(
    "--notify-concurrency", default=8, show_default=True, help="Threads of the notification worker."
)
def run_command(host: str, web_workers: int, threads: int, concurrency: int, notify_concurrency: int) -> None:
    """Serve failbrief on $PORT (default 8000): web server, workers and beat.

    One Celery worker takes webhooks and summaries and runs beat; another, a thread pool, only sends
    notifications, so a summary never waits behind a channel that hangs."""
    from django.conf import settings

    _preflight(check_migrated=False)  # it migrates itself
    migrate(verbosity=1)
    _first_start_bootstrap()
    _warn_if_broker_down()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_fresh_metrics_dir())  # the children inherit it
    bind = f"{host}:{settings.PORT}"
    # Two workers. The first takes the default queue (webhooks, summaries) and runs beat; the
    # second only sends notifications. One worker on both queues would not do: when every one of
    # its slots holds a send to a receiver that hangs, the next summary waits (it waited 97 s
    # behind ten such channels). Here no slot of the first is ever given to a send. Sends wait on
    # the network, not the CPU, so the second is a thread pool: 8 threads cost little, and an org
    # whose channels hang holds at most FAILBRIEF_NOTIFY_ORG_CONCURRENCY (4) of them.
    beat = settings.CELERY_BEAT_SCHEDULE_FILENAME
    children = [
        _spawn(gunicorn_args(bind, web_workers, threads)),
        _spawn(worker_args(concurrency, [settings.CELERY_TASK_DEFAULT_QUEUE], beat_schedule=beat)),
        _spawn(worker_args(notify_concurrency, [settings.NOTIFY_QUEUE], pool="threads")),
    ]
    click.echo(f"failbrief on http://{bind}  (API docs: http://{bind}/api/docs; Ctrl-C stops)", err=True)
    sys.exit(_supervise(children))


@click.command("migrate")
def migrate_command() -> None:
    """Create or update the database tables; run once per release, before the other processes."""
    _preflight(check_migrated=False)
    migrate(verbosity=1)


@click.command("web")
@HOST_OPTION
@click.option("--workers", default=2, type=POSITIVE, show_default=True, help="gunicorn worker processes.")
@click.option("--threads", default=4, type=POSITIVE, show_default=True, help="Threads per gunicorn worker.")
def web_command(host: str, workers: int, threads: int) -> None:
    """The web server alone (gunicorn on $HOST:$PORT): webhooks, API, /healthz, /metrics."""
    from django.conf import settings

    _preflight()
    _warn_if_broker_down()
    _share_metrics_dir()
    _exec(gunicorn_args(f"{host}:{settings.PORT}", workers, threads))


@click.command("worker")
@click.option("--concurrency", default=2, show_default=True, help="Celery worker processes (or threads).")
@click.option(
    "--queues",
    default=",".join(QUEUES),
    show_default=True,
    callback=_queue_list,
    help="The queues it takes: celery (webhooks, summaries), notify (notification sends).",
)
@click.option(
    "--pool",
    type=click.Choice(POOLS),
    default="prefork",
    show_default=True,
    help="threads suits a notify worker: its tasks wait on the network.",
)
def worker_command(concurrency: int, queues: tuple[str, ...], pool: str) -> None:
    """A Celery worker alone; run as many as needed, on any host sharing the database and broker.
    In production run separate workers for `--queues celery` and `--queues notify`, so summaries
    never wait behind notifications (docs/deploy.md)."""
    _preflight()
    _warn_if_broker_down()
    _share_metrics_dir()
    _exec(worker_args(concurrency, queues, pool))


@click.command("beat")
def beat_command() -> None:
    """The scheduler alone (re-enqueue, reconcile, stuck rows); run exactly one per deployment."""
    from django.conf import settings

    _preflight()
    _warn_if_broker_down()
    _exec(beat_args(settings.CELERY_BEAT_SCHEDULE_FILENAME))


def _preflight(check_migrated: bool = True) -> None:
    # Everything the servers write (databases, the key, beat's schedule, metrics) is the service
    # user's alone; gunicorn and Celery inherit this when they replace or follow this process.
    os.umask(0o077)
    setup_django()
    require_vault_key()
    require_shared_broker()
    require_database()
    require_broker_transport()
    if check_migrated:
        _require_migrated()


def _require_migrated() -> None:
    from django.conf import settings
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    from failbrief.orgs.vault_rotate import legacy_secrets, sealed_with_another_key

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    # Separate processes on several hosts must not race each other to migrate: one release step does.
    if pending:
        connection.close()
        raise click.ClickException(
            f"the database is missing {len(pending)} migration(s); run 'failbrief migrate' first"
        )
    table = settings.CACHE_TABLE
    if table and table not in connection.introspection.table_names():
        connection.close()
        raise click.ClickException("the database has no rate-limit table; run 'failbrief migrate' first")
    waiting = legacy_secrets()
    foreign = 0 if waiting else sealed_with_another_key()
    connection.close()
    if waiting:
        raise click.ClickException(
            f"{len(waiting)} stored secret(s) are still under the key derived from SECRET_KEY; "
            "run 'failbrief migrate' first"
        )
    if foreign:
        raise click.ClickException(
            f"FAILBRIEF_VAULT_KEY decrypts none of the {foreign} stored secret(s): it is not the key they "
            "were sealed with; set the key the other hosts use (docs/deploy.md)"
        )


def _warn_if_broker_down() -> None:
    problem = broker_problem()
    if problem:
        click.echo(f"warning: {problem}; webhooks are stored and will be processed once it answers", err=True)


def _first_start_bootstrap() -> None:
    from django.conf import settings

    from failbrief.orgs.manage import add_org, create_token
    from failbrief.orgs.models import Org
    from failbrief.orgs.secrets import new_secret

    if Org.objects.exists():
        return
    key = None if settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY else new_secret()
    org = add_org("default", name="Default org", default=True, webhook_key=key)
    token = create_token(org, "created by failbrief run")
    click.echo("First start: created org 'default' (runs that match no other org belong to it).", err=True)
    if key:
        click.echo(f"  webhook key (X-Notification-Key): {key}", err=True)
    else:
        click.echo("  webhook key: PREFECT_NOTIFICATIONS_WEBHOOK_KEY", err=True)
    click.echo(f"  API token (Authorization: Bearer …): {token}", err=True)
    click.echo("  These are shown once; make more with 'failbrief token create default'.", err=True)
    click.echo(
        "  Pages for people (docs/pages.md): 'failbrief user invite default YOU@EXAMPLE.ORG --admin' "
        "prints your sign-up link.",
        err=True,
    )


def _fresh_metrics_dir() -> Path:
    """Where every child keeps its counters, so the web server's /metrics sums the worker's too.
    A previous run's files would add its counts to this run's, so they go."""
    from django.conf import settings

    folder = Path(settings.METRICS_MULTIPROC_DIR or settings.VAR_DIR / "metrics")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    return folder


def _share_metrics_dir() -> None:
    """`failbrief web` and `failbrief worker`: count in PROMETHEUS_MULTIPROC_DIR, by default
    $FAILBRIEF_VAR_DIR/metrics. Without it each gunicorn worker served only its own counts (a scrape
    showed whichever worker answered) and no worker's counts were served at all; with it the web
    server sums every process of the host that shares the directory. Not emptied here, unlike
    `failbrief run`: another process of the host may be counting in it, and an exited process's
    files only keep the counters going on from where they were."""
    from django.conf import settings

    if settings.METRICS_MULTIPROC_DIR:  # the operator's; settings.py has made it
        return
    folder = _host_metrics_dir("so /metrics shows only the counts of the process that answers")
    if folder is not None:
        # Read by prometheus_client in the exec'd process.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def count_in_the_hosts_metrics_dir() -> None:
    """A command that summarizes in its own process (`failbrief backfill`) counts in the host's
    directory too, as a worker does, so the web server's /metrics serves its summaries, LLM calls,
    tokens and cost; in its memory they were lost when it exited. Call it before anything imports
    failbrief.metrics.registry, which reads the variable once. Only in a directory this user owns:
    run as another user (root), its files could be unreadable to the web server, and then every
    scrape would fail."""
    from django.conf import settings

    # The operator's variable: prometheus_client reads it already. Or the series exist already, in
    # memory (a command run inside another program, a test's CliRunner): too late to move them.
    if settings.METRICS_MULTIPROC_DIR or "failbrief.metrics.registry" in sys.modules:
        return
    unserved = "so this command's counts (summaries, LLM calls, tokens, cost) are not served by /metrics"
    folder = _host_metrics_dir(unserved)
    if folder is None:
        return
    owner = folder.stat().st_uid
    if owner != os.geteuid() or not os.access(folder, os.W_OK):
        click.echo(
            f"warning: {folder} belongs to {_user_name(owner)}, not this user, {unserved}; run the command "
            f"as {_user_name(owner)} (docs/metrics.md)",
            err=True,
        )
        return
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(folder)


def _host_metrics_dir(unserved: str) -> Path | None:
    """$FAILBRIEF_VAR_DIR/metrics, made if missing; None, with a warning, when it cannot be."""
    from django.conf import settings

    folder = Path(settings.VAR_DIR) / "metrics"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # e.g. the default var/ beside a read-only install
        click.echo(
            f"warning: cannot create {folder} ({exc.strerror}), {unserved}; set FAILBRIEF_VAR_DIR or "
            "PROMETHEUS_MULTIPROC_DIR (docs/metrics.md)",
            err=True,
        )
        return None
    return folder


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:  # a container's user without a passwd entry
        return f"uid {uid}"


def _executable(program: str) -> str:
    return os.path.join(os.path.dirname(sys.executable), program)


def _exec(args: list[str]) -> None:
    os.execv(_executable(args[0]), [_executable(args[0]), *args[1:]])  # noqa: S606 (fixed argv, no shell)


def _spawn(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([_executable(args[0]), *args[1:]])


def _supervise(children: list[subprocess.Popen[bytes]]) -> int:
    """Wait until Ctrl-C/SIGTERM or until one child exits, then stop the others."""
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    while not stopping and all(child.poll() is None for child in children):
        time.sleep(0.2)
    for child in children:
        if not stopping and child.poll() is not None:
            # Otherwise the others stop without a word and the cause is lost in their output.
            argv = [str(part) for part in child.args] if isinstance(child.args, list) else [str(child.args)]
            name = " ".join(Path(part).name for part in argv[:4])
            click.echo(f"failbrief: {name} exited with code {child.returncode}; stopping the rest", err=True)
    for child in children:
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return 0 if stopping else 1
