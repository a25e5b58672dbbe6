"""Failure signatures: the same failure again (tonight's run failing like last night's) reuses the
stored LLM summary instead of paying for another call.

The signature is a hash of the root-cause lines the offline rules pick, normalized so that what
changes between two occurrences of one failure (ids, numbers, timestamps, paths, quoted values that
are ids) does not change it, plus the category and the failing step. No root-cause line, no
signature: such a failure is never reused.
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from failbrief.condense.brief import Brief
from failbrief.orgs.models import Org
from failbrief.summarize.models import LlmSession

_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\x1b\[[0-9;]*[A-Za-z]|\[\d+(?:;\d+)*m"), ""),  # ANSI colours, also without ESC
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?(?:Z|[+-]\d{2}:?\d{2})?"), "<time>"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(?:[.,]\d+)?\b"), "<time>"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I), "<id>"),
    (re.compile(r"\b(?=[0-9a-f]*\d)[0-9a-f]{8,}\b", re.I), "<id>"),
    (re.compile(r"(?:[A-Za-z]:)?(?:[\w.-]*/)+[\w.-]+|(?:[A-Za-z]:)?(?:\\[\w.-]+)+"), "<path>"),
    (re.compile(r"\d+(?:\.\d+)?"), "<n>"),
    (re.compile(r"\s+"), " "),
)


def normalized(line: str) -> str:
    """`line` with ids, numbers, timestamps, paths and colour codes replaced by placeholders."""
    for pattern, placeholder in _RULES:
        line = pattern.sub(placeholder, line)
    return line.strip().lower()


def failure_signature(brief: Brief) -> str:
    """sha256 of the normalized root-cause lines, category and failing step of an offline brief;
    "" when the brief names no root cause."""
    if brief.root_cause is None or not brief.evidence:
        return ""
    parts = [brief.category, normalized(brief.failing_step or ""), *map(normalized, brief.evidence)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def reusable_summary(org: Org, signature: str, provider: str, model: str) -> LlmSession | None:
    """The newest summary an LLM wrote for this org, signature, provider and model within the
    window (SIGNATURE_WINDOW_DAYS); never a reuse itself nor an offline fallback. None: call the LLM."""
    if not signature or settings.SIGNATURE_WINDOW_DAYS <= 0:
        return None
    since = timezone.now() - timedelta(days=settings.SIGNATURE_WINDOW_DAYS)
    return (
        LlmSession.objects.filter(
            org=org,
            signature=signature,
            provider=provider,
            model=model,
            summarizer=provider,
            session_status=LlmSession.Status.COMPLETED,
            reused_from__isnull=True,
            created_at__gte=since,
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def count_reuse(original: LlmSession) -> int:
    """Record one more occurrence of `original`'s failure; returns how many times it has been seen
    (the original included)."""
    LlmSession.objects.filter(pk=original.pk).update(reuse_count=F("reuse_count") + 1)
    original.refresh_from_db(fields=["reuse_count"])
    return original.reuse_count + 1


def same_as(original: LlmSession) -> str:
    """The marker a reused summary carries: "same as <run> (N times)"."""
    return f"same as {original.flow_run_id} ({original.reuse_count + 1} times)"
