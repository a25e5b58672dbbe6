"""`failbrief run` (what `make run` starts): a real gunicorn, worker and beat on the embedded defaults."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest
from cryptography.fernet import Fernet

from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.fake_receivers import FakeReceiver
from failbrief.testing.fixtures import WEBHOOK_KEY, completed_summaries, post_webhook, wait_for
from failbrief.testing.scenarios import captured, flow_run_id, robust_body

DEPLOYMENT_KEY = "a-real-deployment-key-" + "k7Qz9xWm2Lp4Rv8Ny3Bt6Hc1Jd5Fs0Ga"

GLOBEX_KEY = "globex-webhook-key"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_run_serves_healthz_and_the_api_docs_past_slow_clients_and_stops_on_ctrl_c(tmp_path: Path):
    port = free_port()
    drop = {"DATABASE_URL", "CELERY_BROKER_URL", "PREFECT_NOTIFICATIONS_WEBHOOK_KEY"}
    env = {k: v for k, v in os.environ.items() if k not in drop} | {
        "FAILBRIEF_VAR_DIR": str(tmp_path / "var"),
        "PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "failbrief.cli", "run"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        health = _first_answer(f"http://127.0.0.1:{port}/healthz", proc)
        assert health.status_code == 200, health.text
        assert health.json()["status"] == "ok"
        # Slow clients hold a thread each, not a whole worker, so everyone else is still served. Three:
        # more than the web workers (2), so sync workers would all be stuck, and fewer than one
        # worker's threads (4), since gunicorn may hand every stalled connection to the same worker.
        stalled = [_half_sent_request(port) for _ in range(3)]
        assert httpx.get(f"http://127.0.0.1:{port}/api/docs", timeout=5).status_code == 200
        for sock in stalled:
            sock.close()
        assert (
            httpx.get(f"http://127.0.0.1:{port}/api/openapi.json", timeout=5).json()["info"]["title"]
            == "failbrief"
        )
        # The pages, their one stylesheet included, are served by the app itself.
        home = httpx.get(f"http://127.0.0.1:{port}/", timeout=5)
        assert (home.status_code, home.headers["location"]) == (302, "/signin/")
        assert "<form" in httpx.get(f"http://127.0.0.1:{port}/signin/", timeout=5).text
        css = httpx.get(f"http://127.0.0.1:{port}/style.css", timeout=5)
        assert css.headers["content-type"].startswith("text/css")
        assert "prefers-color-scheme" in css.text
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, output
    assert "webhook key (X-Notification-Key): fb_" in output
    assert "API token (Authorization: Bearer …): fb_" in output
    assert "failbrief user invite default YOU@EXAMPLE.ORG --admin" in output
    # What the web server, the worker and beat wrote (databases, the vault key, beat's schedule,
    # metrics) only the service's user may read.
    var = tmp_path / "var"
    assert {"failbrief.sqlite3", "celery-broker.sqlite3", "vault.key"} <= {p.name for p in var.iterdir()}
    for path in [var, *var.rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o700 if path.is_dir() else 0o600), path


def _half_sent_request(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    sock.sendall(b"POST /webhooks/v1/notification/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Len")
    return sock


def _first_answer(url: str, proc: subprocess.Popen[Any], timeout: float = 60) -> httpx.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
        try:
            return httpx.get(url, timeout=5)
        except httpx.TransportError:
            time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


def _start_error(
    args: list[str], tmp_path: Path, prelude: str = "", **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `failbrief ARGS` as a deployment would, expecting it to refuse to start."""
    drop = {"DATABASE_URL", "CELERY_BROKER_URL", "SECRET_KEY"}
    full_env = {k: v for k, v in os.environ.items() if k not in drop} | {
        "FAILBRIEF_VAR_DIR": str(tmp_path / "var"),
        **env,
    }
    code = f"{prelude}\nfrom failbrief.cli import main\nmain()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], env=full_env, capture_output=True, text=True, timeout=60
    )


