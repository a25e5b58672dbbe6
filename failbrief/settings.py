"""Every environment variable failbrief reads is read here, and nowhere else.

A wrong value stops start-up with one clear line (ImproperlyConfigured); it is never
quietly replaced by a default.
"""

from __future__ import annotations

import base64
import binascii
import math
import os
import re
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from urllib.parse import urlparse

import dj_database_url
from django.core.checks.security.base import (
    SECRET_KEY_INSECURE_PREFIX,
    SECRET_KEY_MIN_LENGTH,
    SECRET_KEY_MIN_UNIQUE_CHARACTERS,
)
from django.core.exceptions import ImproperlyConfigured

from failbrief.lib.airbyte_url import is_public_api, public_api_refusal
from failbrief.lib.private_files import private_dir, private_file
from failbrief.lib.url_credentials import without_credentials

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("FAILBRIEF_VAR_DIR", str(BASE_DIR / "var")))


def env_str(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def env_float(name: str, default: float, minimum: float = 0.0) -> float:
    raw = os.environ.get(name, "").strip()
    if raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from None
    if not math.isfinite(value):  # float() reads "nan" and "inf", which no deadline or count can use
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}")
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {raw!r}")
    return value


def env_int(name: str, default: int, minimum: int = 0) -> int:
    value = env_float(name, float(default), float(minimum))
    if value != int(value):
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}")
    return int(value)


def env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name, "").strip().lower()
    if raw not in {"", "true", "false", "1", "0"}:
        raise ImproperlyConfigured(f"{name} must be 'true' or 'false', not {raw!r}")
    return default if raw == "" else raw in {"true", "1"}


def env_url(name: str, default: str, schemes: set[str]) -> str:
    value = env_str(name, default)
    parts = urlparse(value)
    scheme = parts.scheme.split("+")[0]
    if scheme not in schemes:
        allowed = ", ".join(sorted(schemes))
        # Not the URL as given: it may hold a password, and this line ends up in logs.
        shown = without_credentials(value)
        raise ImproperlyConfigured(f"{name} must be a URL with one of the schemes {allowed}, not {shown!r}")
    try:
        parts.port  # noqa: B018 (urllib checks the port only when it is read)
    except ValueError:
        # Not the URL itself: it may hold a password, and this line ends up in logs.
        raise ImproperlyConfigured(
            f"{name} has a port that is not a number (host {parts.hostname!r})"
        ) from None
    return value


def env_networks(name: str, default: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated networks ("10.0.0.0/8,::1/128"; a bare address is one host); "none" is none."""
    raw = env_str(name, default)
    if raw.lower() == "none":
        return ()
    try:
        return tuple(ip_network(part.strip()) for part in raw.split(",") if part.strip())
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"{name} must be comma-separated networks such as 10.0.0.0/8, or 'none': {exc}"
        ) from None


def env_host_names(name: str) -> tuple[str, ...]:
    """Comma-separated host names, lowercased; a leading dot takes in the subdomains (as in
    ALLOWED_HOSTS). No '*', port or scheme: only a name a Host header's name is compared with."""
    names = tuple(part.strip().lower() for part in env_str(name, "").split(",") if part.strip())
    for host in names:
        if "*" in host or ":" in host or "/" in host:
            raise ImproperlyConfigured(
                f"{name} must be comma-separated host names such as failbrief.internal "
                f"(no port, no scheme, no '*'), not {host!r}"
            )
    return names


def env_fernet_keys(name: str) -> tuple[str, ...]:
    """Comma-separated Fernet keys (`failbrief vault generate-key` makes one); () when unset."""
    keys = tuple(part.strip() for part in env_str(name, "").split(",") if part.strip())
    for number, key in enumerate(keys, start=1):
        try:
            valid = len(base64.urlsafe_b64decode(key.encode("ascii"))) == 32
        except (binascii.Error, UnicodeEncodeError, ValueError):
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                f"{name}: key {number} is not a Fernet key (44 URL-safe base64 characters); "
                "make one with 'failbrief vault generate-key'"
            )
    return keys


_RATE = re.compile(r"[1-9][0-9]*/([1-9][0-9]*)?[smhd]")


def env_rate(name: str, default: str) -> str | None:
    """A rate limit such as "5/h", "60/m", "100/d" or "30/10m" (30 per 10 minutes); "off" = none."""
    value = env_str(name, default)
    if value.lower() == "off":
        return None
    if not _RATE.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name} must be a rate such as 5/h, 60/m, 100/d or 30/10m (count/period), or 'off', "
            f"not {value!r}"
        )
    return value


