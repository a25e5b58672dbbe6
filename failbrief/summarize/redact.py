"""Secret redaction applied to everything that leaves the process. Pure: no Django.

`redact` runs on every kept line and on stored evidence, so each pattern is precompiled and the
common case (no secret-looking text at all) is settled by one cheap pre-check per pattern family.
Only the secret value is replaced: the key name, scheme, user and host stay, so a human can still
tell which credential was involved.
"""

from __future__ import annotations

import re
from collections.abc import Callable

REDACTED = "[REDACTED]"

# Key names whose values are secrets in `key=value`, `key: value` and JSON `"key": "value"` pairs.
_SENSITIVE_NAMES = (
    r"password|passwd|passphrase|secret|client_secret|secret_key|api_key|apikey|api-key"
    r"|access_key|access_key_id|secret_access_key|private_key|access_token|refresh_token|auth_token"
    r"|id_token|session_token|bearer_token|token_secret"
)

# The BEGIN line and the key body that follows it (to END, or to the first line that is not key
# material when the block was cut), plus lone PEM body lines (60+ mixed base64 characters).
_PRIVATE_KEY = re.compile(
    r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:\s*(?:[A-Za-z0-9+/]{8,}={0,2}|[\w-]+: [^\n]*))*"
    r"(?:\s*-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----)?"
)
_KEY_BODY_LINE = re.compile(
    r"^[ \t]*(?=[A-Za-z0-9+/]*[a-z])(?=[A-Za-z0-9+/]*[A-Z])(?=[A-Za-z0-9+/]*\d)"
    r"[A-Za-z0-9+/]{60,}={0,2}[ \t]*$",
    re.MULTILINE,
)
# scheme://user:password@host: keep scheme, user and host.
_URL_CREDENTIALS = re.compile(r"(\b[a-zA-Z][\w+.-]*://[^\s:/@'\"]*:)((?!\[REDACTED\])[^\s@/'\"]+)(@)")
_AUTH_HEADER = re.compile(
    r"(?i)(\b(?:proxy-)?authorization\b[\"']?\s*[:=]\s*[\"']?(?:(?:bearer|basic|token|digest)\s+)?)"
    r"((?!\[REDACTED\]|(?:bearer|basic|token|digest)\s)[^\s\"',;]+)"
)
_BEARER = re.compile(r"(?i)(\bbearer\s+)([A-Za-z0-9\-._~+/]{8,}=*)")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")
_AWS_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}\b")
_KEY_VALUE = re.compile(
    rf"(?i)(\b(?:{_SENSITIVE_NAMES})\b[\"']?\s*[:=]\s*[\"']?)((?!\[REDACTED\])[^\s\"',;&)}}\]]+)",
)
# FOO_KEY=..., export BAR_TOKEN="...", AWS_SECRET_ACCESS_KEY: ...
_ENV_ASSIGNMENT = re.compile(
    r"(\b[A-Z][A-Z0-9_]*_(?:KEY|TOKEN|SECRET|PASSWORD|PASS|PWD|CREDENTIALS?)\b[\"']?\s*[:=]\s*[\"']?)"
    r"((?!\[REDACTED\])[^\s\"',;&)}\]]+)"
)


def _keep_prefix(match: re.Match[str]) -> str:
    if match.group(2) in ("", REDACTED) or match.group(2).startswith("***"):
        return match.group(0)
    return match.group(1) + REDACTED + (match.group(3) if match.re.groups >= 3 else "")


def _whole(match: re.Match[str]) -> str:
    return REDACTED


# (cheap lowercase pre-check, pattern, replacement): the pre-check skips the regex on most lines.
_RULES: tuple[tuple[tuple[str, ...], re.Pattern[str], Callable[[re.Match[str]], str]], ...] = (
    (("private key",), _PRIVATE_KEY, _whole),
    (("",), _KEY_BODY_LINE, _whole),
    (("://",), _URL_CREDENTIALS, _keep_prefix),
    (("authorization",), _AUTH_HEADER, _keep_prefix),
    (("bearer",), _BEARER, _keep_prefix),
    (("eyj",), _JWT, _whole),
    (("akia", "asia", "agpa", "aida", "aroa", "anpa", "anva", "aipa"), _AWS_KEY_ID, _whole),
    (("pass", "secret", "key", "token"), _KEY_VALUE, _keep_prefix),
    (("_key", "_token", "_secret", "_pass", "_pwd", "_credential"), _ENV_ASSIGNMENT, _keep_prefix),
)


def redact(text: str) -> str:
    """`text` with every known secret pattern's value replaced by `[REDACTED]`.

    Covers passwords in connection strings, Authorization/Bearer values, AWS access key ids, private
    key blocks, JWTs, `password=`/`secret=`/`api_key=`-style pairs (also JSON and YAML forms) and
    env-like `*_KEY`/`*_TOKEN`/`*_SECRET`/`*_PASSWORD` assignments. Idempotent.
    """
    lowered = text.lower()
    for needles, pattern, replace in _RULES:
        if any(needle in lowered for needle in needles):
            text = pattern.sub(replace, text)
    return text
