from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from failbrief.api.limits import SAFE_METHODS, limit_writes
from failbrief.orgs.manage import org_for_token
from failbrief.orgs.models import Org


class OrgToken(HttpBearer):
    """`Authorization: Bearer <token>`; request.auth becomes the token's Org."""

    def authenticate(self, request: HttpRequest, token: str) -> Org | None:
        org = org_for_token(token) if token else None
        if org is not None and request.method not in SAFE_METHODS:
            limit_writes(request, org)  # every token-authenticated write counts against its org
        return org


def request_org(request: HttpRequest) -> Org:
    org = request.auth  # type: ignore[attr-defined]
    assert isinstance(org, Org)
    return org