def env_choice(name: str, default: str, choices: set[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(sorted(choices))}, not {value!r}")
    return value


DEBUG = env_flag("DEBUG", False)
# The development key only serves the embedded defaults; a PostgreSQL deployment must set its own.
_DEV_SECRET = "failbrief-insecure-development-key-set-SECRET_KEY-in-production"  # noqa: S105
SECRET_KEY = env_str("SECRET_KEY", _DEV_SECRET)
ALLOWED_HOSTS = [h.strip() for h in env_str("ALLOWED_HOSTS", "*").split(",") if h.strip()]
PORT = env_int("PORT", 8000, minimum=1)
if PORT > 65535:
    raise ImproperlyConfigured(f"PORT must be at most 65535, not {str(PORT)!r}")

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "failbrief.orgs",
    "failbrief.events",
    "failbrief.summarize",
    "failbrief.sources",
    "failbrief.notify",
    "failbrief.pages",
]

MIDDLEWARE = [
    # Outermost: every request to the webhook URL is counted, those the middleware below refuse too.
    "failbrief.metrics.middleware.CountWebhooks",
    # Then: /healthz and /metrics are answered whatever Host names (a load balancer's check and
    # Prometheus reach an instance by its own address, not by a name in ALLOWED_HOSTS).
    "failbrief.lib.probes.ProbesByAnyHost",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Token-authenticated API and webhook views are exempt (django-ninja and @csrf_exempt); every
    # form of the pages (failbrief/pages, cookie-authenticated) is protected.
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "failbrief.lib.json_errors.JsonErrors",
]

# Behind an HTTPS-terminating proxy (docs/deploy.md): trust its X-Forwarded-Proto, redirect plain
# HTTP (but not the probes a load balancer sends over HTTP inside the network), secure cookies.
HTTPS = env_flag("FAILBRIEF_HTTPS", False)
if HTTPS:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("FAILBRIEF_HSTS_SECONDS", 0)  # opt in: HSTS is hard to take back

ROOT_URLCONF = "failbrief.urls"
WSGI_APPLICATION = "failbrief.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- Pages (failbrief/pages, docs/pages.md): sign-in for people --------------------------------
LOGIN_URL = "pages:signin"
LOGIN_REDIRECT_URL = "pages:home"
SESSION_COOKIE_HTTPONLY = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
]
SESSION_COOKIE_AGE = env_int("FAILBRIEF_SESSION_DAYS", 14, minimum=1) * 86400
# failbrief's own base URL as people reach it (https://failbrief.example.org). Set, it makes the
# invite links absolute and the notifications link to failbrief's run page.
PUBLIC_URL = env_str("FAILBRIEF_PUBLIC_URL", "").rstrip("/")
if PUBLIC_URL:
    PUBLIC_URL = env_url("FAILBRIEF_PUBLIC_URL", "", {"http", "https"}).rstrip("/")
INVITE_TTL_HOURS = env_float("FAILBRIEF_INVITE_TTL_HOURS", 72.0, minimum=0.1)
PAGE_SIZE = env_int("FAILBRIEF_PAGE_SIZE", 50, minimum=5)
# After an org's webhook key is rotated (its settings page) the old key keeps working this long by
# default, so the Prefect block can be updated without losing a failure.
WEBHOOK_KEY_GRACE_HOURS = env_float("FAILBRIEF_WEBHOOK_KEY_GRACE_HOURS", 24.0)

_DEFAULT_SQLITE = VAR_DIR / "failbrief.sqlite3"
DATABASE_URL = env_url("DATABASE_URL", f"sqlite:///{_DEFAULT_SQLITE}", {"sqlite", "postgres", "postgresql"})
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
except ValueError:  # dj_database_url.ParseError
    raise ImproperlyConfigured(
        "DATABASE_URL is not a valid URL; percent-encode special characters in its password"
    ) from None
if _db["ENGINE"] != "django.db.backends.sqlite3" and not _db.get("NAME"):
    raise ImproperlyConfigured(
        "DATABASE_URL names no database; end it with /DBNAME (postgresql://user:password@host:5432/failbrief)"
    )
