"""What counts as a failure: the one definition the webhook, the reconciler, the backfill, the
automation and the failed-unit search all use. Pure: no Django.

A flow or task run failed when its state type is FAILED or CRASHED (Prefect's TimedOut is a FAILED
state of that name), or when its state is named DBT_TEST_FAILED: Dalgo ends a run whose dbt tests
failed in State(type=COMPLETED, name="DBT_TEST_FAILED") so the flow goes on; a failure all the
same. A notice that carries only a state name (Dalgo's webhook body) is judged by the name alone.
"""

from __future__ import annotations

FAILURE_STATE_TYPES = ("FAILED", "CRASHED")
DBT_TEST_FAILED = "DBT_TEST_FAILED"
# Failure states whose type is not a failure type: Prefect's type filter misses them, so they are
# asked for by name.
FAILURE_NAMES_OF_OTHER_TYPES = (DBT_TEST_FAILED,)
# Every failure state name: Prefect's own names of the failure types, then those above.
FAILURE_STATE_NAMES = ("Failed", "Crashed", "TimedOut", *FAILURE_NAMES_OF_OTHER_TYPES)
# The Prefect events a failure emits (`prefect.flow-run.<state name>`): what the automation expects.
FAILURE_EVENTS = tuple(f"prefect.flow-run.{name}" for name in FAILURE_STATE_NAMES)


def is_failure(state_type: str | None, state_name: str | None) -> bool:
    """True for the states we summarize: Failed, Crashed, TimedOut and Dalgo's DBT_TEST_FAILED.
    Either part may be unknown (None): a Dalgo webhook names the state but not its type."""
    return state_type in FAILURE_STATE_TYPES or state_name in FAILURE_STATE_NAMES
