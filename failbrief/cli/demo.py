"""`failbrief demo` (`make demo`): the whole path on this machine, with nothing configured.

It installs Prefect on first use (the pinned version the real-Prefect test tier uses, in the same
cache, `.cache/prefect/`), starts a throw-away Prefect server and failbrief on the embedded
defaults (SQLite, SQLite broker, offline summarizer) in a temporary directory, installs the
automation with `setup-prefect`'s own code, runs the example flows of `failbrief/examples/`, waits
for their summaries, reads them through the API and prints them. Then everything keeps running
until Ctrl-C, or, with `--once`, stops and is removed."""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import click
import httpx
from rich.console import Console, Group
from rich.panel import Panel
from rich.text import Text

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
# (script, what it shows); each prints `FLOW_RUN_ID <id>` once its run has ended.
EXAMPLES = (
    ("orders_etl.py", "a Python task raises"),
    ("nightly_pipeline.py", "a subflow fails"),
    ("sql_models.py", "a dbt-like model hits a SQL error"),
)
# What the user's shell may set that would point the demo's failbrief elsewhere.
_OWN_PREFIXES = ("FAILBRIEF_", "PREFECT_", "LLM_", "OPENAI_", "ANTHROPIC_", "AIRBYTE_", "EMAIL_", "CELERY_")
_OWN_NAMES = {"DATABASE_URL", "CACHE_URL", "SECRET_KEY", "PORT", "HOST", "DJANGO_SETTINGS_MODULE"}
_OWN_NAMES |= {"PROMETHEUS_MULTIPROC_DIR", "ALLOWED_HOSTS", "LOG_FORMAT", "DEFAULT_FROM_EMAIL"}


class DemoFailed(click.ClickException):
    """Exit status 1 with the reason."""


@dataclass
class Example:
    script: str
    shows: str
    flow_run_id: str = ""
    error: str = ""
    summaries: list[dict[str, Any]] = field(default_factory=list)


@click.command("demo")
@click.option(
    "--once",
    is_flag=True,
    help="Stop and remove everything after printing the summaries; exit 1 unless every example was "
    "summarized.",
)
@click.option(
    "--timeout", default=180.0, show_default=True, help="Seconds to wait for the summaries, once flows ended."
)
def demo_command(once: bool, timeout: float) -> None:
    """Show failbrief at work: a throw-away Prefect server (installed under .cache/prefect on first
    use), failbrief on the embedded defaults in a temporary directory, three example flows that fail
    (failbrief/examples/), and their summaries as the API serves them. Everything keeps running
    until Ctrl-C, unless --once."""
    out, note = Console(highlight=False), Console(stderr=True, highlight=False)
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="failbrief-demo-"))
    stack: list[subprocess.Popen[bytes]] = []
    server = None
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        server, base_url, token = _start(workdir, stack, note)
        examples = _run_examples(server, note)
        _wait_for_summaries(examples, base_url, token, timeout, note)
        for example in examples:
            out.print(_render(example))
        done = sum(1 for e in examples if e.summaries)
        note.print(
            f"{done} of {len(examples)} examples summarized, {time.monotonic() - started:.0f} s in all"
        )
        missing = [e for e in examples if not e.summaries]
        if once:
            if missing:
                raise DemoFailed(_why_missing(missing, base_url, token, workdir))
            return
        _keep_running(server, base_url, token, stack[0], note)
    except KeyboardInterrupt:
        note.print("stopping")
    finally:
        signal.signal(signal.SIGTERM, previous)
        _stop(stack, server)
        shutil.rmtree(workdir, ignore_errors=True)


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _start(workdir: Path, stack: list[subprocess.Popen[bytes]], note: Console) -> tuple[Any, str, str]:
    """Prefect (installed if need be) and failbrief, both running and wired; (server, base URL, token)."""
    from failbrief.testing.prefect_server import (
        PREFECT_REQUIREMENTS,
        PrefectUnusable,
        cached_venv,
        free_port,
        is_cached,
        start_server,
    )

    pinned = PREFECT_REQUIREMENTS[0]
    try:
        if is_cached("prefect-venv", PREFECT_REQUIREMENTS):
            venv = cached_venv("prefect-venv", PREFECT_REQUIREMENTS)
        else:
            with _progress(
                note, f"installing {pinned} under .cache/prefect (first use only, about a minute)"
            ):
                venv = cached_venv("prefect-venv", PREFECT_REQUIREMENTS)
    except PrefectUnusable as exc:
        raise DemoFailed(f"Prefect could not be installed: {exc}") from None
    prefect_port, port = free_port(), free_port()
    base_url = f"http://127.0.0.1:{port}"
    key = _configure_environment(workdir, prefect_port, port)
    token = _bootstrap()
    # failbrief starts while Prefect migrates its database; each takes several seconds.
    with open(workdir / "failbrief.log", "wb") as log:
        stack.append(
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "failbrief.cli",
                    "run",
                    "--web-workers",
                    "1",
                    "--notify-concurrency",
                    "2",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        )
    with _progress(note, f"starting a Prefect server ({pinned}) and failbrief"):
        try:
            server = start_server(venv, workdir / "prefect", port=prefect_port)
        except PrefectUnusable as exc:
            raise DemoFailed(f"the Prefect server did not start: {exc}") from None
        _wait_healthy(base_url, stack[0], workdir)
    note.print(f"Prefect API {server.api_url}, failbrief {base_url}")
    _install_automation(server.api_url, base_url, key)
    note.print("setup-prefect: Prefect posts every failed flow run to failbrief")
    return server, base_url, token