if _db["ENGINE"] != "django.db.backends.sqlite3":
    # libpq waits for ever on a host that accepts the connection and never answers (a firewall that
    # drops packets): every request and /healthz would hang instead of failing. `?connect_timeout=`
    # in DATABASE_URL overrides it.
    _db.setdefault("OPTIONS", {}).setdefault("connect_timeout", 10)
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE makes writers queue on the
    # busy timeout instead of failing with "database is locked" when they upgrade a read lock.
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        "timeout": 30,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    _db.setdefault("TEST", {})["NAME"] = str(VAR_DIR / "test-failbrief.sqlite3")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USES_SQLITE = _db["ENGINE"] == "django.db.backends.sqlite3"

if SECRET_KEY == _DEV_SECRET and not USES_SQLITE and not DEBUG:
    raise ImproperlyConfigured(
        "SECRET_KEY is not set; set it to a long random string for a PostgreSQL deployment"
    )


def _weak_secret_key(key: str) -> str:
    """Why Django's `check --deploy` would call the key weak (its own thresholds), or ""."""
    if key.startswith(SECRET_KEY_INSECURE_PREFIX):
        return "is Django's development key"
    if len(key) < SECRET_KEY_MIN_LENGTH:
        return f"is {len(key)} characters"
    if len(set(key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return f"has {len(set(key))} distinct characters"
    return ""


# A guessable key forges what Django signs (the session's auth hash, signed cookies); `check --deploy`
# only warns, so a PostgreSQL deployment refuses to start on one.
if not USES_SQLITE and not DEBUG and (weakness := _weak_secret_key(SECRET_KEY)):
    raise ImproperlyConfigured(
        f"SECRET_KEY {weakness}; a PostgreSQL deployment needs at least {SECRET_KEY_MIN_LENGTH} random "
        'characters: python -c "import secrets; print(secrets.token_urlsafe(50))"'
    )

STATIC_URL = "/static/"
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False

# --- Celery -------------------------------------------------------------------------------------
CELERY_BROKER_URL = env_url(
    "CELERY_BROKER_URL",
    f"sqla+sqlite:///{VAR_DIR / 'celery-broker.sqlite3'}",
    {"sqla", "redis", "rediss", "amqp", "amqps", "pyamqp"},
)
# The embedded files hold every org's data: readable by the service's user alone (0600, in a 0700
# directory), including files an older install left world-readable.
_SQLITE_BROKER = "sqla+sqlite:///"
USES_EMBEDDED_BROKER = CELERY_BROKER_URL.startswith(_SQLITE_BROKER)
try:
    if USES_SQLITE or CELERY_BROKER_URL.startswith(_SQLITE_BROKER):
        private_dir(VAR_DIR)
    if USES_SQLITE and str(_db["NAME"]) not in {"", ":memory:"}:
        private_file(Path(_db["NAME"]))
    if CELERY_BROKER_URL.startswith(_SQLITE_BROKER) and CELERY_BROKER_URL != _SQLITE_BROKER + ":memory:":
        private_file(Path(CELERY_BROKER_URL.removeprefix(_SQLITE_BROKER)))
except OSError as exc:
    raise ImproperlyConfigured(
        f"cannot create the embedded files in {exc.filename or VAR_DIR} ({exc.strerror}); "
        "set FAILBRIEF_VAR_DIR to a directory the service's user may write"
    ) from None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# The webhook must answer even when the broker is down: publish fails fast, the event stays
# pending in the database, and the beat task re-enqueues it.
CELERY_BROKER_CONNECTION_TIMEOUT = env_float("CELERY_BROKER_CONNECTION_TIMEOUT", 2.0)
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {}
if CELERY_BROKER_URL.startswith(("redis", "rediss")):
    # visibility_timeout: an unacknowledged task (its worker was killed) is redelivered after this.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "socket_connect_timeout": 2,
        "socket_timeout": 5,
        "visibility_timeout": env_int("FAILBRIEF_VISIBILITY_TIMEOUT_SECONDS", 600, minimum=10),
    }
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Notification tasks have their own queue, for their own workers (`failbrief worker --queues
# notify`; `failbrief run` starts one): a worker that takes only the default queue never has a
# slot held by a channel that hangs, so summaries never wait behind notifications. A worker
# started without a queue list (plain `celery worker`, `failbrief worker`) takes both.
CELERY_TASK_DEFAULT_QUEUE = "celery"
NOTIFY_QUEUE = "notify"
CELERY_TASK_QUEUES: dict[str, dict[str, str]] = {CELERY_TASK_DEFAULT_QUEUE: {}, NOTIFY_QUEUE: {}}
CELERY_TASK_ROUTES = {"failbrief.notify.tasks.*": {"queue": NOTIFY_QUEUE}}

# --- Vault: the key that encrypts stored secrets (Airbyte tokens, channel configs) ---------------
# FAILBRIEF_VAULT_KEY: comma-separated keys; the first encrypts, all decrypt (during a rotation).
# Unset: the key file, made with a random key on first use (0600). Every host must use the same key:
# a PostgreSQL deployment's server commands refuse to start without FAILBRIEF_VAULT_KEY.
VAULT_KEYS = env_fernet_keys("FAILBRIEF_VAULT_KEY")
VAULT_KEY_FILE = VAR_DIR / "vault.key"

# --- Cache: the rate limits' counters ------------------------------------------------------------
# CACHE_URL (redis://), else the broker's Redis when the broker is Redis, else a table in the
# database (web processes on one host or many share it; increments are atomic).
CACHE_URL = env_str("CACHE_URL", "")
if CACHE_URL:
    CACHE_URL = env_url("CACHE_URL", "", {"redis", "rediss"})
elif CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CACHE_URL = CELERY_BROKER_URL
CACHE_TABLE = None if CACHE_URL else "failbrief_cache"  # made by `failbrief migrate`
if CACHE_URL:
    CACHES: dict[str, dict[str, object]] = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "failbrief",  # apart from the broker's keys when they share a database
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 5},
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "failbrief.lib.atomic_db_cache.AtomicDatabaseCache",
            "LOCATION": CACHE_TABLE,
            # Culling would drop live counters; expired ones are culled first, so it seldom reaches them.
            "OPTIONS": {"MAX_ENTRIES": 100_000},
        }
    }

