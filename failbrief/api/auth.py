from __future__ import annotations

import logging
import re

from django.http import HttpRequest
from ninja.errors import HttpError
from ninja.security import HttpBearer

from failbrief.api.limits import SAFE_METHODS, limit_writes
from failbrief.metrics.record import count_platform_request
from failbrief.orgs.manage import org_for_token, platform_for_token
from failbrief.orgs.models import Org

log = logging.getLogger(__name__)
# The org a platform token acts for; Dalgo's webapp and backend already send x-dalgo-org.
ORG_HEADERS = ("X-Failbrief-Org", "X-Dalgo-Org")
SLUG = re.compile(r"[-a-zA-Z0-9_]{1,100}")


class OrgToken(HttpBearer):
    """`Authorization: Bearer <token>`; request.auth becomes the token's Org. An org token is its
    org's and ignores the org headers; a platform token acts for the org a header names."""

    def authenticate(self, request: HttpRequest, token: str) -> Org | None:
        if not token:
            return None
        org = org_for_token(token)
        if org is None:
            platform = platform_for_token(token)
            if platform is None:
                return None
            org = _acting_org(request, platform)
        if request.method not in SAFE_METHODS:
            limit_writes(request, org)  # every token-authenticated write counts against its org
        return org


def _acting_org(request: HttpRequest, platform: str) -> Org:
    """The org the request names for the platform token; logged and counted. Raises HttpError."""
    named = {v.strip() for h in ORG_HEADERS if (v := request.headers.get(h, "").strip())}
    if len(named) > 1:
        log.warning(
            "platform %s: %s %s refused: the org headers disagree", platform, request.method, request.path
        )
        count_platform_request(platform, None)
        raise HttpError(400, f"{' and '.join(ORG_HEADERS)} name different orgs: send one")
    if not named:
        log.warning("platform %s: %s %s refused: no org named", platform, request.method, request.path)
        count_platform_request(platform, None)
        raise HttpError(
            404, f"a platform token acts for the org named in the {ORG_HEADERS[0]} header: none was sent"
        )
    (slug,) = named
    # Not a slug (too long, a NUL PostgreSQL would refuse, …): no org, without asking the database.
    org = Org.objects.filter(slug=slug).first() if SLUG.fullmatch(slug) else None
    if org is None:
        log.warning(
            "platform %s: %s %s refused: no org %r", platform, request.method, request.path, slug[:100]
        )
        count_platform_request(platform, None)
        raise HttpError(
            404, f"no org {slug[:100]!r}: the {ORG_HEADERS[0]} header must name a failbrief org slug"
        )
    log.info("platform %s acting for org %s: %s %s", platform, org.slug, request.method, request.path)
    count_platform_request(platform, org.slug)
    return org


def request_org(request: HttpRequest) -> Org:
    org = request.auth  # type: ignore[attr-defined]
    assert isinstance(org, Org)
    return org