def _one_clean_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_database_that_refuses_the_connection_is_one_line_naming_database_url(tmp_path: Path):
    closed = free_port()  # nothing listens there
    result = _start_error(
        ["web"],
        tmp_path,
        DATABASE_URL=f"postgresql://failbrief:hunter2@127.0.0.1:{closed}/failbrief",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        SECRET_KEY=DEPLOYMENT_KEY,
        FAILBRIEF_VAULT_KEY=Fernet.generate_key().decode(),
    )
    line = _one_clean_line(result)
    assert line.startswith("Error: DATABASE_URL: cannot connect to postgresql://failbrief:***@127.0.0.1")
    assert "refused" in line
    assert "hunter2" not in line


def test_a_missing_secret_key_on_postgresql_is_one_line(tmp_path: Path):
    result = _start_error(["worker"], tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/failbrief")
    assert _one_clean_line(result) == (
        "Error: configuration error: SECRET_KEY is not set; "
        "set it to a long random string for a PostgreSQL deployment"
    )


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("changeme", "is 8 characters"),
        ("x" * 64, "has 1 distinct characters"),
        ("django-insecure-" + "k7Qz9xWm2Lp4Rv8Ny3Bt6Hc1Jd5Fs0Ga-more-chars!", "is Django's development key"),
    ],
)
def test_a_weak_secret_key_on_postgresql_is_one_line(tmp_path: Path, key: str, why: str):
    # A guessable key forges what Django signs (the session's auth hash, signed cookies); Django's
    # own `check --deploy` only warns, and nobody reads that at start-up.
    result = _start_error(
        ["web"], tmp_path, DATABASE_URL="postgresql://postgres@127.0.0.1:5432/failbrief", SECRET_KEY=key
    )
    line = _one_clean_line(result)
    assert line.startswith(f"Error: configuration error: SECRET_KEY {why}; ")
    assert "secrets.token_urlsafe(50)" in line
    assert key not in line


@pytest.mark.parametrize(
    "args", [["web"], ["migrate"], ["vault", "rotate"], ["org", "set", "acme", "--airbyte-token", "t"]]
)
def test_a_postgresql_deployment_without_a_shared_vault_key_is_one_line(tmp_path: Path, args: list[str]):
    result = _start_error(
        args,
        tmp_path,
        DATABASE_URL="postgresql://postgres@127.0.0.1:5432/failbrief",
        SECRET_KEY=DEPLOYMENT_KEY,
    )
    assert _one_clean_line(result) == (
        "Error: FAILBRIEF_VAULT_KEY is not set; a PostgreSQL deployment's hosts must share one vault key: "
        "make one with 'failbrief vault generate-key' and set it everywhere (docs/deploy.md)"
    )


def test_a_broker_transport_that_cannot_load_is_one_line_naming_celery_broker_url(tmp_path: Path):
    # What a plain install without kombu's redis extra looked like: the transport's own import fails.
    without_packaging = (
        "import sys; sys.modules['packaging'] = None; sys.modules.pop('kombu.transport.redis', None)"
    )
    result = _start_error(
        ["worker"], tmp_path, prelude=without_packaging, CELERY_BROKER_URL="redis://:s3cret@127.0.0.1:6379/0"
    )
    line = _one_clean_line(result)
    assert line.startswith("Error: CELERY_BROKER_URL: the 'redis' transport of redis://:***@127.0.0.1:6379/0")
    assert "packaging" in line
    assert "s3cret" not in line


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgresql://failbrief:hunter2@db.internal:54a32/failbrief"),
        ("DATABASE_URL", "postgresql://failbrief:hunter2@db.internal:5432"),
        ("CELERY_BROKER_URL", "redis://:hunter2@redis.internal:63a79/0"),
        ("DATABASE_URL", "mysql://failbrief:hunter2@db.internal:3306/failbrief"),
        ("CELERY_BROKER_URL", "sentinel://:hunter2@redis.internal:26379/0"),
    ],
)
def test_a_malformed_database_or_broker_url_is_one_line_naming_it(tmp_path: Path, name: str, value: str):
    env = {  # nothing listens on either: the URL alone must be refused
        "DATABASE_URL": f"postgresql://postgres@127.0.0.1:{free_port()}/failbrief",
        "CELERY_BROKER_URL": f"redis://127.0.0.1:{free_port()}/0",
        "SECRET_KEY": DEPLOYMENT_KEY,
        "FAILBRIEF_VAULT_KEY": Fernet.generate_key().decode(),
    }
    line = _one_clean_line(_start_error(["migrate"], tmp_path, **(env | {name: value})))
    assert line.startswith(f"Error: configuration error: {name}"), line
    assert "hunter2" not in line