# --- Rate limits (429 with Retry-After; see docs/api.md) -----------------------------------------
# Regenerating asks the LLM again (a paid call); a channel test sends a message out; every
# token-authenticated write (and every summary request) counts against its org's write limit.
RATE_REGENERATE_PER_SUMMARY = env_rate("FAILBRIEF_RATE_REGENERATE_PER_SUMMARY", "5/h")
RATE_REGENERATE_PER_ORG = env_rate("FAILBRIEF_RATE_REGENERATE_PER_ORG", "60/h")
RATE_CHANNEL_TEST = env_rate("FAILBRIEF_RATE_CHANNEL_TEST", "20/h")
RATE_WRITES = env_rate("FAILBRIEF_RATE_WRITES", "120/m")
# Failed sign-ins per account (the pages' sign-in and an invitation's confirm-your-password form):
# past it the password is not checked until the window ends, so it cannot be guessed.
RATE_SIGNIN = env_rate("FAILBRIEF_RATE_SIGNIN", "10/15m")
RATELIMIT_CACHE_PREFIX = "rl:"

# --- Prefect ------------------------------------------------------------------------------------
PREFECT_API_URL = env_url("PREFECT_API_URL", "http://127.0.0.1:4200/api", {"http", "https"}).rstrip("/")
PREFECT_API_KEY = env_str("PREFECT_API_KEY", "") or None
PREFECT_TIMEOUT_SECONDS = env_float("PREFECT_TIMEOUT_SECONDS", 10.0, minimum=0.1)
PREFECT_NOTIFICATIONS_WEBHOOK_KEY = env_str("PREFECT_NOTIFICATIONS_WEBHOOK_KEY", "") or None

# --- Processing ---------------------------------------------------------------------------------
LOG_SETTLE_SECONDS = env_float("FAILBRIEF_LOG_SETTLE_SECONDS", 3.0)
LOG_SETTLE_CAP_SECONDS = env_float("FAILBRIEF_LOG_SETTLE_CAP_SECONDS", 30.0)
# Prefect keeps up to 100,000 characters of a state message in its events, and the call-webhook
# templates render it with `tojson`, which writes each non-ASCII character as a 6-byte \uXXXX escape;
# a raw event carries it twice. So a real webhook can pass 1 MB; this bound leaves room for the
# parameters the robust template adds (Prefect does not cut those).
WEBHOOK_MAX_BYTES = 4 * 1024 * 1024
# A pending event older than this is re-enqueued by beat (the broker may have been down).
REQUEUE_AFTER_SECONDS = env_float("FAILBRIEF_REQUEUE_AFTER_SECONDS", 30.0, minimum=1.0)
REQUEUE_EVERY_SECONDS = env_float("FAILBRIEF_REQUEUE_EVERY_SECONDS", 15.0, minimum=1.0)
# A summary still "running" after this is failed by beat, so nothing stays running forever.
STUCK_AFTER_SECONDS = env_float("FAILBRIEF_STUCK_AFTER_SECONDS", 900.0, minimum=10.0)
# Transient errors (Prefect down, 5xx, 429) are retried with backoff until this deadline.
RETRY_DEADLINE_SECONDS = env_float("FAILBRIEF_RETRY_DEADLINE_SECONDS", 600.0, minimum=1.0)
CONTEXT_MAX_TOKENS = env_int("FAILBRIEF_CONTEXT_MAX_TOKENS", 4000, minimum=200)

