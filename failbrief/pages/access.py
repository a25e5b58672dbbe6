"""Who may see which org's pages: anonymous → sign-in, another org's pages → 404 (as if it did not
exist), an admin-only action by a member → 403."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, ParamSpec, cast
from urllib.parse import urlencode, urlsplit

from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from failbrief.orgs.models import Org
from failbrief.pages.models import Membership

P = ParamSpec("P")


@dataclass(frozen=True)
class Seat:
    """The signed-in person in the org the URL names."""

    user: User
    org: Org
    membership: Membership
    memberships: tuple[Membership, ...] = ()  # every org of the person, by slug (the org switcher)

    @property
    def is_admin(self) -> bool:
        return self.membership.is_admin


def seat_of(request: HttpRequest, slug: str) -> Seat:
    """The person's membership of org `slug`; Http404 when there is none (or no such org)."""
    user = request.user
    assert isinstance(user, User)
    # One query for the person's orgs: the page's own and the header's switcher.
    memberships = tuple(Membership.objects.filter(user=user).select_related("org").order_by("org__slug"))
    membership = next((m for m in memberships if m.org.slug == slug), None)
    if membership is None:
        raise Http404("no such org")
    return Seat(user, membership.org, membership, memberships)


OrgView = Callable[Concatenate[HttpRequest, Seat, P], HttpResponse]
SlugView = Callable[Concatenate[HttpRequest, str, P], HttpResponse]


def org_page(view: OrgView[P]) -> SlugView[P]:
    """A page of one org (its slug is the URL's first argument), for its members."""

    @wraps(view)
    def page(request: HttpRequest, slug: str, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return to_sign_in(request, slug)
        return view(request, seat_of(request, slug), *args, **kwargs)

    return cast("SlugView[P]", page)


def admin_page(view: OrgView[P]) -> SlugView[P]:
    """An org page or action for its admins only; a member gets 403."""

    @wraps(view)
    def page(request: HttpRequest, slug: str, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return to_sign_in(request, slug)
        seat = seat_of(request, slug)
        if not seat.is_admin:
            raise PermissionDenied("only an admin of this org may do this")
        return view(request, seat, *args, **kwargs)

    return cast("SlugView[P]", page)


def to_sign_in(request: HttpRequest, slug: str) -> HttpResponse:
    """Sign-in, then back. A form sent after the session ended goes back to the page it was on
    (its referrer, on this site; else the org's list), not to its own URL: that one takes POSTs
    only, and the person would land on a 405 with what they typed gone."""
    if request.method in ("GET", "HEAD"):
        return redirect_to_login(request.get_full_path())
    referrer = request.headers.get("Referer", "")
    same_site = url_has_allowed_host_and_scheme(
        referrer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    if same_site and referrer:
        parts = urlsplit(referrer)
        back = parts.path + (f"?{parts.query}" if parts.query else "")
    else:
        back = reverse("pages:failures", args=[slug])
    return redirect(reverse("pages:signin") + "?" + urlencode({"next": back, "unsent": "1"}))