@pytest.mark.parametrize(
    ("name", "value"),
    [("FAILBRIEF_RETRY_DEADLINE_SECONDS", "nan"), ("PREFECT_TIMEOUT_SECONDS", "inf"), ("PORT", "nan")],
)
def test_a_number_that_is_not_finite_is_one_line(tmp_path: Path, name: str, value: str):
    # float() reads "nan" and "inf": a deadline of nan is never reached, nor ever passed.
    line = _one_clean_line(_start_error(["migrate"], tmp_path, **{name: value}))
    assert line == f"Error: configuration error: {name} must be a number, not {value!r}"


def test_a_port_beyond_65535_is_one_line(tmp_path: Path):
    line = _one_clean_line(_start_error(["migrate"], tmp_path, PORT="70000"))
    assert line == "Error: configuration error: PORT must be at most 65535, not '70000'"


@pytest.mark.parametrize("option", ["--workers", "--threads"])
def test_a_web_server_without_workers_or_threads_is_refused(tmp_path: Path, option: str):
    # gunicorn with no worker listens and never answers: the proxy's requests would hang.
    result = _start_error(["web", option, "0"], tmp_path)
    assert result.returncode == 2, result
    assert f"Invalid value for '{option}': 0 is not in the range x>=1" in result.stderr


def test_a_host_whose_vault_key_decrypts_no_stored_secret_is_one_line(tmp_path: Path):
    # One host deployed with a stale or mistyped FAILBRIEF_VAULT_KEY: its workers could send no
    # notification and read no Airbyte token, while it looked healthy.
    shared = Fernet.generate_key().decode()
    for args in (
        ["migrate"],
        ["org", "add", "acme"],
        [
            "org",
            "set",
            "acme",
            "--airbyte-url",
            "http://airbyte.acme.internal:8000/api/v1",
            "--airbyte-token",
            "t0k",
        ],
    ):
        done = _start_error(args, tmp_path, FAILBRIEF_VAULT_KEY=shared)
        assert done.returncode == 0, done.stderr
    stale = Fernet.generate_key().decode()
    line = _one_clean_line(_start_error(["beat"], tmp_path, FAILBRIEF_VAULT_KEY=stale))
    assert line == (
        "Error: FAILBRIEF_VAULT_KEY decrypts none of the 1 stored secret(s): it is not the key they were "
        "sealed with; set the key the other hosts use (docs/deploy.md)"
    )
    assert _start_error(["migrate"], tmp_path, FAILBRIEF_VAULT_KEY=shared).returncode == 0


@pytest.mark.parametrize("args", [["web"], ["worker"], ["beat"], ["migrate"]])
def test_postgresql_with_the_embedded_broker_is_one_line(tmp_path: Path, args: list[str]):
    # Each host would queue its webhooks in its own var/celery-broker.sqlite3, where the workers of
    # the other hosts never look: summaries would wait forever without a word.
    result = _start_error(
        args,
        tmp_path,
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/failbrief",
        SECRET_KEY=DEPLOYMENT_KEY,
        FAILBRIEF_VAULT_KEY=Fernet.generate_key().decode(),
    )
    assert _one_clean_line(result) == (
        "Error: CELERY_BROKER_URL is not set; a PostgreSQL deployment needs a broker every host "
        "shares: set it to redis://… or amqp://… (docs/deploy.md)"
    )


