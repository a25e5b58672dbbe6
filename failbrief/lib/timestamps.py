"""When a row was made and last changed: the two columns most of our tables carry."""

from __future__ import annotations

from django.db import models


class Timestamped(models.Model):
    """Adds `created_at` (set once) and `updated_at` (set on every save). `QuerySet.update()`
    skips `auto_now`, so a caller that updates in bulk sets `updated_at` itself."""

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