@contextmanager
def _progress(note: Console, what: str) -> Iterator[None]:
    """One line saying what is going on and, when it ends, how long it took."""
    started = time.monotonic()
    note.print(f"{what} …")
    with note.status(what):
        yield
    note.print(f"  done in {time.monotonic() - started:.0f} s")


def _configure_environment(workdir: Path, prefect_port: int, port: int) -> str:
    """This process's environment (and so the children's): the embedded defaults in `workdir`,
    whatever the shell set. Returns the global webhook key."""
    from failbrief.orgs.secrets import new_secret

    for name in [n for n in os.environ if n.startswith(_OWN_PREFIXES) or n in _OWN_NAMES]:
        del os.environ[name]
    key = new_secret()
    (workdir / "tmp").mkdir()
    os.environ.update(
        {
            "TMPDIR": str(workdir / "tmp"),  # the children's temporary files go with the rest
            "FAILBRIEF_VAR_DIR": str(workdir / "var"),
            "PREFECT_API_URL": f"http://127.0.0.1:{prefect_port}/api",
            "PREFECT_NOTIFICATIONS_WEBHOOK_KEY": key,
            "LLM_PROVIDER": "offline",
            "HOST": "127.0.0.1",
            "PORT": str(port),
        }
    )
    return key


def _bootstrap() -> str:
    """Tables, the default org and an API token (what `failbrief run` would print on first start)."""
    from failbrief.cli.django_setup import migrate, setup_django

    setup_django()
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per poll would bury the story
    migrate()
    from django.db import connection

    from failbrief.orgs.manage import add_org, create_token

    token = create_token(add_org("default", name="Demo org", default=True), "failbrief demo")
    connection.close()
    return token


