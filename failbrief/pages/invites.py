"""One-time sign-up links: `failbrief user invite ORG EMAIL [--admin]`."""

from __future__ import annotations

import smtplib
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from failbrief.orgs.models import Org
from failbrief.orgs.secrets import new_secret, secret_hash
from failbrief.pages.models import Invite, Membership


class InviteError(ValueError):
    """The invitation cannot be made or used; the message says why."""


def create_invite(org: Org, email: str, *, admin: bool = False) -> str:
    """A new invitation; returns the sign-up link (shown once: only its hash is stored)."""
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise InviteError(f"{email!r} is not an email address") from None
    token = new_secret()
    Invite.objects.create(
        org=org,
        email=email,
        role=Membership.Role.ADMIN if admin else Membership.Role.MEMBER,
        token_hash=secret_hash(token),
        expires_at=timezone.now() + timedelta(hours=settings.INVITE_TTL_HOURS),
    )
    return signup_link(token)


def withdraw_invites(org: Org, email: str) -> list[str]:
    """End the open invitations of `email` to `org`: their links stop working at once (inviting a
    person again is how a link sent to the wrong place, or with the wrong role, is stopped).
    Returns the roles they offered."""
    now = timezone.now()
    open_ones = Invite.objects.filter(
        org=org, email=email.strip().lower(), used_at__isnull=True, expires_at__gt=now
    )
    roles = list(open_ones.values_list("role", flat=True))
    open_ones.update(expires_at=now)
    return roles


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def email_configured() -> bool:
    """EMAIL_HOST is set, or EMAIL_BACKEND names a backend that needs none (console, a provider)."""
    return bool(settings.EMAIL_HOST) or settings.EMAIL_BACKEND != SMTP_BACKEND


def email_invite(org: Org, email: str, link: str, admin: bool) -> str:
    """Send the sign-up link to `email`; "" when it went, else why not (the link still works)."""
    role = "an admin" if admin else "a member"
    body = (
        f"You are invited to {org.name}'s failed-run briefs on failbrief, as {role}.\n\n"
        f"Choose your password here (the link works once, for {settings.INVITE_TTL_HOURS:g} hours):\n"
        f"{link}\n"
    )
    try:
        send_mail(f"Join {org.name} on failbrief", body, None, [email], fail_silently=False)
    except (OSError, smtplib.SMTPException) as exc:
        return f"{type(exc).__name__}: {exc}"
    return ""


def signup_link(token: str) -> str:
    base = settings.PUBLIC_URL or f"http://127.0.0.1:{settings.PORT}"
    return base + reverse("pages:signup", args=[token])


def open_invite(token: str) -> Invite:
    """The unused, unexpired invitation `token` names; InviteError otherwise."""
    invite = Invite.objects.filter(token_hash=secret_hash(token)).select_related("org").first()
    if invite is None or invite.used_at is not None:
        raise InviteError("this sign-up link is not valid (or was already used); ask for a new one")
    if invite.expires_at <= timezone.now():
        raise InviteError("this sign-up link has expired; ask for a new one")
    return invite


def joined_with(token: str, user: User | AnonymousUser) -> Membership | None:
    """`user`'s membership made by the used invitation `token`, if it is theirs; else None."""
    if not user.is_authenticated:
        return None
    invite = Invite.objects.filter(token_hash=secret_hash(token), used_at__isnull=False).first()
    if invite is None or invite.email != user.username:
        return None
    return Membership.objects.filter(user=user, org_id=invite.org_id).select_related("org").first()


def existing_user(invite: Invite) -> User | None:
    return User.objects.filter(username=invite.email).first()


def accept_invite(token: str, user: User) -> Membership:
    """Use the invitation once: `user` joins its org with its role (an existing membership keeps
    the higher of the two roles)."""
    with transaction.atomic():
        return _join(_use(token), user)


def sign_up(token: str, user: User) -> Membership:
    """Make the new account `user` (its password set) and use the invitation in one transaction:
    both or neither, so a link used or withdrawn meanwhile leaves no account without its membership.
    Two submissions at once serialize on the invitation's row (SQLite: on the write lock); the later
    finds it used (InviteError), as the form sent again after the first answer would."""
    try:
        with transaction.atomic():
            invite = _use(token)
            user.save()
            return _join(invite, user)
    except IntegrityError:
        # Another invitation for the same email, to another org, made the account meanwhile.
        raise InviteError(
            f"an account for {user.username} was made a moment ago; "
            "open this link again to join with its password"
        ) from None


def _use(token: str) -> Invite:
    invite = open_invite(token)
    # Conditional: of two requests at once, the second waits on the row and then updates nothing.
    used = Invite.objects.filter(pk=invite.pk, used_at__isnull=True).update(used_at=timezone.now())
    if not used:
        raise InviteError("this sign-up link was already used")
    return invite


def _join(invite: Invite, user: User) -> Membership:
    membership, created = Membership.objects.get_or_create(
        user=user, org=invite.org, defaults={"role": invite.role}
    )
    if not created and invite.role == Membership.Role.ADMIN and not membership.is_admin:
        membership.role = Membership.Role.ADMIN
        membership.save(update_fields=["role"])
    return membership
