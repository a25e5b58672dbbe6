"""What we found in external systems while looking for logs (Airbyte jobs)."""

from __future__ import annotations

from django.db import models


class AirbyteJob(models.Model):
    """An Airbyte job of a connection, as the Config API reported it when we picked it."""

    org = models.ForeignKey("orgs.Org", on_delete=models.CASCADE, related_name="airbyte_jobs")
    job_id = models.BigIntegerField()
    config_id = models.CharField(max_length=64)  # the connection id
    config_type = models.CharField(max_length=40, blank=True)  # sync | reset_connection | clear | refresh
    status = models.CharField(max_length=40, blank=True)
    # [{"number", "status", "createdAt", "updatedAt", "endedAt"}], epoch seconds (updatedAt: since 2026-12)
    attempts = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(null=True, blank=True)  # Airbyte's createdAt
    updated_at = models.DateTimeField(null=True, blank=True)  # Airbyte's updatedAt
    fetched_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "job_id"], name="one_row_per_airbyte_job")]

    def __str__(self) -> str:
        return f"airbyte job {self.job_id} ({self.status})"
