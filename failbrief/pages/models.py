"""People: who belongs to which org (and as what), invitations, feedback on briefs, team notes."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from failbrief.lib.timestamps import Timestamped


class Membership(models.Model):
    """A person in an org. A member reads the org's pages and gives feedback; an admin also
    regenerates summaries and changes the org's settings."""

    class Role(models.TextChoices):
        MEMBER = "member"
        ADMIN = "admin"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "org"], name="one_membership_per_org")]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.org_id} ({self.role})"

    @property
    def is_admin(self) -> bool:
        return self.role == self.Role.ADMIN


class Invite(models.Model):
    """A one-time sign-up link (`failbrief user invite`). Only the token's sha256 is stored."""

    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="invites")
    email = models.EmailField()
    role = models.CharField(max_length=20, choices=Membership.Role.choices, default=Membership.Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"invite {self.email} to {self.org_id}"


class Feedback(Timestamped):
    """One person's verdict on one summary: 👍/👎, an optional comment, and what the category
    really is when the brief got it wrong. Exported as labelled data by GET /api/v1/feedback."""

    summary = models.ForeignKey("summarize.LlmSession", on_delete=models.CASCADE, related_name="feedback")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="feedback")
    helpful = models.BooleanField()
    comment = models.TextField(blank=True)
    category_correction = models.CharField(max_length=50, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["summary", "user"], name="one_feedback_per_user")]

    def __str__(self) -> str:
        return f"feedback {self.user_id} on {self.summary_id}: {'+' if self.helpful else '-'}"


class TeamNote(models.Model):
    """What fixed a recurring failure (one signature) last time, written by a person; every later
    brief, page and notification of the same signature carries it."""

    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="team_notes")
    signature = models.CharField(max_length=64)
    text = models.TextField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="team_notes"
    )
    author_name = models.CharField(max_length=200)  # kept when the account goes
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "signature"], name="one_note_per_signature")]

    def __str__(self) -> str:
        return f"note on {self.signature[:12]} in {self.org_id}"
