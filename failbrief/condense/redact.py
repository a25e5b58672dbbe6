"""Secret redaction applied to everything that leaves the process. Pure: no Django.

Two sets of rules find secret values: detect-secrets' plugins (the maintained catalogue of token
formats: AWS, GitHub, GitLab, Slack, Stripe, Twilio, SendGrid, JWT, ...) and our own
(`redact_rules.py`: key/value pairs with an entropy check, URL credentials, CLI flags, webhook
URLs, private keys, formats detect-secrets lacks). Only the value is replaced: the key name,
scheme, user and host stay, so a human can still tell which credential was involved.

`redact` runs on every kept line and on stored evidence, so each rule first checks for a literal
its pattern needs: each distinct literal is looked for once (`in` on the lowercased line) and
only the rules whose literal is there run, about 3 per line of a real log. Private key blocks are
found in the whole text; every other rule runs line by line.

Being the one pass every untrusted text goes through before it is stored, shown, notified or
sent, it also writes out the characters that change what a text shows without being seen (bidi
overrides, zero-width and control characters: visible.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from failbrief.condense.redact_rules import Rule, Span, own_rules_before, own_token_rules
from failbrief.condense.visible import visible

REDACTED = "[REDACTED]"


@dataclass(frozen=True)
class _RuleSet:
    rules: tuple[Rule, ...]
    needles: tuple[str, ...]  # every distinct needle, each looked for once per text
    by_needle: dict[str, tuple[int, ...]]  # needle -> indexes of the rules that need it

    @classmethod
    def of(cls, rules: tuple[Rule, ...]) -> _RuleSet:
        needles = tuple(sorted({needle for rule in rules for needle in rule.needles}))
        by_needle = {n: tuple(i for i, rule in enumerate(rules) if n in rule.needles) for n in needles}
        return cls(rules, needles, by_needle)

    def apply(self, text: str) -> str:
        lowered = text.lower()
        chosen: set[int] = set()
        for needle in filter(lowered.__contains__, self.needles):  # C speed, ~80 ns a needle
            chosen.update(self.by_needle[needle])
        for index in sorted(chosen):
            rule = self.rules[index]
            if rule.gate is not None and rule.gate.search(text) is None:
                continue
            spans = _merged(rule.find(text))
            if spans:
                text = _replaced(text, spans)
        return text


@cache
def _rule_sets() -> tuple[_RuleSet, _RuleSet]:
    """(rules for the whole text, rules for each line)."""
    # detect-secrets is imported on first use (about 0.2 s), not when this module is.
    from failbrief.condense.redact_detectors import detector_rules

    # Ours first: they replace only the value where a plugin's whole match would also take the
    # name or host, and a plugin then finds nothing left to match there.
    rules = (*own_rules_before(), *own_token_rules(), *detector_rules())
    return (
        _RuleSet.of(tuple(rule for rule in rules if rule.multiline)),
        _RuleSet.of(tuple(rule for rule in rules if not rule.multiline)),
    )


def redact(text: str) -> str:
    """`text` with every secret value found replaced by `[REDACTED]` and every hidden character
    written out (visible.py). Idempotent."""
    whole, per_line = _rule_sets()
    text = whole.apply(text)
    if "\n" not in text:
        return visible(per_line.apply(text))
    # Line by line: each line runs only the rules whose literal it holds, where a whole block would
    # run every rule any of its lines needs over all of it (3x slower on a 64 KiB block).
    return visible("\n".join(map(per_line.apply, text.split("\n"))))


def _merged(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _replaced(text: str, spans: list[Span]) -> str:
    pieces: list[str] = []
    done = 0
    for start, end in spans:
        pieces += [text[done:start], REDACTED]
        done = end
    pieces.append(text[done:])
    return "".join(pieces)
