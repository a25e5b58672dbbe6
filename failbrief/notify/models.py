"""Where an org's summaries are sent (channels) and what became of each message (notifications)."""

from __future__ import annotations

import uuid

from django.db import models

from failbrief.lib.timestamps import Timestamped


class NotifyChannel(Timestamped):
    """One destination of an org: a Slack/Discord/Teams webhook, email addresses or a signed webhook.
    The config carries secrets (webhook URLs hold tokens), so it is stored sealed and never shown
    back; `hint` identifies the destination without them."""

    class Kind(models.TextChoices):
        SLACK = "slack"
        DISCORD = "discord"
        TEAMS = "teams"
        EMAIL = "email"
        WEBHOOK = "webhook"

    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="channels")
    name = models.SlugField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    config_sealed = models.TextField()
    hint = models.CharField(max_length=300, blank=True)
    enabled = models.BooleanField(default=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="one_channel_name_per_org")]

    def __str__(self) -> str:
        return f"{self.org_id}/{self.name} ({self.kind})"


class Notification(Timestamped):
    """One summary on one channel. `pending` → `sent` or `failed` (with the reason). A repeat of a
    failure the channel was told about within the repeat window is `held`; when the window closes
    the held ones are `folded` into one "failing again (N×)" message, the latest of them."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"
        HELD = "held"
        FOLDED = "folded"

    channel = models.ForeignKey(NotifyChannel, on_delete=models.CASCADE, related_name="notifications")
    summary = models.ForeignKey(
        "summarize.LlmSession", on_delete=models.CASCADE, related_name="notifications"
    )
    # The same failure again: a hash of the pipeline and the summary's failure signature.
    repeat_key = models.CharField(max_length=64)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    # The message as composed when the summary completed (notify/compose.py), so a retry an hour
    # later sends what was true then.
    payload = models.JSONField(default=dict)
    # 1 = a first message; N ≥ 2 = "failing again (N×)": N failures since the episode's first message.
    repeat_count = models.PositiveIntegerField(default=1)
    first_failed_at = models.DateTimeField(null=True, blank=True)
    # When it became a message to send: the repeat window runs from the latest of these.
    opened_at = models.DateTimeField(null=True, blank=True)
    folded_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="folded"
    )
    attempts = models.PositiveIntegerField(default=0)
    reason = models.TextField(blank=True)
    # Stable across retries: the signed webhook sends it so a receiver can drop a repeat.
    delivery_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A worker holds a pending row while it sends; another copy of the task waits it out.
    locked_until = models.DateTimeField(null=True, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["channel", "summary"], name="one_notification_per_channel")
        ]
        indexes = [
            models.Index(fields=["channel", "repeat_key", "status"], name="notification_repeat"),
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
        ]

    def __str__(self) -> str:
        return f"notification {self.pk}: summary {self.summary_id} → {self.channel_id} ({self.status})"
