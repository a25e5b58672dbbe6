"""Failed sign-ins per account (FAILBRIEF_RATE_SIGNIN): past the limit the account's password is
not even checked until the window ends, so it cannot be guessed through the sign-in form or an
invitation's confirm-your-password form. Counted per account, not per address: behind a reverse
proxy every person comes from the proxy's address. So that failing on purpose cannot lock a person
out, the browser that last signed in to the account (known_browser) passes its lock; its own
failures are counted per address, with the same limit, past which it is locked like any other."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from redis.exceptions import RedisError

from failbrief.pages.known_browser import is_known

GROUP = "signin-failures"
ADDRESS_GROUP = "signin-failures-known-browser"
log = logging.getLogger(__name__)


def locked_for(request: HttpRequest, account: str) -> int:
    """Seconds until `account` may try again from this browser; 0 when it may now."""
    wait = _wait(request, GROUP, account)
    if wait and is_known(request, account):
        return _wait(request, ADDRESS_GROUP, _address(request))
    return wait


def failed(request: HttpRequest, account: str) -> None:
    _usage(request, GROUP, account, increment=True)
    if is_known(request, account):
        _usage(request, ADDRESS_GROUP, _address(request), increment=True)


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR") or "unknown")


def _wait(request: HttpRequest, group: str, key: str) -> int:
    usage = _usage(request, group, key, increment=False)
    if usage is None or usage["time_left"] < 0:  # off, or the count could not be read
        return 0
    if usage["count"] >= usage["limit"]:
        return max(1, int(usage["time_left"]))
    return 0


def _usage(request: HttpRequest, group: str, key: str, *, increment: bool) -> dict[str, Any] | None:
    rate = settings.RATE_SIGNIN
    if rate is None or not key:  # the setting is "off"
        return None
    key = key.strip().lower()
    try:
        usage: dict[str, Any] | None = get_usage(
            request, group=group, key=lambda _group, _request: key, rate=rate, increment=increment
        )
    except (RedisError, DatabaseError, OSError) as exc:
        # Sign-in must work while the cache is down: the limit waits for it, signing in does not.
        log.warning("sign-in limit: the cache did not answer: %s", exc)
        return None
    return usage


def wait_text(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