def test_a_separate_process_refuses_an_unmigrated_database_and_migrate_fixes_it(tmp_path: Path):
    line = _one_clean_line(_start_error(["beat"], tmp_path))
    assert line.endswith("run 'failbrief migrate' first")
    migrated = _start_error(["migrate"], tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    assert "Applying orgs.0001_initial... OK" in migrated.stdout


@contextlib.contextmanager
def _fresh_database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a database nothing has migrated yet: the tier's PostgreSQL server (a new
    database beside the tier's, dropped after), or a new embedded SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        yield {}
        return
    import psycopg

    parts = urlsplit(url)
    name = f"{parts.path.lstrip('/')}_migrate_race"
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {
            "DATABASE_URL": urlunsplit(parts._replace(path=f"/{name}")),
            "CELERY_BROKER_URL": os.environ["CELERY_BROKER_URL"],
            "SECRET_KEY": DEPLOYMENT_KEY,
            "FAILBRIEF_VAULT_KEY": Fernet.generate_key().decode(),
        }
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.services
def test_migrate_from_two_hosts_at_once_succeeds_on_both(tmp_path: Path):
    # What two web units with `ExecStartPre=failbrief migrate` do on a release: both start together.
    with _fresh_database(tmp_path) as env:
        code = "from failbrief.cli import main\nmain()"
        full_env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
        full_env |= {"FAILBRIEF_VAR_DIR": str(tmp_path / "var"), **env}
        both = [
            subprocess.Popen(
                [sys.executable, "-c", code, "migrate"],
                env=full_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(2)
        ]
        results = [proc.communicate(timeout=180) for proc in both]
        for proc, (_out, err) in zip(both, results, strict=True):
            assert proc.returncode == 0, err
        # Then the other processes find the schema complete.
        again = _start_error(["migrate"], tmp_path, **env)
        assert again.returncode == 0, again.stderr
        assert "No migrations to apply." in again.stdout


SETUP_ORGS = """
import sys
from failbrief.cli.django_setup import setup_django
setup_django()
from failbrief.notify.manage import add_channel
from failbrief.orgs.manage import add_org, create_token, get_org
stuck, fine, globex_key = sys.argv[1:]
for i in range(10):
    add_channel(get_org("default"), f"stuck-{i}", "slack", {"url": f"{stuck}/services/T0/B0/{i}"})
globex = add_org("globex", webhook_key=globex_key)
add_channel(globex, "ops", "slack", {"url": f"{fine}/services/T0/B0/globex"})
print(create_token(globex))
"""


def test_run_keeps_summarizing_and_notifying_other_orgs_while_ten_channels_hang(tmp_path: Path):
    """`make run` as the issue measured it: ten channels of one org at a receiver that never
    answers (other runs' summaries went from 0.7 s to 97 s). The sends have their own worker, so
    another run is still summarized, and one org holds at most 4 of that worker's threads, so
    another org's message still goes out. The timeouts are long: only the queue and the cap can
    keep things moving."""
    port = free_port()
    drop = {"DATABASE_URL", "CELERY_BROKER_URL"}
    with FakePrefect() as prefect, FakeReceiver() as stuck, FakeReceiver() as fine:
        env = {k: v for k, v in os.environ.items() if k not in drop} | {
            "FAILBRIEF_VAR_DIR": str(tmp_path / "var"),
            "PORT": str(port),
            "PREFECT_API_URL": prefect.url,
            "PREFECT_NOTIFICATIONS_WEBHOOK_KEY": WEBHOOK_KEY,
            "FAILBRIEF_RECONCILE_EVERY_SECONDS": "0",
            "FAILBRIEF_LOG_SETTLE_SECONDS": "0.3",
            "FAILBRIEF_LOG_SETTLE_CAP_SECONDS": "3",
            "FAILBRIEF_NOTIFY_ALLOW_PRIVATE": "true",  # the receivers are on 127.0.0.1
            "FAILBRIEF_NOTIFY_TIMEOUT_SECONDS": "300",
            "FAILBRIEF_NOTIFY_DEADLINE_SECONDS": "300",
            "FAILBRIEF_NOTIFY_ORG_CONCURRENCY": "4",
        }
        stuck.hang()
        # Run b names globex as its org (an org's key starts work only for its own runs).
        prefect.add_flow_run(captured("b_flow_run.json") | {"tags": ["org:globex"]})
        with (tmp_path / "run.log").open("w") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "failbrief.cli", "run"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        base = f"http://127.0.0.1:{port}"
        try:
            assert _first_answer(f"{base}/healthz", proc).status_code == 200
            setup = [sys.executable, "-c", SETUP_ORGS, stuck.base_url, fine.base_url, GLOBEX_KEY]
            token = subprocess.run(setup, env=env, capture_output=True, text=True, check=True).stdout.strip()

            assert post_webhook(base, robust_body("a2")).status_code == 202
            wait_for(lambda: len(stuck.requests) >= 2, timeout=60)  # sends are hanging

            assert post_webhook(base, robust_body("b"), key=GLOBEX_KEY).status_code == 202
            summaries = wait_for(lambda: completed_summaries(base, token, flow_run_id("b")), timeout=30)
            roots = [s for s in summaries if not s["is_cascade"]]
            messages = wait_for(lambda: len(fine.requests) >= len(roots) and fine.requests, timeout=30)

            assert all(flow_run_id("b") in m.body.decode() for m in messages)  # the run's link
            wait_for(lambda: len(stuck.requests) >= 4, timeout=30)
            assert len(stuck.requests) == 4  # the org's other 6 messages wait their turn
        finally:
            stuck.release()
            os.killpg(proc.pid, signal.SIGINT)
            proc.wait(timeout=30)


def test_when_one_process_ends_run_names_it_stops_the_others_and_fails(capsys: pytest.CaptureFixture[str]):
    from failbrief.cli.serve import _supervise

    lasting = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    ending = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])

    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        assert _supervise([lasting, ending]) == 1
    finally:  # _supervise takes Ctrl-C for itself; give it back to pytest
        for sig, handler in handlers.items():
            signal.signal(sig, handler)

    assert lasting.poll() is not None, "the process still running was left behind"
    said = capsys.readouterr().err
    assert "exited with code 3; stopping the rest" in said
    assert Path(sys.executable).name in said


