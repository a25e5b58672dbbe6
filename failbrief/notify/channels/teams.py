"""Microsoft Teams, through a Workflows webhook (Power Automate's "When a Teams webhook request is
received" trigger, which replaced the retired Office 365 connectors): an Adaptive Card 1.4
wrapped in a `message` activity. Workflows accept only Adaptive Cards, not the old MessageCard.

The workflow answers 202 Accepted once it has queued the run; posting to the channel happens
after that, inside Power Automate, so a card the flow cannot post shows up only in the flow's
run history, not here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar
from urllib.parse import urlsplit

from failbrief.notify.channels.config import url_hint
from failbrief.notify.channels.http_post import json_body
from failbrief.notify.channels.markdown import without_links
from failbrief.notify.channels.url_channel import UrlChannel
from failbrief.notify.message import Message, evidence_lines, facts, footer, shorten

CARD_VERSION = "1.4"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams caps a whole message at about 28 KB of UTF-8, and a card over it is accepted by the
# workflow (202) and then never posted. These character limits keep an ASCII card well under it;
# non-ASCII text (Hindi, CJK: 3 bytes a character) is cut further until the body fits CARD_BYTES.
TITLE_LIMIT = 200
TEXT_LIMIT = 4000
FACT_LIMIT = 500
CARD_BYTES = 24 * 1024  # the rest of the 28 KB is for what the workflow wraps around the card
SHRINK = 0.75  # each try that is still too big cuts every text to this share of its last limit

Element = dict[str, object]


class Teams(UrlChannel):
    kind: ClassVar[str] = "teams"

    def describe(self, config: Mapping[str, str]) -> str:
        # A workflow URL ends in …/triggers/manual/paths/invoke?…&sig=<token>: the last path
        # segment says nothing, the workflow id (after "workflows") tells two apart.
        url = config["url"]
        segments = [piece for piece in urlsplit(url).path.split("/") if piece]
        if "workflows" in segments[:-1]:
            return url_hint(url, segments.index("workflows") + 1)
        return url_hint(url)

    def payload(self, message: Message) -> dict[str, object]:
        plain, scale = without_links(message), 1.0
        while True:
            content = card(plain, scale)
            out: dict[str, object] = {
                "type": "message",
                "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": content}],
            }
            if len(json_body(out)) <= CARD_BYTES or scale < 0.01:
                return out
            scale *= SHRINK


def card(message: Message, scale: float = 1.0) -> dict[str, object]:
    """The Adaptive Card, every text cut to `scale` of its limit."""
    title, text, fact = (max(1, int(limit * scale)) for limit in (TITLE_LIMIT, TEXT_LIMIT, FACT_LIMIT))
    body: list[Element] = [
        _text(shorten(message.title, title), size="Large", weight="Bolder", color="Attention"),
        {
            "type": "FactSet",
            "facts": [{"title": label, "value": shorten(value, fact)} for label, value in facts(message)],
        },
        _text("Root cause", weight="Bolder", spacing="Medium"),
        _text(shorten(message.root_cause_text, text)),
    ]
    if message.suggested_fix:
        body += [
            _text("Suggested fix", weight="Bolder", spacing="Medium"),
            _text(shorten(message.suggested_fix, text)),
        ]
    if evidence := evidence_lines(message):
        quoted = "\n\n".join(shorten(line, max(1, text // 3)) for line in evidence)
        body.append(_text(quoted, fontType="Monospace", isSubtle=True, spacing="Medium"))
    if said := footer(message):
        body.append(
            _text(shorten(f"failbrief · {said}", fact), size="Small", isSubtle=True, spacing="Medium")
        )
    out: dict[str, object] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "msteams": {"width": "Full"},
        "body": body,
    }
    if message.run_url:
        out["actions"] = [{"type": "Action.OpenUrl", "title": "Open the run", "url": message.run_url}]
    return out


def _text(text: str, **style: object) -> Element:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}
