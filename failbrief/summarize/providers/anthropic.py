"""The Anthropic messages provider (official SDK). Pure: no Django.

The brief is asked for as the input of a forced tool call (`record_brief`), whose input schema is
the brief's schema; a text answer is parsed as JSON instead. Either way it is validated
(llm_output.py).
"""

from __future__ import annotations

import json
from typing import ClassVar

import anthropic
import httpx
from anthropic.types import Message, ToolParam

from failbrief.summarize.providers.llm_common import MAX_OUTPUT_TOKENS, LlmNotConfigured, LlmProvider, Reply
from failbrief.summarize.providers.llm_output import BRIEF_JSON_SCHEMA
from failbrief.summarize.providers.sdk_errors import SdkErrors, sdk_errors

ANTHROPIC_URL = "https://api.anthropic.com"
TOOL_NAME = "record_brief"
SDK_ERRORS = SdkErrors(
    "the Anthropic API", anthropic.APIStatusError, anthropic.APITimeoutError, anthropic.APIConnectionError
)
BRIEF_TOOL: ToolParam = {
    "name": TOOL_NAME,
    "description": "Record the failure brief, as the instructions describe each field.",
    "input_schema": BRIEF_JSON_SCHEMA,
}


class AnthropicProvider(LlmProvider):
    name = "anthropic"
    default_model: ClassVar[str] = "claude-haiku-4-5"

    def complete(self, system: str, user: str, timeout: float) -> Reply:
        if not self.config.api_key:
            raise LlmNotConfigured("ANTHROPIC_API_KEY is not set; set it or choose LLM_PROVIDER=offline")
        with anthropic.Anthropic(
            api_key=self.config.api_key,
            base_url=self.config.base_url or ANTHROPIC_URL,
            timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
            max_retries=0,
        ) as client:
            return _reply(self._create(client, system, user), self.config.model)

    def _create(self, client: anthropic.Anthropic, system: str, user: str) -> Message:
        with sdk_errors(SDK_ERRORS):
            return client.messages.create(
                model=self.config.model,
                max_tokens=MAX_OUTPUT_TOKENS,
                system=system,
                messages=[{"role": "user", "content": user}],
                tools=[BRIEF_TOOL],
                tool_choice={"type": "tool", "name": TOOL_NAME},
            )


def _reply(message: Message, model: str) -> Reply:
    tool_inputs = [block.input for block in message.content if block.type == "tool_use"]
    texts = [block.text for block in message.content if block.type == "text"]
    text = json.dumps(tool_inputs[0]) if tool_inputs else "\n".join(texts)
    return Reply(
        text=text,
        tokens_in=message.usage.input_tokens,
        tokens_out=message.usage.output_tokens,
        model=message.model or model,
    )
