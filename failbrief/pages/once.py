"""Forms whose work must be done once per form shown: a double click, or reloading the answer and
choosing "Resend", sends the same form again. Rotating the webhook key twice would retire the key
Prefect still uses with no grace; a second token or signing secret would be made that nobody sees.

Each such form carries a random `once` value, new with every page; the first POST with it claims
it (atomically: cache.add is SET NX in Redis, an insert on a unique key in the database cache), and
a repeat is told the work was done."""

from __future__ import annotations

import logging
import re
import secrets

from django.core.cache import cache
from django.db import DatabaseError
from django.http import HttpRequest
from redis.exceptions import RedisError

FIELD = "once"
VALUE = re.compile(r"[A-Za-z0-9_-]{8,64}")  # what new_once makes; anything else is no value
KEEP_SECONDS = 86400  # longer than anyone keeps an answer open before reloading it
log = logging.getLogger(__name__)


def new_once() -> str:
    return secrets.token_urlsafe(16)


def first_time(request: HttpRequest, action: str) -> bool:
    """True when this request is the first with its form's `once` for `action` (or carries none:
    a form of an older page, or a script, is done as before)."""
    key = _key(request, action)
    if key is None:
        return True
    try:
        return bool(cache.add(key, 1, timeout=KEEP_SECONDS))
    except (RedisError, DatabaseError, OSError) as exc:
        # Doing the work is what the person asked for; a repeat is the rarer harm.
        log.warning("once-only form %s: the cache did not answer: %s", action, exc)
        return True


def release(request: HttpRequest, action: str) -> None:
    """The work was refused (a field to correct): the same form may be sent again."""
    key = _key(request, action)
    if key is not None:
        try:
            cache.delete(key)
        except (RedisError, DatabaseError, OSError) as exc:
            log.warning("once-only form %s: the cache did not answer: %s", action, exc)


def _key(request: HttpRequest, action: str) -> str | None:
    value = request.POST.get(FIELD, "")
    return f"pages-once:{request.user.pk}:{action}:{value}" if VALUE.fullmatch(value) else None
