"""`failbrief check`'s look at failbrief's automations in Prefect: each must be enabled and post,
with a key failbrief accepts, to failbrief's webhook (to this failbrief's when --public-url says
where that is), and none of its calls may have failed lately. An automation left by another
failbrief, or sending a key since replaced, looks fine in Prefect while every call it makes is
refused."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from failbrief.cli.finding import Finding
from failbrief.lib.http import JsonApi
from failbrief.runs.automation import KEY_HEADER, WEBHOOK_PATH, action_failures
from failbrief.runs.errors import RunNotFound

SETUP = "run 'failbrief setup-prefect --public-url URL' (failbrief's URL as the Prefect server reaches it)"
WHAT = "automation"


def automation_findings(http: JsonApi, public_url: str | None, database_ok: bool) -> list[Finding]:
    """One finding per failbrief automation in order, one per problem otherwise; the keys the
    automations send are checked only when the database (where the orgs' keys are) answers.
    Raises a PrefectError when Prefect answers badly."""
    listed = http.call("POST", "automations/filter", {})
    ours = sorted(
        (
            a
            for a in (listed if isinstance(listed, list) else [])
            if isinstance(a, dict)
            and (a.get("name") == "failbrief" or str(a.get("name")).startswith("failbrief-"))
        ),
        key=lambda a: str(a.get("name")),
    )
    if not ours:
        return [Finding(WHAT, False, "Prefect has no failbrief automation: no failure is sent", SETUP)]
    return [finding for automation in ours for finding in _one(http, automation, public_url, database_ok)]


def _one(
    http: JsonApi, automation: dict[str, Any], public_url: str | None, database_ok: bool
) -> list[Finding]:
    name = str(automation["name"])
    label = repr(name)
    setup = _setup_again(name, public_url)
    if not automation.get("enabled"):
        fix = "enable it in Prefect (Automations), or run 'failbrief setup-prefect' again"
        return [Finding(WHAT, False, f"{label} is disabled: Prefect sends none of its failures", fix)]
    block_ids = [
        str(a["block_document_id"])
        for a in automation.get("actions", [])
        if isinstance(a, dict) and a.get("type") == "call-webhook" and a.get("block_document_id")
    ]
    if not block_ids:
        return [Finding(WHAT, False, f"{label} calls no webhook: no failure is sent", setup)]
    problems: list[Finding] = []
    urls: list[str] = []
    for block_id in block_ids:
        url, found = _block_problems(http, label, block_id, public_url, setup, database_ok)
        urls += [url] if url else []
        problems += found
    failures = action_failures(http, str(automation["id"]), timedelta(hours=24))
    if failures:
        latest = failures[0].reason
        detail = f"{label}: {len(failures)} webhook call(s) failed in the last 24 h, the latest: {latest}"
        fix = (
            "make failbrief reachable from the Prefect server at the block's URL, or run setup-prefect "
            "again with the right --public-url ('failbrief check-prefect' lists the calls)"
        )
        problems.append(Finding(WHAT, False, detail, fix))
    if problems:
        return problems
    key = "with a key failbrief accepts" if database_ok else "(its key not checked: no database)"
    detail = f"{label} enabled, posts to {', '.join(urls)} {key}; no failed webhook call in the last 24 h"
    return [Finding(WHAT, True, detail)]


def _block_problems(
    http: JsonApi, label: str, block_id: str, public_url: str | None, setup: str, database_ok: bool
) -> tuple[str, list[Finding]]:
    """Where the block posts (shown), and what is wrong with its URL and key."""
    try:
        block = http.call("GET", f"block_documents/{block_id}", params={"include_secrets": "true"})
    except RunNotFound:
        return "", [Finding(WHAT, False, f"{label}'s webhook block is gone: its calls fail", setup)]
    data = (block.get("data") if isinstance(block, dict) else None) or {}
    url = str(data.get("url") or "")
    problems = _url_problems(label, url, public_url, setup)
    headers = data.get("headers")
    headers = headers if isinstance(headers, dict) else {}
    key = next((str(v) for k, v in headers.items() if str(k).lower() == KEY_HEADER.lower()), "")
    refused = _key_problem(key) if database_ok else ""
    if refused:
        problems.append(Finding(WHAT, False, f"{label} {refused}", f"{setup} again"))
    return _shown(url), problems


def _setup_again(name: str, public_url: str | None) -> str:
    org = f" --org {name.removeprefix('failbrief-')}" if name.startswith("failbrief-") else ""
    return f"run 'failbrief setup-prefect --public-url {public_url or 'URL'}{org}'"


def _url_problems(label: str, url: str, public_url: str | None, setup: str) -> list[Finding]:
    shown = _shown(url)
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return [
            Finding(WHAT, False, f"{label} posts to {shown!r}, not an http(s) URL: its calls fail", setup)
        ]
    if parts.path.rstrip("/") != WEBHOOK_PATH.rstrip("/"):
        detail = f"{label} posts to {shown}, not to a failbrief webhook (BASE{WEBHOOK_PATH}): its calls fail"
        return [Finding(WHAT, False, detail, f"{setup} with failbrief's base URL, without a path")]
    if public_url:
        expected = public_url.rstrip("/") + WEBHOOK_PATH
        if url.rstrip("/") != expected.rstrip("/"):
            detail = f"{label} posts to {shown}, not to this failbrief ({_shown(expected)})"
            return [Finding(WHAT, False, detail, setup)]
    return []


def _key_problem(key: str) -> str:
    """Why failbrief's webhook would refuse `key`, or "" when it accepts it."""
    from django.conf import settings
    from django.utils import timezone

    from failbrief.orgs.models import Org
    from failbrief.orgs.secrets import same_secret, secret_hash

    if not key:
        return f"sends no {KEY_HEADER}: failbrief refuses every call (401)"
    if settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY and same_secret(
        key, settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY
    ):
        return ""
    hashed = secret_hash(key)
    if Org.objects.filter(webhook_key_hash=hashed).exists():
        return ""
    fading = Org.objects.filter(
        webhook_key_previous_hash=hashed, webhook_key_previous_until__gt=timezone.now()
    )
    org = fading.first()
    if org is not None:
        until = org.webhook_key_previous_until
        return f"sends org {org.slug}'s replaced key, refused from {until:%Y-%m-%d %H:%M} UTC"
    return f"sends an {KEY_HEADER} failbrief refuses (401): another failbrief's, or one since replaced"


def _shown(url: str) -> str:
    from failbrief.lib.url_credentials import without_password

    return without_password(url)
