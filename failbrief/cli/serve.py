"""failbrief run: migrate, bootstrap a first org, then the web server, a worker and beat, in the
foreground. Ctrl-C stops all three."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import click

from failbrief.cli.django_setup import migrate, setup_django


@click.command("run")
@click.option(
    "--host", default=lambda: os.environ.get("HOST", "127.0.0.1"), help="Address to bind (env HOST)."
)
@click.option("--web-workers", default=2, show_default=True, help="gunicorn worker processes.")
@click.option("--concurrency", default=2, show_default=True, help="Celery worker processes.")
def run_command(host: str, web_workers: int, concurrency: int) -> None:
    """Serve failbrief on $PORT (default 8000) with one Celery worker and beat."""
    setup_django()
    from django.conf import settings

    migrate(verbosity=1)
    _first_start_bootstrap()
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(_fresh_metrics_dir())  # the children inherit it
    bind = f"{host}:{settings.PORT}"
    children = [
        _spawn(
            "gunicorn",
            "failbrief.wsgi:application",
            "--bind",
            bind,
            "--workers",
            str(web_workers),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ),
        _spawn(
            "celery",
            "-A",
            "failbrief.celery",
            "worker",
            "--beat",
            "--loglevel",
            "INFO",
            "--concurrency",
            str(concurrency),
            "--schedule",
            settings.CELERY_BEAT_SCHEDULE_FILENAME,
        ),
    ]
    click.echo(f"failbrief on http://{bind}  (API docs: http://{bind}/api/docs; Ctrl-C stops)", err=True)
    sys.exit(_supervise(children))


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


def _fresh_metrics_dir() -> Path:
    """Where every child keeps its counters, so the web server's /metrics sums the worker's too.
    A previous run's files would add its counts to this run's, so they go."""
    from django.conf import settings

    folder = Path(settings.METRICS_MULTIPROC_DIR or settings.VAR_DIR / "metrics")
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.db"):
        old.unlink()
    return folder


def _spawn(program: str, *args: str) -> subprocess.Popen[bytes]:
    executable = os.path.join(os.path.dirname(sys.executable), program)
    return subprocess.Popen([executable, *args])


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
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return 0 if stopping else 1
