"""Sign in, sign out, sign up with an invitation, and the home page (the person's org)."""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import authenticate, login, logout
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from failbrief.pages.guessing import failed, locked_for, wait_text
from failbrief.pages.invites import (
    InviteError,
    accept_invite,
    existing_user,
    joined_with,
    open_invite,
    sign_up,
)
from failbrief.pages.known_browser import remember
from failbrief.pages.models import Invite, Membership

STYLESHEET = Path(__file__).resolve().parent / "static" / "pages" / "style.css"


@require_GET
def stylesheet(request: HttpRequest) -> HttpResponse:
    """The one stylesheet, served by the app itself (no CDN, no static files step)."""
    response = HttpResponse(STYLESHEET.read_bytes(), content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The person's org (the first, by name, when they belong to several); anonymous → sign-in."""
    if not request.user.is_authenticated:
        return redirect("pages:signin")
    membership = (
        Membership.objects.filter(user_id=request.user.pk).select_related("org").order_by("org__slug")
    )
    first = membership.first()
    if first is None:
        return render(request, "pages/no_org.html", status=403)
    return redirect("pages:failures", first.org.slug)


@never_cache
@require_http_methods(["GET", "POST"])
def signin(request: HttpRequest) -> HttpResponse:
    error = ""
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    wait = 0
    email = ""
    if request.method == "POST":
        email = request.POST.get("email", "").strip().lower()[:254]
        if wait := locked_for(request, email):
            error = f"Too many failed sign-ins for this account: try again in {wait_text(wait)}."
        else:
            user = authenticate(request, username=email, password=request.POST.get("password", ""))
            if user is not None:
                login(request, user)
                safe = url_has_allowed_host_and_scheme(
                    next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
                )
                signed_in = redirect(next_url if next_url and safe else "pages:home")
                remember(signed_in, user)
                return signed_in
            failed(request, email)
            error = "Wrong email or password."
    response = render(
        request,
        "pages/signin.html",
        {"error": error, "next": next_url, "email": email, "unsent": request.GET.get("unsent") == "1"},
        status=400 if error else 200,
    )
    return _locked(response, wait)


def _locked(response: HttpResponse, wait: int) -> HttpResponse:
    if wait:
        response.status_code = 429
        response["Retry-After"] = str(wait)
    return response


@require_POST
def signout(request: HttpRequest) -> HttpResponse:
    logout(request)
    return redirect("pages:signin")


@never_cache
@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest, token: str) -> HttpResponse:
    """An invitation's page: a new person sets a password; someone who already has an account
    confirms with theirs and joins the org."""
    try:
        invite = open_invite(token)
    except InviteError as exc:
        if joined := joined_with(token, request.user):
            # The person who used it, again (the form sent twice, the mail's link clicked later).
            return redirect("pages:failures", joined.org.slug)
        return render(request, "pages/signup.html", {"invalid": str(exc)}, status=404)
    known = existing_user(invite)
    errors: list[str] = []
    wait = 0
    if request.method == "POST":
        password = request.POST.get("password", "")
        if known is not None and (wait := locked_for(request, known.username)):
            user = None
            errors.append(f"Too many failed sign-ins for this account: try again in {wait_text(wait)}.")
        elif known is not None:
            user = authenticate(request, username=known.username, password=password)
            if user is None:
                failed(request, known.username)
                errors.append("Wrong password for this account.")
        else:
            user = User(
                username=invite.email, email=invite.email, first_name=request.POST.get("name", "")[:150]
            )
            if password != request.POST.get("password2", ""):
                errors.append("The two passwords differ.")
            else:
                try:
                    validate_password(password, user)
                except ValidationError as exc:
                    errors += exc.messages
        if not errors and user is not None:
            try:
                if known is None:
                    user.set_password(password)  # slow (PBKDF2): before the transaction, not in it
                    membership = sign_up(token, user)
                else:
                    membership = accept_invite(token, user)
            except InviteError as exc:
                return _used_meanwhile(request, token, invite, user if known else None, password, exc)
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            into_org = redirect("pages:failures", membership.org.slug)
            remember(into_org, user)
            return into_org
    context = {"invite": invite, "known": known, "errors": errors, "name": request.POST.get("name", "")[:150]}
    return _locked(render(request, "pages/signup.html", context, status=400 if errors else 200), wait)


def _used_meanwhile(
    request: HttpRequest, token: str, invite: Invite, user: User | None, password: str, exc: InviteError
) -> HttpResponse:
    """The link was used (or withdrawn) while this form was on its way: the twin of a form sent
    twice at once. Whoever used it, with this password, is signed in to the org, as the form sent
    again after the first answer is; anyone else is told why."""
    if user is None and (account := existing_user(invite)) and not locked_for(request, account.username):
        user = authenticate(request, username=account.username, password=password)
        if user is None:
            failed(request, account.username)  # still a password check: limited like sign-in
    if user is not None and (joined := joined_with(token, user)):
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        return redirect("pages:failures", joined.org.slug)
    return render(request, "pages/signup.html", {"invalid": str(exc)}, status=404)
