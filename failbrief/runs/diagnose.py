"""What went wrong talking to Prefect, in the words a person acts on ("Prefect at http://… refused
the connection"), for `failbrief check` and for the reason an event shows while it waits. Reads the
error's status and message only, so it works on an error rebuilt by Celery too. Pure: no Django."""

from __future__ import annotations

from failbrief.lib.http import ApiAuthError, ApiError, ApiNotFound
from failbrief.lib.url_credentials import without_credentials

# (words in the error's message, what they mean), first match wins; lower case.
_SYMPTOMS = (
    (("connection refused", "errno 111", "errno 61"), "refused the connection"),
    (
        ("name or service not known", "nodename nor servname", "name resolution", "getaddrinfo"),
        "cannot be found (its host name does not resolve)",
    ),
    (("no answer within", "timeout", "timed out"), "did not answer in time"),
    (("reset", "remoteprotocolerror", "readerror", "disconnected"), "dropped the connection"),
    (("certificate", "ssl"), "failed the TLS handshake (certificate or https/http mix-up)"),
    (("network is unreachable", "no route to host"), "is not reachable from here (no route)"),
)


def prefect_trouble(api_url: str, error: ApiError) -> str:
    """One sentence: `Prefect at <url> <what happened>`."""
    where = f"Prefect at {without_credentials(api_url)}"  # also the reason an event shows its org
    if isinstance(error, ApiAuthError):
        return f"{where} refused our credentials (HTTP {error.status}): PREFECT_API_KEY is missing or wrong"
    if isinstance(error, ApiNotFound):
        return f"{where} answered 404 Not Found ({_call_of(error)})"
    status = error.status
    if status == 429:
        return f"{where} asked us to slow down (HTTP 429)"
    if status is not None and status >= 500:
        return f"{where} answered HTTP {status} (a server error)"
    text = str(error).lower()
    for words, meaning in _SYMPTOMS:
        if any(word in text for word in words):
            return f"{where} {meaning}"
    return f"{where}: {error}"


def _call_of(error: ApiError) -> str:
    return str(error).split(" answered ", 1)[0]
