"""`make test`: the whole suite on the embedded defaults (SQLite, SQLite broker), then the storage
and queue tests (marked `services`) again on PostgreSQL + Redis and on PostgreSQL + RabbitMQ.

Each services tier runs when its services answer on 127.0.0.1; with FAILBRIEF_REQUIRE_SERVICES=1
(CI) a missing service fails the run instead of skipping the tier.

The production smoke tier (tests marked `smoke`, in tests/smoke/) builds a fresh virtualenv with the
runtime dependencies only and runs `make run` in it on PostgreSQL + Redis and PostgreSQL + RabbitMQ:
what the other tiers' test virtualenv would hide (a dependency only the test extras pull in) fails here.

The real Prefect tier (tests marked `prefect`, in tests/prefect/) runs real flows on a real Prefect 3.9.1
server installed under .cache/prefect on first use; when it cannot be installed its tests skip with
the reason, and with FAILBRIEF_REQUIRE_PREFECT=1 (CI) they fail instead.

The browser tier (tests marked `browser`, in tests/browser/) drives the pages in Debian's headless
chromium through Playwright; `make test` installs chromium with apt-get where it can. Without
/usr/bin/chromium its tests skip with the reason, and with FAILBRIEF_REQUIRE_BROWSER=1 (CI) they fail.

Most tests wait (on sockets, child processes, a worker), so the tiers that share nothing run side by
side, each with its own var directory, and the embedded tier runs on pytest-xdist workers:

1. embedded, real Prefect and production smoke together (smoke is the only one on the real brokers);
2. PostgreSQL + Redis, PostgreSQL + RabbitMQ (each its own database) and the browser together.

Each tier's output is printed whole when it ends, so the tiers never interleave in the log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from failbrief.testing.services import SERVICE_TIERS, ServiceTier, missing_services

NO_TESTS_COLLECTED = 5  # pytest's exit status when a selection (e.g. `-k`) leaves a tier empty
# Workers of the embedded tier: its tests mostly wait, so more workers than cores still pay.
EMBEDDED_WORKERS = "4"
VAR_ROOT = Path(os.environ.get("FAILBRIEF_VAR_DIR") or Path(__file__).resolve().parents[2] / "var")


@dataclass(frozen=True)
class Tier:
    label: str
    args: list[str]
    env: dict[str, str]
    may_be_empty: bool = False  # a selection (`-k`) that leaves the tier empty is not a failure
    not_run: str = ""  # why the tier cannot run (its services did not answer)
    required: bool = False  # ... and whether that fails the run


@dataclass(frozen=True)
class Running:
    tier: Tier
    process: subprocess.Popen[bytes]
    output: IO[bytes]
    started: float


def main(argv: list[str]) -> int:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    status = run_together(
        [
            Tier(
                "embedded (SQLite database, SQLite broker)",
                ["-m", "not prefect and not smoke and not browser", "-n", EMBEDDED_WORKERS, *argv],
                own_var_dir(base, "embedded"),
            ),
            prefect_tier(argv, base),
            smoke_tier(argv, base),
        ]
    )
    return (
        run_together([*(services_tier(t, argv, base) for t in SERVICE_TIERS), browser_tier(argv, base)])
        or status
    )


def own_var_dir(env: dict[str, str], name: str) -> dict[str, str]:
    return env | {"FAILBRIEF_VAR_DIR": str(VAR_ROOT / f"tier-{name}")}


def smoke_tier(argv: list[str], base: dict[str, str]) -> Tier:
    """A runtime-only virtualenv running `make run` on each production broker (tests/smoke)."""
    label = "production smoke (runtime-only virtualenv, make run; PostgreSQL + Redis, PostgreSQL + RabbitMQ)"
    return Tier(label, ["-m", "smoke", "tests/smoke", "--durations=0", *argv], base, may_be_empty=True)


def services_tier(tier: ServiceTier, argv: list[str], base: dict[str, str]) -> Tier:
    env = own_var_dir(base, tier.name) | {
        "DATABASE_URL": tier.database_url,
        "CELERY_BROKER_URL": tier.broker_url,
        "FAILBRIEF_TIER": "services",
        "SECRET_KEY": "test-tier-only-secret-" + "q8Lw3Zr6Tn1Vx5Kc9Pb2Mh7Jf4Gd0Sy",
    }
    missing = missing_services(tier.needs)
    return Tier(
        tier.label,
        ["-m", "services", *argv],
        env,
        not_run=f"{', '.join(missing)} did not answer" if missing else "",
        required=os.environ.get("FAILBRIEF_REQUIRE_SERVICES") == "1",
    )


def prefect_tier(argv: list[str], base: dict[str, str]) -> Tier:
    label = "real Prefect 3.9.1 server, real flows (SQLite database, SQLite broker)"
    env = own_var_dir(base, "prefect") | {"FAILBRIEF_TIER": "prefect"}
    return Tier(label, ["-m", "prefect", "tests/prefect", *argv], env, may_be_empty=True)


def browser_tier(argv: list[str], base: dict[str, str]) -> Tier:
    label = "pages in a real headless chromium (Playwright; SQLite database)"
    return Tier(
        label, ["-m", "browser", "tests/browser", *argv], own_var_dir(base, "browser"), may_be_empty=True
    )


def run_together(tiers: list[Tier]) -> int:
    """Start every tier that can run, wait for all, print each one's output whole as it ends;
    0 when every tier passed (or was allowed to skip)."""
    status = 0
    running: list[Running] = []
    for tier in tiers:
        if tier.not_run:
            verdict = "FAILED" if tier.required else "skipped"
            print(f"\n===== tier: {tier.label}: {verdict}: {tier.not_run} =====", flush=True)
            status = status or int(tier.required)
            continue
        output = tempfile.TemporaryFile(prefix="failbrief-tier-")  # noqa: SIM115 (closed when printed)
        process = subprocess.Popen(
            [sys.executable, "-m", "pytest", *tier.args],
            env=tier.env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        running.append(Running(tier, process, output, time.monotonic()))
        print(f"started tier: {tier.label}", flush=True)
    while running:
        time.sleep(0.5)
        for run in [run for run in running if run.process.poll() is not None]:
            running.remove(run)
            status = report(run) or status
    return status


def report(run: Running) -> int:
    """Print a finished tier's output under its heading; 1 if it failed."""
    seconds = time.monotonic() - run.started
    print(f"\n===== tier: {run.tier.label} ({seconds:.0f} s) =====", flush=True)
    run.output.seek(0)
    sys.stdout.buffer.write(run.output.read())
    sys.stdout.flush()
    run.output.close()
    code = run.process.returncode
    return 0 if code == 0 or (code == NO_TESTS_COLLECTED and run.tier.may_be_empty) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
