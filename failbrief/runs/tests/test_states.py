"""The one definition of a failure, as every part of failbrief applies it."""

from __future__ import annotations

import pytest

from failbrief.runs.states import FAILURE_EVENTS, is_failure

# (state type, state name); a Dalgo webhook names the state but not its type.
FAILURES = [
    ("FAILED", "Failed"),
    ("CRASHED", "Crashed"),
    ("FAILED", "TimedOut"),
    ("COMPLETED", "DBT_TEST_FAILED"),
    (None, "TimedOut"),
    (None, "DBT_TEST_FAILED"),
    ("FAILED", None),
]
NOT_FAILURES = [
    ("COMPLETED", "Completed"),
    ("RUNNING", "Running"),
    ("CANCELLED", "Cancelled"),
    ("PENDING", "NotReady"),
    (None, None),
]


@pytest.mark.parametrize(("state_type", "state_name"), FAILURES)
def test_failed_crashed_timed_out_and_dbt_test_failed_are_failures(state_type, state_name):
    assert is_failure(state_type, state_name)


@pytest.mark.parametrize(("state_type", "state_name"), NOT_FAILURES)
def test_other_states_are_not(state_type, state_name):
    assert not is_failure(state_type, state_name)


def test_the_automation_expects_the_event_of_every_failure_state():
    assert FAILURE_EVENTS == (
        "prefect.flow-run.Failed",
        "prefect.flow-run.Crashed",
        "prefect.flow-run.TimedOut",
        "prefect.flow-run.DBT_TEST_FAILED",
    )
