"""One webhook's way to a stored summary, as the code walks it: how many failbrief source files the
worker's path touches, how often it moves from one file to another, and how often it goes straight
back (A -> B -> A).

In one process, on a throw-away SQLite database, with the fake Prefect of failbrief/testing and
Celery tasks run in place (task_always_eager): the webhook view stores the event, the process task
runs where the broker message would have been published, and the trace stops once the summary rows
are stored. Every Python call into a failbrief file (tests, testing/ and bench/ excepted) is one
step; a generator's resumption is not a new step, and nothing runs at import time (a first webhook
of another scenario warms the process up, untraced). The figures are given twice: every file on its
own, and with the condenser (the log library, failbrief/condense/) counted as one place, since its
files call each other per log line.

    python -m bench.call_path [--scenario a2] [--show]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = str(ROOT / "failbrief") + os.sep
SKIPPED = (f"{os.sep}tests{os.sep}", f"{os.sep}testing{os.sep}", f"{os.sep}migrations{os.sep}")
GENERATOR_FLAGS = 0x20 | 0x200 | 0x80  # CO_GENERATOR, CO_ASYNC_GENERATOR, CO_COROUTINE
CONDENSER = "failbrief/condense/"  # before it was a package, bench/call_path.py listed its files


@dataclass
class Walk:
    files: list[str]  # the failbrief file of every step, in order, repeats collapsed
    calls: Counter[tuple[str, str]]  # caller file -> callee file, between different files

    @property
    def touched(self) -> set[str]:
        return set(self.files)

    @property
    def moves(self) -> int:
        return len(self.files) - 1

    @property
    def back_and_forth(self) -> int:
        return sum(1 for a, c in zip(self.files, self.files[2:], strict=False) if a == c)

    def callers(self) -> set[str]:
        """Files that call into another failbrief file: the orchestration, as opposed to leaves."""
        return {caller for caller, _ in self.calls}

    def condenser_as_one(self) -> Walk:
        def place(name: str) -> str:
            return CONDENSER if name.startswith(CONDENSER) else name

        files = [place(name) for name in self.files]
        collapsed = [name for i, name in enumerate(files) if i == 0 or files[i - 1] != name]
        calls: Counter[tuple[str, str]] = Counter()
        for (caller, callee), count in self.calls.items():
            if place(caller) != place(callee):
                calls[(place(caller), place(callee))] += count
        return Walk(collapsed, calls)


def _ours(filename: str) -> bool:
    return filename.startswith(PACKAGE) and not any(part in filename for part in SKIPPED)


def _importing(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _short(filename: str) -> str:
    return filename[len(str(ROOT)) + 1 :]


def traced(action: Any) -> Walk:
    """Runs `action()` under sys.setprofile and returns the failbrief files it stepped through."""
    files: list[str] = []
    calls: Counter[tuple[str, str]] = Counter()
    resumed: set[int] = set()

    def profile(frame: FrameType, event: str, _arg: object) -> None:
        if event != "call" or not _ours(frame.f_code.co_filename) or _importing(frame):
            return
        if frame.f_code.co_flags & GENERATOR_FLAGS:
            if id(frame) in resumed:
                return
            resumed.add(id(frame))
        here = _short(frame.f_code.co_filename)
        caller = frame.f_back
        while caller is not None and not _ours(caller.f_code.co_filename):
            caller = caller.f_back
        if caller is not None and _short(caller.f_code.co_filename) != here:
            calls[(_short(caller.f_code.co_filename), here)] += 1
        if not files or files[-1] != here:
            files.append(here)

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return Walk(files, calls)


def _setup(workdir: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir}/call_path.sqlite3"
    os.environ["FAILBRIEF_VAR_DIR"] = workdir
    os.environ["CELERY_BROKER_URL"] = f"sqla+sqlite:///{workdir}/broker.sqlite3"  # never used: eager
    os.environ["PREFECT_NOTIFICATIONS_WEBHOOK_KEY"] = "call-path-key"
    os.environ["FAILBRIEF_LOG_SETTLE_SECONDS"] = "0.2"
    os.environ["FAILBRIEF_LOG_SETTLE_CAP_SECONDS"] = "2"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "failbrief.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def run_one_webhook(scenario: str, warm_up: str) -> tuple[Walk, int]:
    """Sends scenario `warm_up`'s captured webhook untraced, then scenario `scenario`'s, through the
    Django test client; returns the second one's trace and its number of completed summary rows."""
    from django.conf import settings
    from django.test import Client

    from failbrief.celery import app
    from failbrief.orgs.manage import add_org
    from failbrief.summarize.models import LlmSession
    from failbrief.testing.fake_prefect import FakePrefect
    from failbrief.testing.scenarios import robust_body

    app.conf.task_always_eager = True
    app.loader.import_default_modules()  # registers the tasks, as a worker does when it starts
    add_org("demo", default=True)
    client = Client()

    def post(name: str) -> None:
        answer = client.post(
            "/webhooks/v1/notification/",
            data=robust_body(name),
            content_type="application/json",
            headers={"X-Notification-Key": "call-path-key"},
        )
        assert answer.status_code == 202, answer.content

    with FakePrefect() as fake:
        settings.PREFECT_API_URL = fake.url
        post(warm_up)
        before = LlmSession.objects.filter(session_status=LlmSession.Status.COMPLETED).count()
        path = traced(lambda: post(scenario))
    done = LlmSession.objects.filter(session_status=LlmSession.Status.COMPLETED).count() - before
    return path, done


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("--scenario", default="a2", help="captured scenario under testdata/prefect")
    parser.add_argument("--warm-up", default="b", help="the scenario sent first, untraced")
    parser.add_argument("--show", action="store_true", help="print the file sequence and the call edges")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        _setup(workdir)
        path, done = run_one_webhook(args.scenario, args.warm_up)
    grouped = path.condenser_as_one()
    if args.show:
        for name in grouped.files:
            print("  ", name)
        for (caller, callee), count in sorted(grouped.calls.items()):
            print(f"  {caller} -> {callee} ({count})")
    print(f"scenario {args.scenario}: {done} summary row(s) completed")
    rows = [
        ("files touched", len(path.touched), len(grouped.touched)),
        ("moves between files", path.moves, grouped.moves),
        ("straight back (A->B->A)", path.back_and_forth, grouped.back_and_forth),
        ("files calling into another failbrief file", len(path.callers()), len(grouped.callers())),
    ]
    print(f"{'':<44}{'every file':>12}{'condenser as one':>18}")
    for label, each, grouped_figure in rows:
        print(f"{label:<44}{each:>12}{grouped_figure:>18}")


if __name__ == "__main__":
    main()
