"""The browser that last signed in to an account: a signed cookie set at each successful sign-in.
Someone failing on purpose locks an account (FAILBRIEF_RATE_SIGNIN) for everyone but that browser,
so the lock cannot be used to keep a person out. The cookie names the account and a digest of its
password hash: forged or edited it is refused (Django's signing, SECRET_KEY), and a password change
ends it. It is no sign-in by itself: the password is still checked."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.utils.crypto import constant_time_compare, salted_hmac

COOKIE = "failbrief_known"
SALT = "failbrief.pages.known_browser"
MAX_AGE = 90 * 86400  # a person who signs in less often than this meets the account's lock again


def remember(response: HttpResponse, user: User) -> None:
    """Mark the browser that `response` goes to as the one that signed in to `user`."""
    response.set_signed_cookie(
        COOKIE,
        f"{user.username}|{_digest(user)}",
        salt=SALT,
        max_age=MAX_AGE,
        httponly=True,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


def is_known(request: HttpRequest, account: str) -> bool:
    """The request comes from the browser that last signed in to `account` with its current password."""
    value = request.get_signed_cookie(COOKIE, default="", salt=SALT, max_age=MAX_AGE)
    name, _, digest = str(value).rpartition("|")
    if not name or name != account.strip().lower():
        return False
    user = User.objects.filter(username=name).only("pk", "password").first()
    return user is not None and constant_time_compare(digest, _digest(user))


def _digest(user: User) -> str:
    # Of the password hash (never the hash itself): a changed password ends every cookie it made.
    return salted_hmac(SALT, f"{user.pk}|{user.password}").hexdigest()[:32]