@pytest.mark.parametrize(
    "url",
    [
        "https://api.airbyte.com/v1",
        "http://airbyte:8000/api/public/v1/",
        "http://airbyte:8006/v1",
        "http://airbyte:hunter2@airbyte:8000/api/public/v1",
    ],
)
def test_airbytes_public_api_as_airbyte_api_url_is_one_line_naming_the_config_api(tmp_path: Path, url: str):
    # The public API has jobs but no attempt logs: every failed sync would be summarized from
    # Prefect's logs, and the operator would learn why only from each summary's note.
    line = _one_clean_line(_start_error(["migrate"], tmp_path, AIRBYTE_API_URL=url))
    assert line.startswith("Error: configuration error: AIRBYTE_API_URL "), line
    assert "is Airbyte's public API, which has no job logs" in line
    assert line.endswith("give its Config API, e.g. http://airbyte:8000/api/v1")
    assert "hunter2" not in line


@pytest.mark.parametrize("url", ["http://airbyte:8000/api/v1", "https://airbyte.example.org/api/v1/"])
def test_airbytes_config_api_as_airbyte_api_url_starts(tmp_path: Path, url: str):
    result = _start_error(["migrate"], tmp_path, AIRBYTE_API_URL=url)
    assert result.returncode == 0, result.stderr
