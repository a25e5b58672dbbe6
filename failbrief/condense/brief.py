"""What a brief is: the summary of one failure, and what is known of the failed unit. Pure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, get_args

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
