"""The one mapping of the official LLM SDKs' errors (openai's and anthropic's share their shapes)
onto ours: Transient (worth retrying) or LlmRefused. Pure: no Django."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol, cast

import httpx

from failbrief.lib.http import retry_after_seconds
from failbrief.summarize.providers.llm_common import LlmRefused, Transient


class StatusError(Protocol):
    """What an official SDK's APIStatusError carries (openai's and anthropic's alike)."""

    @property
    def status_code(self) -> int: ...
    @property
    def message(self) -> str: ...
    @property
    def response(self) -> httpx.Response: ...


@dataclass(frozen=True)
class SdkErrors:
    """An official SDK's error classes, and the API's name for messages. `keep` passes through
    unchanged (a caller handles them, e.g. a 400 about the response format)."""

    api: str
    status: type[Exception]
    timeout: type[Exception]
    connection: type[Exception]
    keep: tuple[type[Exception], ...] = ()


@contextmanager
def sdk_errors(sdk: SdkErrors) -> Iterator[None]:
    """Turns the SDK's errors into Transient (408, 409, 429, 5xx, timeouts, refused connections)
    or LlmRefused (any other status)."""
    try:
        yield
    except sdk.keep:
        raise
    except sdk.status as exc:
        raise status_error(cast(StatusError, exc)) from None
    except sdk.timeout:
        raise Transient(f"{sdk.api} did not answer in time") from None
    except sdk.connection as exc:
        raise Transient(f"cannot reach {sdk.api}: {exc}") from None


def status_error(exc: StatusError) -> Transient | LlmRefused:
    """Transient for 408, 409 (a conflict the SDKs retry), 429 and 5xx (Anthropic's 529 overloaded
    too), with the server's Retry-After; LlmRefused otherwise."""
    said = f"HTTP {exc.status_code}: {exc.message}"
    if exc.status_code in (408, 409, 429) or exc.status_code >= 500:
        return Transient(said, retry_after_seconds(exc.response.headers))
    return LlmRefused(said)
