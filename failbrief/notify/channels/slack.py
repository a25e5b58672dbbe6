"""Slack, through an incoming webhook: a Block Kit message with a plain `text` fallback (what
notifications and screen readers show).

Slack rejects a message whose blocks break a limit (400 invalid_blocks) rather than cutting it,
so every text is cut here first: header 150 chars, section text 3000, section field 2000."""

from __future__ import annotations

from typing import ClassVar

from failbrief.notify.channels.url_channel import UrlChannel
from failbrief.notify.message import Message, evidence_lines, facts, footer, shorten

HEADER_LIMIT = 150
SECTION_LIMIT = 3000
FIELD_LIMIT = 2000
FALLBACK_LIMIT = 500

Block = dict[str, object]


class Slack(UrlChannel):
    kind: ClassVar[str] = "slack"

    def payload(self, message: Message) -> dict[str, object]:
        """The incoming-webhook body: `text` (fallback) and `blocks`."""
        fallback = f"{message.title}: {message.root_cause_text}"
        return {"text": _cut_escaped(fallback, FALLBACK_LIMIT), "blocks": blocks(message)}


def blocks(message: Message) -> list[Block]:
    out: list[Block] = [
        {"type": "header", "text": {"type": "plain_text", "text": shorten(message.title, HEADER_LIMIT)}},
    ]
    if rows := facts(message):
        out.append({"type": "section", "fields": [_mrkdwn(_labelled(k, v, FIELD_LIMIT)) for k, v in rows]})
    out.append(_section(_labelled("Root cause", message.root_cause_text, SECTION_LIMIT)))
    if message.suggested_fix:
        out.append(_section(_labelled("Suggested fix", message.suggested_fix, SECTION_LIMIT)))
    if evidence := evidence_lines(message):
        out.append(_section(_code_block(evidence)))
    if message.run_url:
        button = {"type": "button", "text": {"type": "plain_text", "text": "Open the run"}}
        out.append({"type": "actions", "elements": [button | {"url": message.run_url}]})
    if said := footer(message):
        out.append({"type": "context", "elements": [_mrkdwn(_cut_escaped(said, FIELD_LIMIT))]})
    return out


def escape(text: str) -> str:
    """Slack's three control characters as entities. Log text may hold `<!channel>` or
    `<https://evil|a link>`, which Slack would otherwise turn into a ping or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _labelled(label: str, value: str, limit: int) -> str:
    head = f"*{label}*\n"
    return head + _cut_escaped(value, limit - len(head))


def _cut_escaped(text: str, limit: int) -> str:
    # Cut after escaping, since the limit counts the entities, but never through one.
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    cut = escaped[: limit - 1]
    amp = cut.rfind("&", max(len(cut) - 4, 0))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def _code_block(lines: tuple[str, ...]) -> str:
    # A ``` inside a quoted log line would close the block early.
    body = "\n".join(line.replace("```", "'''") for line in lines)
    return f"```{_cut_escaped(body, SECTION_LIMIT - 6)}```"


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _mrkdwn(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}
