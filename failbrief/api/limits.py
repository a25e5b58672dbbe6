"""Rate limits on what costs money or reaches outside, counted per org (django-ratelimit on the cache).

- regenerating a summary asks the LLM again, a paid call: limited per summary and per org;
- a channel test sends a message out: limited per org;
- every token-authenticated write, and every summary request (it may start an LLM call): limited
  per org.

Over a limit the API answers 429 with a JSON `detail` and `Retry-After` (seconds until the window
ends). Counting is atomic in Redis and in the database cache (settings.CACHES), so a burst of
concurrent requests lets at most the limit through, whichever web process or thread takes them."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from ninja.errors import HttpError
from redis.exceptions import RedisError

from failbrief.orgs.models import Org

log = logging.getLogger(__name__)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RateLimited(Exception):
    """Answered with 429 and Retry-After (api/__init__.py)."""

    def __init__(self, what: str, retry_after: int) -> None:
        super().__init__(f"too many {what}; try again in {retry_after} s")
        self.retry_after = retry_after


def limit(request: HttpRequest, group: str, key: str, rate: str | None, what: str) -> None:
    """Count this request against `rate` for `key`; raise RateLimited when over it."""
    if rate is None:  # the setting is "off"
        return
    try:
        usage = get_usage(request, group=group, key=lambda _group, _request: key, rate=rate, increment=True)
    except (RedisError, DatabaseError, OSError) as exc:
        # Refusing is safer than letting paid calls through uncounted; the cause goes to the log only.
        log.warning("rate limit %s: the cache did not answer: %s", group, exc)
        raise HttpError(503, "the rate limiter's cache did not answer; try again shortly") from None
    if usage is not None and usage["should_limit"]:
        raise RateLimited(what, max(1, int(usage["time_left"])))


def limit_writes(request: HttpRequest, org: Org) -> None:
    limit(request, "writes", str(org.pk), settings.RATE_WRITES, "requests that change things for this org")


def limit_regenerate(request: HttpRequest, unit: str) -> None:
    """`unit` names the failed unit (all versions of its summary count together)."""
    org = _org(request)
    limit(
        request,
        "regenerate-summary",
        f"{org.pk}:{unit}",
        settings.RATE_REGENERATE_PER_SUMMARY,
        "regenerations of this summary",
    )
    per_org = settings.RATE_REGENERATE_PER_ORG
    limit(request, "regenerate-org", str(org.pk), per_org, "regenerations for this org")


def limit_summary_request(request: HttpRequest, unit: str, regenerate: bool) -> None:
    """Dalgo's triggers are GETs that may start an LLM call: a write, and a regeneration if asked."""
    limit_writes(request, _org(request))
    if regenerate:
        limit_regenerate(request, unit)


def limit_channel_test(request: HttpRequest) -> None:
    org = _org(request)
    limit(request, "channel-test", str(org.pk), settings.RATE_CHANNEL_TEST, "channel tests for this org")


def _org(request: HttpRequest) -> Org:
    # OrgToken set it before the operation runs.
    org = request.auth  # type: ignore[attr-defined]
    assert isinstance(org, Org)
    return org
