"""Do PostgreSQL, Redis and RabbitMQ answer on 127.0.0.1? (`make services`, and the test tiers.)

The storage and queue tests (marked `services`) run once per broker we support in production, each
time on PostgreSQL: a `ServiceTier` says which database and broker, and which services it needs."""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass

SERVICES = {
    "PostgreSQL": ("127.0.0.1", 5432),
    "Redis": ("127.0.0.1", 6379),
    "RabbitMQ": ("127.0.0.1", 5672),
}


@dataclass(frozen=True)
class ServiceTier:
    name: str
    label: str
    broker_url: str
    needs: tuple[str, ...]

    @property
    def database_url(self) -> str:
        # One database per tier: the tiers run side by side (pytest-django tests on test_<name>).
        return f"postgresql://postgres@127.0.0.1:5432/failbrief_{self.name}"


SERVICE_TIERS = (
    ServiceTier("redis", "PostgreSQL + Redis", "redis://127.0.0.1:6379/15", ("PostgreSQL", "Redis")),
    ServiceTier(
        "rabbitmq", "PostgreSQL + RabbitMQ", "amqp://guest:guest@127.0.0.1:5672//", ("PostgreSQL", "RabbitMQ")
    ),
)


def answers(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def missing_services(names: tuple[str, ...] | None = None) -> list[str]:
    """Those of `names` (default: all) that do not answer, as "Name host:port"."""
    wanted = SERVICES if names is None else {name: SERVICES[name] for name in names}
    return [f"{name} {host}:{port}" for name, (host, port) in wanted.items() if not answers(host, port)]


def main() -> int:
    missing = missing_services()
    for name, (host, port) in SERVICES.items():
        print(f"{name} {host}:{port}: {'does not answer' if f'{name} {host}:{port}' in missing else 'ok'}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