# --- LLM summaries (opt-in per org; see docs/llm.md) ---------------------------------------------
LLM_PROVIDERS = {"offline", "openai", "anthropic"}
LLM_PROVIDER = env_choice("LLM_PROVIDER", "offline", LLM_PROVIDERS)
LLM_MODEL = env_str("LLM_MODEL", "")  # "" = the provider's default model
OPENAI_API_KEY = env_str("OPENAI_API_KEY", "") or None
OPENAI_BASE_URL = (
    env_str("OPENAI_BASE_URL", "") or None
)  # any OpenAI-compatible endpoint (Azure, Ollama, vLLM)
ANTHROPIC_API_KEY = env_str("ANTHROPIC_API_KEY", "") or None
ANTHROPIC_BASE_URL = env_str("ANTHROPIC_BASE_URL", "") or None
LLM_TIMEOUT_SECONDS = env_float("LLM_TIMEOUT_SECONDS", 60.0, minimum=1.0)  # one request
LLM_DEADLINE_SECONDS = env_float("LLM_DEADLINE_SECONDS", 120.0, minimum=1.0)  # all tries for one summary
LLM_MAX_RETRIES = env_int("LLM_MAX_RETRIES", 3)
LLM_MAX_CONCURRENCY = env_int("LLM_MAX_CONCURRENCY", 4, minimum=1)  # per worker process and provider
SIGNATURE_WINDOW_DAYS = env_float("FAILBRIEF_SIGNATURE_WINDOW_DAYS", 7.0)

# --- Airbyte (see docs/airbyte.md) ---------------------------------------------------------------
AIRBYTE_API_URL = env_str("AIRBYTE_API_URL", "").rstrip("/") or None  # e.g. http://airbyte:8000/api/v1
if AIRBYTE_API_URL and is_public_api(AIRBYTE_API_URL):
    # Refused here, not found out from every failed sync's note that Airbyte's logs could not be read.
    raise ImproperlyConfigured(public_api_refusal("AIRBYTE_API_URL", without_credentials(AIRBYTE_API_URL)))
AIRBYTE_API_TOKEN = env_str("AIRBYTE_API_TOKEN", "") or None
AIRBYTE_AUTH = env_choice(
    "AIRBYTE_AUTH", "basic", {"basic", "bearer"}
)  # Authorization: Basic <token> as Dalgo
AIRBYTE_TIMEOUT_SECONDS = env_float("AIRBYTE_TIMEOUT_SECONDS", 15.0, minimum=0.1)

# --- Notifications (see docs/notifications.md) ---------------------------------------------------
# The link in every message. {flow_run_id} is the top-level run; {prefect_ui} is PREFECT_UI_URL.
PREFECT_UI_URL = env_url(
    # A link people open (notifications, pages): never with the user and password of the API's URL.
    "PREFECT_UI_URL",
    without_credentials(PREFECT_API_URL.removesuffix("/api") or PREFECT_API_URL),
    {"http", "https"},
).rstrip("/")
# With FAILBRIEF_PUBLIC_URL set (the pages are reachable), the link goes to failbrief's run page.
_PAGES_RUN_URL = f"{PUBLIC_URL}/o/{{org}}/runs/{{flow_run_id}}/"
RUN_URL_TEMPLATE = env_str(
    "FAILBRIEF_RUN_URL_TEMPLATE",
    _PAGES_RUN_URL if PUBLIC_URL else "{prefect_ui}/runs/flow-run/{flow_run_id}",
)
PREFECT_RUN_URL_TEMPLATE = "{prefect_ui}/runs/flow-run/{flow_run_id}"
try:
    RUN_URL_TEMPLATE.format(prefect_ui="", flow_run_id="", org="")
except (KeyError, IndexError, ValueError):
    raise ImproperlyConfigured(
        "FAILBRIEF_RUN_URL_TEMPLATE may use only {prefect_ui}, {flow_run_id} and {org}, "
        f"not {RUN_URL_TEMPLATE!r}"
    ) from None
