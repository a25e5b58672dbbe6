"""Do PostgreSQL and Redis answer on 127.0.0.1? (`make services`, and the test tiers.)"""

from __future__ import annotations

import socket
import sys

SERVICES = {"PostgreSQL": ("127.0.0.1", 5432), "Redis": ("127.0.0.1", 6379)}
TIER_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/failbrief"
TIER_BROKER_URL = "redis://127.0.0.1:6379/15"


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def missing_services() -> list[str]:
    return [f"{name} {host}:{port}" for name, (host, port) in SERVICES.items() if not answers(host, port)]


def main() -> int:
    missing = missing_services()
    for name, (host, port) in SERVICES.items():
        print(f"{name} {host}:{port}: {'does not answer' if f'{name} {host}:{port}' in missing else 'ok'}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
