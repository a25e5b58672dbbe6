"""The channels whose whole config is one webhook URL and which POST one JSON body per message
(Slack, Discord, Teams): the config check, the hint and the send they share."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import httpx

from failbrief.notify.channels.config import only_keys, text_value, url_hint, webhook_url
from failbrief.notify.channels.http_post import json_body, post_json
from failbrief.notify.message import Message


class UrlChannel:
    """A subclass names its `kind` and builds its `payload`; the rest is the same for each."""

    kind: ClassVar[str]

    def clean_config(self, raw: Mapping[str, object]) -> dict[str, str]:
        # Any https host is accepted, not only the service's own: compatible receivers
        # (Mattermost, Rocket.Chat, a relay) take the same payload.
        only_keys(raw, self.kind, ["url"])
        return {"url": webhook_url(text_value(raw, "url", self.kind), self.kind)}

    def describe(self, config: Mapping[str, str]) -> str:
        return url_hint(config["url"])

    def send(self, config: Mapping[str, str], message: Message, http: httpx.Client, delivery_id: str) -> None:
        post_json(http, config["url"], json_body(self.payload(message)), hint=self.describe(config))

    def payload(self, message: Message) -> dict[str, object]:
        """The JSON body that carries `message`."""
        raise NotImplementedError
