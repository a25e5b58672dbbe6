"""Which Airbyte URL can give a failed sync's logs. Pure: the start-up check of AIRBYTE_API_URL
(settings.py) and `failbrief org set --airbyte-url` (orgs/manage.py) refuse the same URLs."""

from __future__ import annotations

from urllib.parse import urlsplit

CONFIG_API_EXAMPLE = "http://airbyte:8000/api/v1"


def is_public_api(url: str) -> bool:
    """Whether `url` is Airbyte's public API: Cloud's api.airbyte.com/v1, OSS's /api/public/v1 or
    the old API server's :8006/v1. It has jobs but no attempt logs, so every failed sync would
    quietly be summarized from Prefect's logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:  # not a URL at all: not this mistake
        return False
    path = parts.path.rstrip("/")
    return host == "api.airbyte.com" or path.endswith("/public/v1") or path == "/v1"


def public_api_refusal(setting: str, shown_url: str) -> str:
    """Why `setting` (holding `shown_url`, as it may be shown) is refused, and what to give instead."""
    return (
        f"{setting} {shown_url!r} is Airbyte's public API, which has no job logs: give its Config "
        f"API, e.g. {CONFIG_API_EXAMPLE}"
    )
