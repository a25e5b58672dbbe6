"""`make test`: the whole suite on the embedded defaults (SQLite, SQLite broker), then the storage
and queue tests (marked `services`) again on PostgreSQL + Redis.

The second tier runs when both answer on 127.0.0.1; with FAILBRIEF_REQUIRE_SERVICES=1 (CI) a
missing service fails the run instead of skipping the tier.
"""

from __future__ import annotations

import os
import subprocess
import sys

from failbrief.testing.services import TIER_BROKER_URL, TIER_DATABASE_URL, missing_services


def run_pytest(label: str, args: list[str], env: dict[str, str]) -> int:
    print(f"\n===== tier: {label} =====", flush=True)
    return subprocess.call([sys.executable, "-m", "pytest", *args], env=env)


def main(argv: list[str]) -> int:
    base = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    status = run_pytest("embedded (SQLite database, SQLite broker)", argv, base)
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


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