# The same failure of the same pipeline again within this window is held, then sent as one
# "failing again (N×)" message when the window closes. 0 = every failure is its own message.
NOTIFY_REPEAT_WINDOW_SECONDS = env_float("FAILBRIEF_NOTIFY_REPEAT_WINDOW_SECONDS", 3600.0)
NOTIFY_TIMEOUT_SECONDS = env_float("FAILBRIEF_NOTIFY_TIMEOUT_SECONDS", 10.0, minimum=0.5)  # each phase
# The whole of one send (connect, headers, body), however slowly the receiver drips its answer;
# a send past it is retried like a timeout. The test message of a channel has a shorter one, as
# the person who asked for it is waiting on a web request.
NOTIFY_DEADLINE_SECONDS = env_float("FAILBRIEF_NOTIFY_DEADLINE_SECONDS", 15.0, minimum=0.5)
NOTIFY_TEST_DEADLINE_SECONDS = env_float("FAILBRIEF_NOTIFY_TEST_DEADLINE_SECONDS", 5.0, minimum=0.5)
NOTIFY_MAX_ATTEMPTS = env_int("FAILBRIEF_NOTIFY_MAX_ATTEMPTS", 6, minimum=1)
# At most this many sends of one org in flight at once, across all workers: an org whose channels
# hang holds this many notify worker slots, never all of them. The others wait their turn.
NOTIFY_ORG_CONCURRENCY = env_int("FAILBRIEF_NOTIFY_ORG_CONCURRENCY", 4, minimum=1)
# Channel URLs whose host resolves to a loopback, private or link-local address are refused (an
# org's token must not make failbrief POST into its own network) unless this is true.
NOTIFY_ALLOW_PRIVATE = env_flag("FAILBRIEF_NOTIFY_ALLOW_PRIVATE", False)

# --- Email notifications (Django's mail settings) -------------------------------------------------
# EMAIL_HOST "" = email is not configured: the email channel fails at once saying so, unless
# EMAIL_BACKEND names another backend (console, file, a provider's API).
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("EMAIL_USE_TLS", False)  # STARTTLS, usually port 587
EMAIL_USE_SSL = env_flag("EMAIL_USE_SSL", False)  # TLS from the first byte, usually port 465
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL are exclusive; set one of them")
EMAIL_TIMEOUT = env_float("EMAIL_TIMEOUT", 10.0, minimum=0.1)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "failbrief@localhost")

# --- Missed-webhook reconciler (beat) ------------------------------------------------------------
RECONCILE_EVERY_SECONDS = env_float("FAILBRIEF_RECONCILE_EVERY_SECONDS", 60.0, minimum=0.0)  # 0 = off
RECONCILE_OVERLAP_SECONDS = env_float("FAILBRIEF_RECONCILE_OVERLAP_SECONDS", 120.0)

# --- Metrics (GET /metrics; see docs/metrics.md) -------------------------------------------------
# A scrape is allowed from these networks ("none": from no address), or with this Bearer token.
# A request a reverse proxy passed on (X-Forwarded-For, …) needs the token: its address is the proxy's.
METRICS_TOKEN = env_str("FAILBRIEF_METRICS_TOKEN", "") or None
METRICS_ALLOW = env_networks("FAILBRIEF_METRICS_ALLOW", "127.0.0.1/32,::1/128")
# The names (besides IP addresses, localhost and ALLOWED_HOSTS' names) an allowed address may
# scrape by without the token: any other Host is a web page's DNS rebinding (metrics/access.py).
METRICS_HOSTS = env_host_names("FAILBRIEF_METRICS_HOSTS")
# prometheus_client reads this variable itself, when first imported; read here so the scrape
# knows to sum every process's files. `failbrief run`, `web` and `worker` set it for their processes.
METRICS_MULTIPROC_DIR = env_str("PROMETHEUS_MULTIPROC_DIR", "") or None
if METRICS_MULTIPROC_DIR:
    Path(METRICS_MULTIPROC_DIR).mkdir(parents=True, exist_ok=True)

LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"})
LOG_FORMAT = env_choice("LOG_FORMAT", "plain", {"plain", "json"})  # json: one object per line
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "failbrief.lib.json_logs.JsonFormatter"},
    },
    # The handler's level too: Django's own loggers propagate to it whatever the root's level is.
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": LOG_FORMAT, "level": LOG_LEVEL}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
