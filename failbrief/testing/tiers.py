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
"""

from __future__ import annotations

import os
import subprocess
import sys

from failbrief.testing.services import SERVICE_TIERS, TIER_DATABASE_URL, ServiceTier, missing_services

NO_TESTS_COLLECTED = 5  # pytest's exit status when a selection (e.g. `-k`) leaves a tier empty


def run_pytest(label: str, args: list[str], env: dict[str, str]) -> int:
    print(f"\n===== tier: {label} =====", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


def main(argv: list[str]) -> int:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    status = run_pytest(
        "embedded (SQLite database, SQLite broker)",
        ["-m", "not prefect and not smoke and not browser", *argv],
        base,
    )
    status = run_prefect_tier(argv, base) or status
    status = run_browser_tier(argv, base) or status
    for tier in SERVICE_TIERS:
        status = run_services_tier(tier, argv, base) or status
    return run_smoke_tier(argv, base) or status


def run_smoke_tier(argv: list[str], base: dict[str, str]) -> int:
    """A runtime-only virtualenv running `make run` on each production broker (tests/smoke)."""
    label = "production smoke (runtime-only virtualenv, make run; PostgreSQL + Redis, PostgreSQL + RabbitMQ)"
    status = run_pytest(label, ["-m", "smoke", "tests/smoke", "--durations=0", *argv], base)
    return 0 if status == NO_TESTS_COLLECTED else status


def run_services_tier(tier: ServiceTier, argv: list[str], base: dict[str, str]) -> int:
    missing = missing_services(tier.needs)
    if missing:
        required = os.environ.get("FAILBRIEF_REQUIRE_SERVICES") == "1"
        print(
            f"\n===== tier: {tier.label}: {'FAILED' if required else 'skipped'}: "
            f"{', '.join(missing)} did not answer =====",
            flush=True,
        )
        return 1 if required else 0
    env = base | {
        "DATABASE_URL": TIER_DATABASE_URL,
        "CELERY_BROKER_URL": tier.broker_url,
        "FAILBRIEF_TIER": "services",
        "SECRET_KEY": "test-tier-only-secret",
    }
    return run_pytest(tier.label, ["-m", "services", *argv], env)


def run_prefect_tier(argv: list[str], base: dict[str, str]) -> int:
    label = "real Prefect 3.9.1 server, real flows (SQLite database, SQLite broker)"
    status = run_pytest(
        label, ["-m", "prefect", "tests/prefect", *argv], base | {"FAILBRIEF_TIER": "prefect"}
    )
    return 0 if status == NO_TESTS_COLLECTED else status


def run_browser_tier(argv: list[str], base: dict[str, str]) -> int:
    label = "pages in a real headless chromium (Playwright; SQLite database)"
    status = run_pytest(label, ["-m", "browser", "tests/browser", *argv], base)
    return 0 if status == NO_TESTS_COLLECTED else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
