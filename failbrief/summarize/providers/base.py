"""The interface every summarizer (offline rules, LLM providers) implements. Pure: no Django."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, get_args

if TYPE_CHECKING:
    from failbrief.summarize.condense import Context

Category = Literal[
    "source_connection",
    "auth_credentials",
    "schema_mismatch",
    "sql_error",
    "data_quality_test",
    "resource_limit_oom_timeout",
    "config_error",
    "dependency_version",
    "network",
    "destination_write",
    "code_bug",
    "rate_limit",
    "unknown",
]
CATEGORIES: tuple[str, ...] = get_args(Category)


@dataclass(frozen=True)
class FailedUnitInfo:
    """What we know about the failed unit besides its logs; every field may be empty."""

    flow_name: str = ""
    flow_run_name: str = ""
    deployment_name: str = ""
    task_name: str = ""
    state_name: str = ""
    state_message: str = ""
    start_time: str = ""
    end_time: str = ""


@dataclass(frozen=True)
class Brief:
    """The summary of one failure. `root_cause` is None when the logs do not support one."""

    root_cause: str | None
    failing_step: str | None
    category: str
    evidence: list[str] = field(default_factory=list)
    suggested_fix: str = ""
    explanation: str = ""
    confidence: str = "medium"


@dataclass(frozen=True)
class Answer:
    """A provider's brief and what it cost: the model that wrote it and its tokens (none for rules)."""

    brief: Brief
    model: str = ""
    tokens_in: int | None = None
    tokens_out: int | None = None
    requests: int = 0  # LLM requests: 1, or 2 after a repair request (retries of one are not counted)


class Provider:
    """Turns a condensed context into a Brief. One subclass per module under providers/. The writer
    (summarize/writer.py) calls `answer` on every provider, the offline rules included."""

    name: str = ""

    def write_brief(self, context: Context, unit: FailedUnitInfo) -> Brief:
        raise NotImplementedError

    def answer(self, context: Context, unit: FailedUnitInfo, org_name: str = "") -> Answer:
        """The brief with what it cost. Raises the provider's own errors (an LLM's: LlmError)."""
        return Answer(self.write_brief(context, unit))

    def secrets(self) -> tuple[str, ...]:
        """What must never show in a stored error message (an LLM provider's API key)."""
        return ()
