"""Logs and answers shared by the LLM tests."""

from __future__ import annotations

from typing import Any

from failbrief.condense.brief import FailedUnitInfo
from failbrief.condense.condenser import Context, condense

DBT_LOG = [
    "12:00:01  Running with dbt=1.8.2",
    "12:00:02  Found 12 models, 4 tests, 3 sources",
    "12:00:05  1 of 12 START sql table model analytics.stg_orders ........ [RUN]",
    "12:00:06  1 of 12 ERROR creating sql table model analytics.stg_orders [ERROR in 0.41s]",
    "12:00:07  Database Error in model stg_orders (models/staging/stg_orders.sql)",
    "12:00:07    column o.amount_usd does not exist",
    "12:00:07    LINE 12:     o.amount_usd as amount",
    "12:00:08  Done. PASS=0 WARN=0 ERROR=1 SKIP=11 TOTAL=12",
]
ROOT_LINE = "column o.amount_usd does not exist"
UNIT = FailedUnitInfo(flow_run_name="nightly-orders", task_name="dbt-run", state_name="Failed")


def dbt_context(lines: list[str] | None = None) -> Context:
    return condense(lines or DBT_LOG, 4000)


def brief_answer(**changes: Any) -> dict[str, Any]:
    """A valid model answer about DBT_LOG."""
    answer: dict[str, Any] = {
        "root_cause": "The model stg_orders selects o.amount_usd, a column the orders table does not have.",
        "failing_step": "stg_orders",
        "category": "schema_mismatch",
        "explanation": "The dbt model stg_orders failed because it reads a column that no longer exists. "
        "Tables built from it were skipped.",
        "suggested_fix": ["Rename o.amount_usd to the column the source now has", "Run dbt again"],
        "evidence": [ROOT_LINE],
        "confidence": "high",
        "missing": None,
    }
    return answer | changes
