"""detect-secrets' regex plugins as redaction rules. Pure: no Django.

Every `RegexBasedDetector` detect-secrets ships is used, so a new plugin in a new release is picked
up without a change here. Importing detect-secrets takes about 0.2 s (it pulls in `requests`), so
`redact.py` loads these rules on its first call, not at import: commands that never redact do not
pay for it.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from failbrief.condense.redact_rules import Rule, regex_rule

# An IP address is evidence ("connection to 10.0.0.5 refused"), not a secret.
_SKIP = {"IPPublicDetector"}
# Detectors whose first capturing group is the value after a key name or inside a URL: only that
# group is replaced, so the name or host stays. Every other match is replaced whole.
_VALUE_GROUP = {
    "AWSKeyDetector", "BasicAuthDetector", "CloudantDetector", "IbmCloudIamDetector",
    "IbmCosHmacDetector", "NpmDetector", "SoftlayerDetector",
}  # fmt: skip
# Literal text one of the detector's patterns needs (lowercase): the pre-check that skips its
# regexes on most lines. A detector not listed runs on every text.
_NEEDLES: dict[str, tuple[str, ...]] = {
    "AWSKeyDetector": ("a3t", "abia", "acca", "akia", "asia", "aws"),
    "ArtifactoryDetector": ("akc", "ap"),
    "AzureStorageKeyDetector": ("accountkey=",),
    "BasicAuthDetector": ("://",),
    "CloudantDetector": ("cl",),
    "DiscordBotTokenDetector": (".",),
    "GitHubTokenDetector": ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    "GitLabTokenDetector": ("glpat-", "gldt-", "glft-", "glsoat-", "glrt-", "gr1348941", "glcbt-", "glimt-",
                            "glptt-", "glagent-", "gloas-"),
    "IbmCloudIamDetector": ("key", "pwd", "pass", "token"),
    "IbmCosHmacDetector": ("secret",),
    "JwtTokenDetector": ("eyj",),
    "MailchimpDetector": ("-us",),
    "NpmDetector": ("_authtoken",),
    "OpenAIDetector": ("t3blbkfj",),
    "PrivateKeyDetector": ("private key", "putty-user-key-file"),
    "PypiTokenDetector": ("pypi-",),
    "SendGridDetector": ("sg.",),
    "SlackDetector": ("xox", "hooks.slack.com"),
    "SoftlayerDetector": ("sl",),
    "SquareOAuthDetector": ("sq0csp-",),
    "StripeDetector": ("k_live_",),
    "TelegramBotTokenDetector": (":",),
    "TwilioKeyDetector": ("ac", "sk"),
}  # fmt: skip


def _mixed_case_and_digits(value: str) -> bool:
    tail = value.rsplit(":", 1)[-1].rsplit(".", 1)[-1]
    return (
        any(c.isupper() for c in tail) and any(c.islower() for c in tail) and any(c.isdigit() for c in tail)
    )


# Patterns with no literal anchor can match ordinary log text (`20261124:orders_incremental_...`
# looks like a Telegram token); their generated part must also mix upper, lower and digits.
_CHECKS: dict[str, Callable[[str], bool]] = {
    "TelegramBotTokenDetector": _mixed_case_and_digits,
    "DiscordBotTokenDetector": _mixed_case_and_digits,
}


# detect-secrets' build_assignment_regex joins key and value with `(?: *)(?:=|:|:=|=>| +|::)(?: *)`:
# three ways to split one run of spaces, so a line with a key word and a few thousand spaces that
# do not end in a value backtracks for hours. This form matches exactly the same strings, linearly.
_CUBIC_ASSIGNMENT = "(?: *)(?:=|:|:=|=>| +|::)(?: *)"
_LINEAR_ASSIGNMENT = "(?: *(?:=|:|:=|=>|::) *| +)"


def _linear(pattern: re.Pattern[str]) -> re.Pattern[str]:
    if _CUBIC_ASSIGNMENT not in pattern.pattern:
        return pattern
    return re.compile(pattern.pattern.replace(_CUBIC_ASSIGNMENT, _LINEAR_ASSIGNMENT), pattern.flags)


def detector_rules() -> list[Rule]:
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import BasePlugin, RegexBasedDetector

    rules: list[Rule] = []
    plugins: list[type[BasePlugin]] = sorted(
        get_mapping_from_secret_type_to_class().values(), key=lambda cls: cls.__name__
    )
    for plugin in plugins:
        name = plugin.__name__
        if not issubclass(plugin, RegexBasedDetector) or name in _SKIP:
            continue
        for pattern in map(_linear, plugin().denylist):
            by_group = name in _VALUE_GROUP and pattern.groups >= 1
            rules.append(
                regex_rule(
                    f"detect-secrets {name}",
                    _NEEDLES.get(name, ("",)),
                    pattern,
                    group=1 if by_group else 0,
                    check=_CHECKS.get(name),
                    grow=not by_group,
                )
            )
    return rules
