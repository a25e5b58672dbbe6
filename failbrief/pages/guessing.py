"""Failed sign-ins per account (FAILBRIEF_RATE_SIGNIN): past the limit the account's password is
not even checked until the window ends, so it cannot be guessed through the sign-in form or an
invitation's confirm-your-password form. Counted per account, not per address: behind a reverse
proxy every person comes from the proxy's address."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

GROUP = "signin-failures"
log = logging.getLogger(__name__)


def locked_for(request: HttpRequest, account: str) -> int:
    """Seconds until `account` may try again; 0 when it may now."""
    usage = _usage(request, account, increment=False)
    if usage is None or usage["time_left"] < 0:  # off, or the count could not be read
        return 0
    if usage["count"] >= usage["limit"]:
        return max(1, int(usage["time_left"]))
    return 0


def failed(request: HttpRequest, account: str) -> None:
    _usage(request, account, increment=True)


def _usage(request: HttpRequest, account: str, *, increment: bool) -> dict[str, Any] | None:
    rate = settings.RATE_SIGNIN
    if rate is None or not account:  # the setting is "off"
        return None
    key = account.strip().lower()
    try:
        usage: dict[str, Any] | None = get_usage(
            request, group=GROUP, key=lambda _group, _request: key, rate=rate, increment=increment
        )
    except (RedisError, DatabaseError, OSError) as exc:
        # Sign-in must work while the cache is down: the limit waits for it, signing in does not.
        log.warning("sign-in limit: the cache did not answer: %s", exc)
        return None
    return usage


def wait_text(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
