"""Which web addresses an LLM's text may show as links. Pure: no Django.

A model repeats what it reads, and what it reads includes text an attacker wrote (a synced row, an
API's error body): "reset your password here: https://…" would reach Slack, Teams, Discord and
email under failbrief's name, where each client makes a bare address a link. So in an LLM's text
an address stays as written only when its host is one of the org's own (the Prefect UI, failbrief's
pages, the org's Airbyte) or a well-known documentation site; any other is made inert:
`hxxps://login[.]example[.]com/reset`. No client links that, and pasted in a shell it fetches
nothing, yet a reader still sees where it pointed.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from urllib.parse import urlsplit

# Documentation sites of the tools failbrief explains failures of, run by their vendors (no site
# where anyone can publish a page: no github.com, no pypi.org).
DOC_HOSTS = (
    "docs.getdbt.com",
    "docs.airbyte.com",
    "docs.prefect.io",
    "postgresql.org",
    "docs.snowflake.com",
    "cloud.google.com",
    "docs.aws.amazon.com",
    "learn.microsoft.com",
    "docs.databricks.com",
    "dev.mysql.com",
    "docs.python.org",
    "docs.pydantic.dev",
    "errors.pydantic.dev",
    "docs.sqlalchemy.org",
    "docs.docker.com",
    "kubernetes.io",
)
# What chat and mail clients make a link: an address with a scheme, one starting "www.", and a bare
# name in a common domain ("login-acme.com/reset"). Not "o.amount_usd" or "stg_orders.sql".
_SCHEMED = r"(?:https?|ftps?)://[^\s<>\"'`]+"
_WWW = r"www\.[^\s<>\"'`]+"
_BARE = (
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:com|net|org|io|co|ai|xyz|biz)"
    r"(?:\.[a-z0-9-]+)*(?![\w-])(?:[/:?#][^\s<>\"'`]*)?"
)
_ADDRESS = re.compile(rf"(?i)(?<![\w@.-])(?:{_SCHEMED}|{_WWW}|{_BARE})")
_TRAILING = ".,;:!?)]}'\"…"
_SCHEME = re.compile(r"(?i)^(?:http|ftp)(?=s?://)")
_INERT_SCHEME = {"http": "hxxp", "ftp": "fxp"}


def inert_links(text: str, known_hosts: Collection[str] = ()) -> str:
    """`text` with every address whose host is neither in `known_hosts` nor a documentation site
    made inert. Idempotent."""
    trusted = tuple(host.lower().strip(".") for host in (*DOC_HOSTS, *known_hosts) if host)

    def replace(found: re.Match[str]) -> str:
        address = found.group(0)
        kept = address.rstrip(_TRAILING)
        tail = address[len(kept) :]
        return address if _trusted(kept, trusted) else _inert(kept) + tail

    return _ADDRESS.sub(replace, text)


def host_of(url: str) -> str:
    """The host of an address or URL, lowercased; "" when there is none or it is malformed."""
    try:
        return (urlsplit(url if "://" in url else f"http://{url}").hostname or "").rstrip(".")
    except ValueError:
        return ""


def _trusted(address: str, trusted: tuple[str, ...]) -> bool:
    host = host_of(address)
    return bool(host) and any(host == known or host.endswith(f".{known}") for known in trusted)


def _inert(address: str) -> str:
    return _SCHEME.sub(lambda scheme: _INERT_SCHEME[scheme.group(0).lower()], address).replace(".", "[.]")
