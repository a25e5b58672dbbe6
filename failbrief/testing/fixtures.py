"""pytest fixtures shared by the service tests (loaded from the root conftest.py)."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
from django.conf import LazySettings

import failbrief.metrics.registry  # noqa: F401  (see below)
from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.services import missing_services
from failbrief.testing.tcp_proxy import TcpProxy

WEBHOOK_KEY = "test-webhook-key"
# The registry is imported above so that the test process counts in memory from the start: a
# command a test runs in it (CliRunner) then leaves it there rather than pointing this process, and
# every subprocess it starts after, at a metrics directory (cli/serve.py,
# count_in_the_hosts_metrics_dir).
IN_SERVICES_TIER = os.environ.get("FAILBRIEF_TIER") == "services"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the services tier, a test marked `services` fails (not skips) when a service is down
    and FAILBRIEF_REQUIRE_SERVICES=1; outside CI it is skipped with the reason."""
    if not IN_SERVICES_TIER:
        return
    broker = "RabbitMQ" if os.environ.get("CELERY_BROKER_URL", "").startswith("amqp") else "Redis"
    missing = missing_services(("PostgreSQL", broker))
    if missing and os.environ.get("FAILBRIEF_REQUIRE_SERVICES") != "1":
        skip = pytest.mark.skip(reason=f"{', '.join(missing)} did not answer")
        for item in items:
            item.add_marker(skip)


@pytest.fixture(scope="session", autouse=True)
def _broker_through_proxy() -> Iterator[TcpProxy | None]:
    """In the services tier every broker connection goes through a proxy, so a test can take the
    broker down and bring it back without touching the shared Redis."""
    if not IN_SERVICES_TIER:
        yield None
        return
    from failbrief.celery import app

    url = urlparse(str(app.conf.broker_url))
    default_port = 5672 if url.scheme.startswith("amqp") else 6379
    proxy = TcpProxy(url.hostname or "127.0.0.1", url.port or default_port).up()
    login = url.netloc.rpartition("@")[0]
    through = url._replace(netloc=f"{login + '@' if login else ''}{url.hostname}:{proxy.port}").geturl()
    # broker_url itself comes from the namespaced Django setting; the read/write URLs win over it.
    app.conf.update(broker_write_url=through, broker_read_url=through)
    yield proxy
    proxy.down()


@pytest.fixture
def broker_proxy(_broker_through_proxy: TcpProxy | None) -> Iterator[TcpProxy]:
    if _broker_through_proxy is None:
        pytest.skip("the broker proxy exists only in the services tier")
    yield _broker_through_proxy
    if not _broker_through_proxy.is_up:
        _broker_through_proxy.up()


@pytest.fixture(autouse=True)
def _own_rate_limit_counters(settings: LazySettings) -> None:
    """Each test counts its own requests against the rate limits: the counters live in the cache
    (Redis in the services tier), which outlives a test and a test run."""
    settings.RATELIMIT_CACHE_PREFIX = f"rl:{uuid.uuid4().hex}:"


@pytest.fixture
def fake_prefect() -> Iterator[FakePrefect]:
    with FakePrefect() as fake:
        yield fake


@pytest.fixture
def service_settings(settings: LazySettings, fake_prefect: FakePrefect) -> LazySettings:
    """Point the service at the fake Prefect, with a short log settle window."""
    settings.PREFECT_API_URL = fake_prefect.url
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = WEBHOOK_KEY
    settings.LOG_SETTLE_SECONDS = 0.3
    settings.LOG_SETTLE_CAP_SECONDS = 3.0
    return settings


@pytest.fixture
def prefect_client(service_settings: LazySettings, fake_prefect: FakePrefect) -> Iterator[Any]:
    """Our Prefect client on the fake, no retries (a test that wants Prefect down says so)."""
    from failbrief.runs.prefect import PrefectClient

    with PrefectClient(fake_prefect.url, retries=0) as client:
        yield client


@pytest.fixture
def slack_receiver(settings: LazySettings) -> Iterator[Any]:
    """A loopback receiver standing in for a Slack incoming webhook (private addresses allowed)."""
    from failbrief.testing.fake_receivers import FakeReceiver

    settings.NOTIFY_ALLOW_PRIVATE = True  # the receiver listens on 127.0.0.1
    with FakeReceiver() as receiver:
        yield receiver


@pytest.fixture
def default_org(transactional_db: None) -> tuple[Any, str]:
    """The org `demo` (default) and a Bearer token for it."""
    from failbrief.orgs.manage import add_org, create_token

    org = add_org("demo", default=True)
    return org, create_token(org)


