"""What every LLM provider shares: the prompt, one request per summary with retries inside a
deadline, the repair retry, and the domain errors. Pure: no Django (settings come in LlmConfig).

A provider module only implements `complete()`: one HTTP request through its official SDK, with
the SDK's own retries off, turning the SDK's errors into `Transient` (worth retrying: 429, 5xx,
timeouts, refused connections) or `LlmRefused` (not worth it: 400, 401, 403, 404).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import ClassVar

from failbrief.condense.brief import Brief, FailedUnitInfo
from failbrief.condense.condenser import Context
from failbrief.condense.decide import Decision
from failbrief.condense.offline import offline_decision
from failbrief.condense.redact import redact
from failbrief.lib.http import backoff_seconds
from failbrief.summarize.providers.base import Answer, Provider
from failbrief.summarize.providers.limiter import NoFreeSlot, provider_slot
from failbrief.summarize.providers.llm_output import MalformedOutput, parse_brief

PROMPT_VERSION = "v1"
# Between the logs and the rule hint: everything after it is ours, not the pipeline's.
HINT_MARK = "\n\nRule-based hint (may be wrong; overrule it when the logs show otherwise): "
PROMPTS = Path(__file__).resolve().parent / "prompts"
MAX_OUTPUT_TOKENS = 1500
BACKOFF_BASE_SECONDS = 0.5
BACKOFF_CAP_SECONDS = 20.0


class LlmError(Exception):
    """The LLM gave no usable brief; the message says why (never a key). `billed` holds the answers
    the API did give (and charged for) before it came to nothing: a malformed one, its repair."""

    billed: tuple[Reply, ...] = ()


class LlmNotConfigured(LlmError):
    """A setting the provider needs is missing (its API key)."""


class LlmUnavailable(LlmError):
    """No answer: timeouts, 429 or 5xx until the retries or the per-summary deadline ran out."""


class LlmRefused(LlmError):
    """The provider refused the request (bad key, unknown model, bad request): retrying won't help."""


class LlmMalformed(LlmError):
    """The model's answer was not a valid brief, twice (once more after a repair request)."""


