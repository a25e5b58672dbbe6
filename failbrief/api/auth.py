from __future__ import annotations

from django.http import HttpRequest
from ninja.security import HttpBearer

from failbrief.orgs.manage import org_for_token
from failbrief.orgs.models import Org


class OrgToken(HttpBearer):
    """`Authorization: Bearer <token>`; request.auth becomes the token's Org."""

    def authenticate(self, request: HttpRequest, token: str) -> Org | None:
        return org_for_token(token) if token else None


def request_org(request: HttpRequest) -> Org:
    org = request.auth  # type: ignore[attr-defined]
    assert isinstance(org, Org)
    return org
