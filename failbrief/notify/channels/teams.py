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
from failbrief.notify.channels.url_channel import UrlChannel
from failbrief.notify.message import Message, evidence_lines, facts, shorten

CARD_VERSION = "1.4"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Teams caps a whole message at about 28 KB; these keep a card well under it.
TITLE_LIMIT = 200
TEXT_LIMIT = 4000
FACT_LIMIT = 500

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
        return {
            "type": "message",
            "attachments": [{"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card(message)}],
        }


def card(message: Message) -> dict[str, object]:
    body: list[Element] = [
        _text(shorten(message.title, TITLE_LIMIT), size="Large", weight="Bolder", color="Attention"),
        {
            "type": "FactSet",
            "facts": [
                {"title": label, "value": shorten(value, FACT_LIMIT)} for label, value in facts(message)
            ],
        },
        _text("Root cause", weight="Bolder", spacing="Medium"),
        _text(shorten(message.root_cause_text, TEXT_LIMIT)),
    ]
    if message.suggested_fix:
        body += [
            _text("Suggested fix", weight="Bolder", spacing="Medium"),
            _text(shorten(message.suggested_fix, TEXT_LIMIT)),
        ]
    if evidence := evidence_lines(message):
        quoted = "\n\n".join(shorten(line, TEXT_LIMIT // 3) for line in evidence)
        body.append(_text(quoted, fontType="Monospace", isSubtle=True, spacing="Medium"))
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