class Transient(Exception):
    """One failed request worth retrying; `retry_after` is the server's Retry-After, if any."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class LlmConfig:
    """Everything a provider needs to call its API (from settings and the org's overrides)."""

    model: str
    api_key: str | None = None
    base_url: str | None = None
    timeout_seconds: float = 60.0
    deadline_seconds: float = 120.0
    max_retries: int = 3
    max_concurrency: int = 4
    # The org's own hosts (its Prefect UI, failbrief's pages, its Airbyte): addresses on them stay
    # links in the model's text; others, but documentation sites, are made inert (links.py).
    known_hosts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """One answer of the API: the model's text (or tool input as JSON) and what it cost."""

    text: str
    tokens_in: int | None
    tokens_out: int | None
    model: str


class Deadline:
    """The per-summary deadline: every request, wait and retry fits inside it."""

    def __init__(self, seconds: float) -> None:
        self.ends = time.monotonic() + seconds
        self.seconds = seconds

    def remaining(self) -> float:
        return max(0.0, self.ends - time.monotonic())


@lru_cache(maxsize=4)
def system_prompt(version: str = PROMPT_VERSION) -> str:
    return (PROMPTS / f"system_{version}.txt").read_text(encoding="utf-8")


def user_message(
    context: Context, unit: FailedUnitInfo, org_name: str = "", rules: Decision | None = None
) -> str:
    """What the model reads: the org's name, the run's metadata and the condensed logs, redacted
    again as a whole (the context already is; the metadata comes from Prefect unredacted), then the
    hint of the offline rules' decision (`rules`, made here when not given)."""
    facts = [
        ("Organisation", org_name),
        ("Flow", unit.flow_name),
        ("Flow run", unit.flow_run_name),
        ("Deployment", unit.deployment_name),
        ("Failed task", unit.task_name),
        ("Final state", unit.state_name),
        ("State message", unit.state_message),
    ]
    head = "\n".join(f"{name}: {value.strip()}" for name, value in facts if value.strip())
    logs = f"{as_data(head)}\n\nCondensed logs of the failed task:\n<<<LOGS\n{as_data(context.text)}\nLOGS>>>"
    rules = rules or offline_decision(context, unit)
    return redact(f"{logs}{HINT_MARK}{rule_hint(rules)}")


# The prompt's own markers, as a log line or Prefect's state message could repeat them to close the
# logs block early or forge the rule hint: inside the data each gets one space, so the model reads
# one block and one hint, ours (and evidence is checked against what it read).
_MARKERS = {
    "<<<LOGS": "<<< LOGS",
    "LOGS>>>": "LOGS >>>",
    HINT_MARK.strip(): HINT_MARK.strip().replace(" (", "  (", 1),
}
_MARKER = re.compile("|".join(re.escape(marker) for marker in _MARKERS))


def as_data(text: str) -> str:
    return _MARKER.sub(lambda found: _MARKERS[found.group(0)], text)


def rule_hint(decision: Decision) -> str:
    """The offline rules' deciding signal and confidence, for the model to use or overrule."""
    if decision.category == "unknown":
        return "no error code, status, exception class or exit signal names the cause (confidence: low)."
    what = (
        f"{decision.signal.kind} ({decision.rule})"
        if decision.signal is not None
        else f"keywords ({decision.rule})"
    )
    lines = [f"{what} suggests category {decision.category}, confidence {decision.confidence}."]
    if decision.line:
        lines.append(f"Deciding line: {decision.line.strip()[:400]}")
    if decision.signal is not None:
        lines.append(f"What to check: {decision.signal.check}")
    return "\n".join(lines)


def logs_part(sent: str) -> str:
    """What the model was sent without the rule hint: evidence must come from the logs, never the hint."""
    return sent.split(HINT_MARK, 1)[0]


def repair_message(sent: str, answer: str, problem: MalformedOutput) -> str:
    """The one repair request: the same input, the rejected answer and what was wrong with it."""
    return (
        f"{sent}\n\nYour previous answer was rejected: {problem}\n"
        f"Previous answer (first 2000 characters):\n{answer[:2000]}\n\n"
        "Answer again with only the JSON object described in the instructions."
    )


def with_retries(
    request: Callable[[float], Reply],
    max_retries: int,
    deadline: Deadline,
    sleep: Callable[[float], None] = time.sleep,
) -> Reply:
    """`request(timeout)` until it answers, at most 1 + `max_retries` times, waiting Retry-After or
    an exponential backoff with jitter between tries. Raises LlmUnavailable when the tries or the
    deadline run out (a Retry-After past the deadline gives up at once rather than sleep in vain)."""
    tries = 0
    while True:
        timeout = deadline.remaining()
        if timeout <= 0:
            raise LlmUnavailable(f"no answer within the {deadline.seconds:.0f} s deadline per summary")
        tries += 1
        try:
            return request(timeout)
        except Transient as exc:
            wait = _wait_before_retry(exc, tries, max_retries, deadline)
        sleep(wait)


def _wait_before_retry(exc: Transient, tries: int, max_retries: int, deadline: Deadline) -> float:
    if tries > max_retries:
        raise LlmUnavailable(f"{exc} (gave up after {tries} tries)")
    wait = backoff_seconds(tries - 1, exc.retry_after, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_CAP_SECONDS)
    if wait >= deadline.remaining():
        raise LlmUnavailable(
            f"{exc}; the next try (in {wait:.1f} s) would pass the {deadline.seconds:.0f} s deadline"
        )
    return wait


class LlmProvider(Provider):
    """An LLM behind an official SDK. One request per summary (one more to repair a malformed
    answer): no agent loop, so small local models work too."""

    default_model: ClassVar[str] = ""

    def __init__(self, config: LlmConfig) -> None:
        self.config = config

    def write_brief(self, context: Context, unit: FailedUnitInfo) -> Brief:
        return self.answer(context, unit).brief

    def secrets(self) -> tuple[str, ...]:
        return (self.config.api_key,) if self.config.api_key else ()

    def answer(self, context: Context, unit: FailedUnitInfo, org_name: str = "") -> Answer:
        """The model's brief. Raises LlmError (never an SDK exception for an API fault)."""
        deadline = Deadline(self.config.deadline_seconds)
        rules = offline_decision(context, unit)
        sent = user_message(context, unit, org_name, rules)
        first = self._request(sent, deadline)
        try:
            return self._answer(first, sent, rules, [first])
        except MalformedOutput as problem:
            try:
                second = self._request(repair_message(sent, first.text, problem), deadline)
            except LlmError as exc:
                exc.billed = (first,)
                raise
            try:
                return self._answer(second, sent, rules, [first, second])
            except MalformedOutput as again:
                malformed = LlmMalformed(f"malformed answer twice: {again}")
                malformed.billed = (first, second)
                raise malformed from None

    def complete(self, system: str, user: str, timeout: float) -> Reply:
        """One request. Raises Transient, LlmRefused or LlmNotConfigured."""
        raise NotImplementedError

    def _request(self, user: str, deadline: Deadline) -> Reply:
        def one_try(timeout: float) -> Reply:
            with provider_slot(self.name, self.config.max_concurrency, deadline.remaining()):
                return self.complete(system_prompt(), user, min(timeout, self.config.timeout_seconds))

        try:
            return with_retries(one_try, self.config.max_retries, deadline)
        except NoFreeSlot as exc:
            raise LlmUnavailable(str(exc)) from None

    def _answer(self, reply: Reply, sent: str, rules: Decision, replies: list[Reply]) -> Answer:
        tokens_in, tokens_out = billed_tokens(replies)
        return Answer(
            brief=parse_brief(reply.text, logs_part(sent), rules, self.config.known_hosts),
            model=reply.model,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            requests=len(replies),
        )


def billed_tokens(replies: Sequence[Reply]) -> tuple[int | None, int | None]:
    """The input and output tokens the API reported for `replies`, added up (None: none reported)."""
    return _total([r.tokens_in for r in replies]), _total([r.tokens_out for r in replies])


def _total(counts: list[int | None]) -> int | None:
    known = [count for count in counts if count is not None]
    return sum(known) if known else None
