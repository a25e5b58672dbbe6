"""The OpenAI chat-completions provider, for any compatible endpoint: OpenAI, Azure OpenAI (its
/openai/v1/ endpoint), Ollama, vLLM, LM Studio. Pure: no Django.

It asks for structured output (a strict JSON schema) first. A server that rejects that format
(older Ollama, some vLLM builds) gets JSON mode, then plain text; the format that worked is
remembered per endpoint and model. The answer is validated in every case (llm_output.py).
"""

from __future__ import annotations

import threading
from typing import ClassVar

import httpx
import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat

from failbrief.summarize.providers.llm_common import MAX_OUTPUT_TOKENS, LlmNotConfigured, LlmProvider, Reply
from failbrief.summarize.providers.llm_output import BRIEF_JSON_SCHEMA
from failbrief.summarize.providers.sdk_errors import SdkErrors, sdk_errors, status_error

OPENAI_URL = "https://api.openai.com/v1"
# Local servers (Ollama, vLLM, LM Studio) take any key; the SDK insists on one.
LOCAL_PLACEHOLDER_KEY = "no-key-needed"
FORMATS: tuple[ResponseFormat | None, ...] = (
    {"type": "json_schema", "json_schema": {"name": "brief", "strict": True, "schema": BRIEF_JSON_SCHEMA}},
    {"type": "json_object"},
    None,
)
SDK_ERRORS = SdkErrors(
    "the OpenAI-compatible API",
    openai.APIStatusError,
    openai.APITimeoutError,
    openai.APIConnectionError,
    keep=(openai.BadRequestError,),  # a 400 about the response format: the next format is tried
)
_FORMAT_WORDS = ("response_format", "json_schema", "json_object", "structured output")
_formats_lock = threading.Lock()
_working_format: dict[tuple[str, str], int] = {}  # (endpoint, model) -> index into FORMATS


class OpenAIProvider(LlmProvider):
    name = "openai"
    default_model: ClassVar[str] = "gpt-4o-mini"

    def complete(self, system: str, user: str, timeout: float) -> Reply:
        endpoint = self.config.base_url or OPENAI_URL
        key = self.config.api_key or (LOCAL_PLACEHOLDER_KEY if self.config.base_url else None)
        if key is None:
            raise LlmNotConfigured("OPENAI_API_KEY is not set; set it or choose LLM_PROVIDER=offline")
        with openai.OpenAI(
            api_key=key, base_url=endpoint, timeout=_timeout(timeout), max_retries=0
        ) as client:
            completion = self._with_a_format(client, endpoint, _messages(system, user))
        return _reply(completion, self.config.model)

    def _with_a_format(
        self, client: openai.OpenAI, endpoint: str, messages: list[ChatCompletionMessageParam]
    ) -> ChatCompletion:
        key = (endpoint, self.config.model)
        with _formats_lock:
            start = _working_format.get(key, 0)
        for index in range(start, len(FORMATS)):
            try:
                completion = _create(client, self.config.model, messages, FORMATS[index])
            except openai.BadRequestError as exc:
                if index + 1 < len(FORMATS) and _about_the_format(exc):
                    continue  # this server does not take that format: try the next, at once
                raise status_error(exc) from None
            with _formats_lock:
                _working_format[key] = index
            return completion
        raise AssertionError("unreachable: the last format is plain text")


def _timeout(seconds: float) -> httpx.Timeout:
    return httpx.Timeout(seconds, connect=min(10.0, seconds))


def _messages(system: str, user: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def _create(
    client: openai.OpenAI,
    model: str,
    messages: list[ChatCompletionMessageParam],
    response_format: ResponseFormat | None,
) -> ChatCompletion:
    with sdk_errors(SDK_ERRORS):
        return client.chat.completions.create(
            model=model,
            messages=messages,
            max_tokens=MAX_OUTPUT_TOKENS,
            response_format=response_format if response_format is not None else openai.omit,
        )


def _about_the_format(exc: openai.BadRequestError) -> bool:
    text = f"{exc.message} {exc.body}".lower()
    return any(word in text for word in _FORMAT_WORDS)


def _reply(completion: ChatCompletion, model: str) -> Reply:
    choice = completion.choices[0] if completion.choices else None
    message = choice.message if choice else None
    text = (message.content or message.refusal or "") if message else ""
    usage = completion.usage
    return Reply(
        text=text,
        tokens_in=usage.prompt_tokens if usage else None,
        tokens_out=usage.completion_tokens if usage else None,
        model=completion.model or model,
    )
