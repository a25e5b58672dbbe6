"""Every corpus case (FAILBRIEF_CORPUS_DIR, else testdata/corpus) and our Prefect payload cases."""

from __future__ import annotations

import json

import pytest

from failbrief.condense.brief import FailedUnitInfo
from failbrief.condense.condenser import condense, read_log_file
from failbrief.condense.offline import write_brief
from failbrief.condense.tests.conftest import CORPUS_DIR, PREFECT_DIR

CASES = sorted(path.parent for path in CORPUS_DIR.glob("*/case.json"))
SIGKILL = (
    "Process exited with status code: -9. Process exited due to a SIGKILL signal. Typically caused by the "
    "operating system terminating the process for exceeding memory limits, or by manual cancellation."
)
# Our own cases from real Prefect payloads: (file, must_keep, category, state message)
MODEL_ERROR = ["Database Error in model customer_revenue", "column o.amount_usd does not exist"]
TEST_FAILURE = ["Failure in test not_null_stg_orders_customer_id", "Got 1 result"]
TASK_ERROR = ["ValueError: Cannot convert order 0: unsupported currency None", "KeyError: None"]
PREFECT_CASES = [
    ("b_logs_task_dbt_run.json", MODEL_ERROR, "schema_mismatch", ""),
    ("b_logs_task_dbt_test.json", TEST_FAILURE, "data_quality_test", ""),
    ("b_logs_download.csv", [*MODEL_ERROR, *TEST_FAILURE], "schema_mismatch", ""),
    ("a_logs_task.json", TASK_ERROR, "code_bug", ""),
    ("a2_logs_task.json", TASK_ERROR, "code_bug", ""),
    (
        "c_subflow_logs_flow.json",
        ["could not connect to server: Connection refused"],
        "source_connection",
        "",
    ),
    (
        "d_logs_flow.json",
        ["loading 40M rows from raw.events into memory"],
        "resource_limit_oom_timeout",
        SIGKILL,
    ),
]


def test_the_corpus_is_there():
    assert CASES, f"no cases under {CORPUS_DIR}"


@pytest.mark.parametrize("case_dir", CASES, ids=lambda p: p.name)
def test_it_keeps_every_must_keep_string_of_the_corpus_within_the_default_budget(case_dir):
    case = json.loads((case_dir / "case.json").read_text())
    context = condense(read_log_file(case_dir / "log.txt"))
    missing = [m for m in case["must_keep"] if m not in context.text]
    assert missing == []
    assert context.tokens <= 4000


@pytest.mark.parametrize("case_dir", CASES, ids=lambda p: p.name)
def test_the_offline_category_matches_the_corpus(case_dir):
    case = json.loads((case_dir / "case.json").read_text())
    context = condense(read_log_file(case_dir / "log.txt"))
    assert write_brief(context, FailedUnitInfo()).category == case["category"]


@pytest.mark.parametrize(("name", "must_keep", "category", "state"), PREFECT_CASES, ids=lambda v: str(v)[:30])
def test_prefect_payload_cases_keep_their_errors_and_get_the_right_category(name, must_keep, category, state):
    context = condense(read_log_file(PREFECT_DIR / name))
    assert [m for m in must_keep if m not in context.text] == []
    assert write_brief(context, FailedUnitInfo(state_message=state)).category == category
