"""Discord, through a channel webhook (Dalgo keeps it as the org preference `discord_webhook`):
one embed per message.

Discord refuses (400, "Invalid Form Body") rather than cuts a message over its limits, so every
text is cut here first: title 256, description 4096, field name 256, field value 1024, footer
2048, and 6000 for all of an embed's text together. `allowed_mentions` is empty: a log line
quoting `@everyone` must not ping the channel."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from failbrief.notify.channels.base import ConfigError
from failbrief.notify.channels.config import only_keys, text_value, webhook_url
from failbrief.notify.channels.markdown import without_links
from failbrief.notify.channels.url_channel import UrlChannel
from failbrief.notify.message import Message, evidence_lines, facts, footer, shorten

TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
FOOTER_LIMIT = 2048
EMBED_TOTAL_LIMIT = 6000
RED, AMBER = 0xD92D20, 0xF79009  # first failure, failing again

Field = dict[str, object]


class Discord(UrlChannel):
    kind: ClassVar[str] = "discord"

    def clean_config(self, raw: Mapping[str, object]) -> dict[str, str]:
        only_keys(raw, self.kind, ["url", "discord_webhook"])
        url, alias = text_value(raw, "url", self.kind), text_value(raw, "discord_webhook", self.kind)
        if url and alias and url != alias:
            raise ConfigError("discord config has both 'url' and 'discord_webhook'; give one")
        return {"url": webhook_url(url or alias, self.kind)}

    def payload(self, message: Message) -> dict[str, object]:
        embeds = [embed(without_links(message))]
        return {"username": "failbrief", "embeds": embeds, "allowed_mentions": {"parse": []}}


def embed(message: Message) -> dict[str, object]:
    title = shorten(message.title, TITLE_LIMIT)
    fields = _fields(message)
    credit = shorten(" · ".join(part for part in ("failbrief", footer(message)) if part), FOOTER_LIMIT)
    used = len(title) + len(credit) + sum(len(str(f["name"])) + len(str(f["value"])) for f in fields)
    head = "**Root cause**\n"
    room = min(DESCRIPTION_LIMIT, EMBED_TOTAL_LIMIT - used) - len(head)
    out: dict[str, object] = {
        "title": title,
        "description": head + shorten(message.root_cause_text, room),
        "color": AMBER if message.is_repeat else RED,
        "fields": fields,
        "footer": {"text": credit},
    }
    if message.run_url:
        out["url"] = message.run_url
    if message.failed_at:
        out["timestamp"] = message.failed_at.isoformat()
    return out


def _fields(message: Message) -> list[Field]:
    # Facts are short by nature; 256 keeps a pathological run name from eating the root cause's room.
    out = [_field(label, shorten(value, 256), inline=True) for label, value in facts(message)]
    if message.suggested_fix:
        out.append(_field("Suggested fix", message.suggested_fix))
    if evidence := evidence_lines(message):
        body = "\n".join(line.replace("```", "'''") for line in evidence)
        out.append(_field("Evidence", f"```\n{shorten(body, FIELD_VALUE_LIMIT - 8)}\n```"))
    return out


def _field(name: str, value: str, inline: bool = False) -> Field:
    return {
        "name": shorten(name, FIELD_NAME_LIMIT),
        "value": shorten(value, FIELD_VALUE_LIMIT),
        "inline": inline,
    }