def _wait_healthy(
    base_url: str, child: subprocess.Popen[bytes], workdir: Path, timeout: float = 90.0
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.poll() is not None:
            raise DemoFailed(
                f"failbrief run exited ({child.returncode}):\n{_tail(workdir / 'failbrief.log')}"
            )
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise DemoFailed(f"failbrief was not healthy within {timeout:g} s:\n{_tail(workdir / 'failbrief.log')}")


def _install_automation(api_url: str, base_url: str, key: str) -> None:
    from failbrief.runs.automation import HookSpec, install, prefect_http
    from failbrief.runs.errors import PrefectError

    try:
        with prefect_http(api_url, None, 10.0) as http:
            install(http, HookSpec(base_url, key))
    except PrefectError as exc:
        raise DemoFailed(f"setup-prefect failed: Prefect at {api_url}: {exc}") from None


def _run_examples(server: Any, note: Console) -> list[Example]:
    """The example flows, at once, each in its own process in Prefect's virtualenv."""
    examples = [Example(script, shows) for script, shows in EXAMPLES]

    def run(example: Example) -> None:
        done = subprocess.run(
            [str(server.python), str(EXAMPLES_DIR / example.script)],
            env=server.client_env(),
            cwd=server.home,
            capture_output=True,
            text=True,
            timeout=180,
        )
        for line in done.stdout.splitlines():
            if line.startswith("FLOW_RUN_ID "):
                example.flow_run_id = line.split()[1]
                return
        example.error = f"{example.script} printed no flow run id: {(done.stderr or done.stdout)[-1500:]}"

    what = f"running {len(examples)} example flows that fail (failbrief/examples/)"
    with _progress(note, what), ThreadPoolExecutor(len(examples)) as pool:
        list(pool.map(run, examples))
    return examples


def _wait_for_summaries(
    examples: list[Example], base_url: str, token: str, timeout: float, note: Console
) -> None:
    waiting = [e for e in examples if e.flow_run_id]
    deadline = time.monotonic() + timeout
    with _progress(note, f"waiting for failbrief to summarize {len(waiting)} failed runs"):
        while waiting and time.monotonic() < deadline:
            for example in list(waiting):
                summaries = _completed_summaries(base_url, token, example.flow_run_id)
                if summaries:
                    example.summaries = summaries
                    waiting.remove(example)
            time.sleep(0.5)


def _completed_summaries(base_url: str, token: str, run_id: str) -> list[dict[str, Any]]:
    try:
        answer = httpx.get(
            f"{base_url}/api/v1/flow-runs/{run_id}/summaries",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
    except httpx.HTTPError:
        return []
    if answer.status_code != 200:
        return []
    summaries: list[dict[str, Any]] = answer.json().get("summaries") or []
    finished = all(s.get("status") in ("completed", "failed") for s in summaries)
    return summaries if summaries and finished else []


def _render(example: Example) -> Panel:
    title = f"[bold]{Path(example.script).stem}[/]: {example.shows}"
    if not example.summaries:
        body = Text(example.error or f"flow run {example.flow_run_id}: no summary yet", style="red")
        return Panel(body, title=title, title_align="left", border_style="red")
    parts: list[Any] = [Text(f"flow run {example.flow_run_id}", style="dim")]
    for summary in example.summaries:
        parts.append(_render_summary(summary))
    return Panel(Group(*parts), title=title, title_align="left", border_style="cyan")


def _render_summary(summary: dict[str, Any]) -> Text:
    text = Text()
    text.append("\nfailed: ", style="bold").append(str(summary.get("task_name") or summary.get("task_id")))
    if summary.get("is_cascade"):
        text.append("  (a consequence of an earlier failure)", style="dim")
    if summary.get("status") != "completed":
        text.append(f"\nnot summarized: {summary.get('error_reason') or summary.get('status')}", style="red")
        return text
    category, confidence = summary.get("category") or "unknown", summary.get("confidence") or "?"
    text.append("\ncategory: ", style="bold").append(f"{category} ({confidence} confidence)")
    text.append("\nroot cause: ", style="bold").append(str(summary.get("root_cause") or "not in the logs"))
    if summary.get("failing_step") and summary["failing_step"] != summary.get("task_name"):
        text.append("\nstep: ", style="bold").append(str(summary["failing_step"]))
    evidence = [str(line) for line in summary.get("evidence") or []][:6]
    if evidence:
        text.append("\nevidence:", style="bold")
        for line in evidence:
            text.append("\n  " + line.rstrip(), style="yellow")
    if summary.get("suggested_fix"):
        text.append("\nsuggested fix: ", style="bold").append(str(summary["suggested_fix"]))
    return text


def _why_missing(missing: list[Example], base_url: str, token: str, workdir: Path) -> str:
    lines = ["not every example was summarized:"]
    for example in missing:
        reason = example.error or _run_state(base_url, token, example.flow_run_id)
        lines.append(f"  {example.script}: {reason}")
    lines.append("failbrief's log ends:\n" + _tail(workdir / "failbrief.log"))
    return "\n".join(lines)


def _run_state(base_url: str, token: str, run_id: str) -> str:
    """What the read API says of a run without a finished summary: its state and reason, or why not."""
    try:
        answer = httpx.get(
            f"{base_url}/api/v1/flow-runs/{run_id}/summaries",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        body = answer.json()
    except (httpx.HTTPError, ValueError) as exc:
        return f"flow run {run_id}: the API did not answer ({exc})"
    if answer.status_code != 200:
        return f"flow run {run_id}: {body.get('detail', answer.status_code)}"
    return f"flow run {run_id} is {body.get('state')}: {body.get('reason') or 'no finished summary yet'}"


def _keep_running(
    server: Any, base_url: str, token: str, child: subprocess.Popen[bytes], note: Console
) -> None:
    prefect_api, example = server.api_url, EXAMPLES_DIR / EXAMPLES[0][0]
    note.print(
        "\nStill running (Ctrl-C stops and removes it all):\n"
        f"  failbrief   {base_url}  (API docs {base_url}/api/docs)\n"
        f"  Prefect API {prefect_api}\n"
        f"  read a run: curl -H 'Authorization: Bearer {token}' {base_url}/api/v1/flow-runs/<id>/summaries\n"
        f"  fail another run: PREFECT_API_URL={prefect_api} {server.python} {example}"
    )
    while child.poll() is None:
        time.sleep(0.5)
    raise DemoFailed(f"failbrief run exited ({child.returncode})")


def _stop(stack: list[subprocess.Popen[bytes]], server: Any) -> None:
    """failbrief and Prefect stop at once: each takes seconds to wind down."""
    from failbrief.testing.prefect_server import stop_group

    stops = [partial(stop_group, proc) for proc in stack]
    if server is not None:
        stops.append(server.stop)
    with ThreadPoolExecutor(max(1, len(stops))) as pool:
        list(pool.map(lambda stop: stop(), stops))


def _tail(path: Path, lines: int = 25) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
