"""`make test`: the whole suite on the embedded defaults (SQLite, SQLite broker), then the storage
and queue tests (marked `services`) again on PostgreSQL + Redis.

The second tier runs when both answer on 127.0.0.1; with FAILBRIEF_REQUIRE_SERVICES=1 (CI) a
missing service fails the run instead of skipping the tier.

The third tier (tests marked `prefect`, in tests/prefect/) runs real flows on a real Prefect 3.9.1
server installed under .cache/prefect on first use; when it cannot be installed its tests skip with
the reason, and with FAILBRIEF_REQUIRE_PREFECT=1 (CI) they fail instead.
"""

from __future__ import annotations

import os
import subprocess
import sys

from failbrief.testing.services import TIER_BROKER_URL, TIER_DATABASE_URL, missing_services

NO_TESTS_COLLECTED = 5  # pytest's exit status when a selection (e.g. `-k`) leaves a tier empty


def run_pytest(label: str, args: list[str], env: dict[str, str]) -> int:
    print(f"\n===== tier: {label} =====", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


def main(argv: list[str]) -> int:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    status = run_pytest("embedded (SQLite database, SQLite broker)", ["-m", "not prefect", *argv], base)
    status = run_prefect_tier(argv, base) or status
    missing = missing_services()
    required = os.environ.get("FAILBRIEF_REQUIRE_SERVICES") == "1"
    if missing:
        print(
            f"\n===== tier: PostgreSQL + Redis: {'FAILED' if required else 'skipped'}: "
            f"{', '.join(missing)} did not answer =====",
            flush=True,
        )
        return status or (1 if required else 0)
    services_env = base | {
        "DATABASE_URL": TIER_DATABASE_URL,
        "CELERY_BROKER_URL": TIER_BROKER_URL,
        "FAILBRIEF_TIER": "services",
        "SECRET_KEY": "test-tier-only-secret",
    }
    services_status = run_pytest("PostgreSQL + Redis", ["-m", "services", *argv], services_env)
    return status or services_status


def run_prefect_tier(argv: list[str], base: dict[str, str]) -> int:
    label = "real Prefect 3.9.1 server, real flows (SQLite database, SQLite broker)"
    status = run_pytest(
        label, ["-m", "prefect", "tests/prefect", *argv], base | {"FAILBRIEF_TIER": "prefect"}
    )
    return 0 if status == NO_TESTS_COLLECTED else status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