@pytest.fixture(scope="session")
def _session_celery_worker() -> Iterator[Any]:
    """One real Celery worker (threads pool) for the whole session: stopping one takes seconds."""
    import celery.contrib.testing.tasks  # noqa: F401  (registers celery.ping, which start_worker expects)
    from celery.contrib.testing.worker import start_worker

    from failbrief.celery import app

    app.control.purge()
    with start_worker(
        app, pool="threads", concurrency=4, perform_ping_check=False, shutdown_timeout=10
    ) as worker:
        yield worker


@pytest.fixture
def celery_worker(
    transactional_db: None, service_settings: LazySettings, _session_celery_worker: Any
) -> Iterator[Any]:
    """A real Celery worker consuming from the configured broker, with an empty queue. Settings
    overridden by the test apply to it (same process)."""
    from failbrief.celery import app

    app.control.purge()
    yield _session_celery_worker
    app.control.purge()  # a retry a test left behind must not run in the next one


def wait_for(check: Callable[[], Any], timeout: float, every: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(every)
    raise AssertionError(f"nothing after {timeout} s: {check}")


def post_webhook(
    base_url: str, body: bytes | str, key: str | None = WEBHOOK_KEY, **headers: str
) -> httpx.Response:
    sent = {"Content-Type": "application/json"} | headers
    if key is not None:
        sent["X-Notification-Key"] = key
    return httpx.post(f"{base_url}/webhooks/v1/notification/", content=body, headers=sent, timeout=10)


def completed_summaries(base_url: str, token: str, run_id: str) -> list[dict[str, object]] | None:
    """The run's summaries through the read API once all are completed, else None (for wait_for)."""
    answer = httpx.get(
        f"{base_url}/api/v1/flow-runs/{run_id}/summaries",
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    if answer.status_code != 200:
        return None
    summaries: list[dict[str, object]] = answer.json()["summaries"]
    return summaries if summaries and all(s["status"] == "completed" for s in summaries) else None


@pytest.fixture
def fake_llm() -> Iterator[Any]:
    """A loopback fake of the OpenAI and Anthropic APIs (failbrief/testing/fake_llm.py)."""
    from failbrief.testing.fake_llm import FakeLlm

    with FakeLlm() as fake:
        yield fake


@pytest.fixture
def llm_settings(settings: LazySettings, fake_llm: Any) -> LazySettings:
    """Both LLM providers pointed at the fake with test keys, short timeouts and 2 retries;
    LLM_PROVIDER=openai (an org must still opt in before anything is sent)."""
    settings.LLM_PROVIDER = "openai"
    settings.LLM_MODEL = ""
    settings.OPENAI_BASE_URL = fake_llm.openai_url
    settings.OPENAI_API_KEY = "sk-test-openai-key-1234567890"
    settings.ANTHROPIC_BASE_URL = fake_llm.anthropic_url
    settings.ANTHROPIC_API_KEY = "sk-ant-test-anthropic-key-1234567890"
    settings.LLM_TIMEOUT_SECONDS = 5.0
    settings.LLM_DEADLINE_SECONDS = 10.0
    settings.LLM_MAX_RETRIES = 2
    return settings


AIRBYTE_TOKEN = "YWlyYnl0ZTpwYXNzd29yZA=="  # base64 of airbyte:password, Airbyte OSS's default


@pytest.fixture
def fake_airbyte() -> Iterator[Any]:
    """A loopback fake Airbyte Config API that requires `Authorization: Basic <AIRBYTE_TOKEN>`."""
    from failbrief.testing.fake_airbyte import FakeAirbyte

    with FakeAirbyte(token=AIRBYTE_TOKEN) as fake:
        yield fake


@pytest.fixture
def airbyte_settings(service_settings: LazySettings, fake_airbyte: Any) -> LazySettings:
    """The service settings, with the fake Airbyte as the global AIRBYTE_API_URL."""
    service_settings.AIRBYTE_API_URL = fake_airbyte.url
    service_settings.AIRBYTE_API_TOKEN = AIRBYTE_TOKEN
    service_settings.AIRBYTE_AUTH = "basic"
    return service_settings


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "prefect: runs against a real Prefect 3.9.1 server installed under .cache/prefect (the Prefect "
        "tier; skipped when it cannot be installed, unless FAILBRIEF_REQUIRE_PREFECT=1)",
    )
