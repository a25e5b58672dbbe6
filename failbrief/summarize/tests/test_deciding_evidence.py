"""The most specific evidence decides the brief: signal ranking, calibrated confidence, the fix
from the evidence, and the same hint for an LLM. Log shapes are general (dbt, Airbyte, Airflow,
Python and Java chains), not copies of one case."""

from __future__ import annotations

import json

from failbrief.condense.brief import Brief, FailedUnitInfo
from failbrief.condense.calibration import may_say_high
from failbrief.condense.condenser import condense, read_log_file
from failbrief.condense.decide import decide, lead_in_lines
from failbrief.condense.evidence import BY_NAME, SIGNALS
from failbrief.condense.fixes import FIXES
from failbrief.condense.offline import offline_decision, write_brief
from failbrief.summarize.providers.llm_common import logs_part, user_message
from failbrief.summarize.providers.llm_output import parse_brief
from failbrief.summarize.tests.conftest import REPO
from failbrief.summarize.tests.llm_cases import brief_answer

DEV_PARTS = [REPO / "testdata" / part for part in ("corpus", "corpus_extra", "corpus_dev")]


def _calibrated(signal_name: str) -> str:
    return "high" if may_say_high(signal_name) else "medium"


def _brief(lines: list[str], unit: FailedUnitInfo | None = None) -> Brief:
    return write_brief(condense(lines), unit or FailedUnitInfo())


# -- ranking: a specific signal beats the wrapper that reports it --------------------------------


def test_an_oauth_error_under_a_dbt_database_error_is_a_credential_problem_not_sql():
    brief = _brief(
        [
            "12:00:01  1 of 3 START sql table model analytics.orders ... [RUN]",
            "12:00:02  Database Error in model orders (models/orders.sql)",
            "12:00:02    ('invalid_grant: Token has been expired or revoked.', "
            "{'error': 'invalid_grant', 'error_description': 'Token has been expired or revoked.'})",
            "12:00:02  1 of 3 ERROR creating sql table model analytics.orders ... [ERROR in 0.9s]",
        ]
    )
    assert (brief.category, brief.confidence) == ("auth_credentials", "high")
    assert "invalid_grant" in (brief.root_cause or "")
    assert (brief.root_cause or "").startswith(
        "Database Error in model orders"
    )  # the wrapper stays as context
    assert brief.suggested_fix == BY_NAME["oauth-invalid-grant"].check


def test_a_429_beside_a_stream_read_wrapper_decides_and_the_wrapper_stays_in_the_evidence():
    brief = _brief(
        [
            "2024-05-02 10:00:00 source > Syncing stream: events",
            "2024-05-02 10:00:03 source > Stream events: 429 Too Many Requests - "
            '{"error": "rate limit exceeded"}',
            "2024-05-02 10:00:03 source > Encountered an exception while reading stream events",
            "Traceback (most recent call last):",
            '  File "/airbyte/integration_code/source.py", line 12, in read',
            "    raise exc",
        ]
    )
    assert (brief.category, brief.confidence) == ("rate_limit", "high")
    assert "429 Too Many Requests" in (brief.root_cause or "")
    assert any("Encountered an exception while reading stream" in line for line in brief.evidence)
    assert "backoff" in brief.suggested_fix
    assert "quota" in brief.suggested_fix


def test_the_direct_cause_of_a_python_exception_chain_decides_over_the_wrapper_exception():
    brief = _brief(
        [
            "[2024-05-02, 10:00:00 UTC] {taskinstance.py:1937} ERROR - Task failed with exception",
            "Traceback (most recent call last):",
            '  File "/opt/dags/load.py", line 40, in load',
            "    cursor.execute(sql)",
            'psycopg2.errors.InsufficientPrivilege: permission denied for table "orders"',
            "",
            "The above exception was the direct cause of the following exception:",
            "",
            "Traceback (most recent call last):",
            '  File "/opt/dags/load.py", line 44, in load',
            "    raise LoadFailed(table) from exc",
            "dags.load.LoadFailed: could not load orders",
        ]
    )
    # high only if the dev corpus backs the permission signal (calibration.py), else medium
    assert (brief.category, brief.confidence) == ("auth_credentials", _calibrated("insufficient-privilege"))
    assert "permission denied for table" in (brief.root_cause or "")


def test_a_java_caused_by_decides_over_the_runtime_exception_that_wraps_it():
    brief = _brief(
        [
            "2024-05-02 10:00:00 ERROR i.a.w.g.DefaultReplicationWorker(run):120 - Sync worker failed.",
            "java.lang.RuntimeException: java.util.concurrent.ExecutionException: failed to read",
            "\tat io.airbyte.workers.general.DefaultReplicationWorker.run(DefaultReplicationWorker.java:190)",
            "Caused by: org.postgresql.util.PSQLException: FATAL: password authentication failed for user "
            '"airbyte"',
            "\tat org.postgresql.core.v3.ConnectionFactoryImpl.doAuth(ConnectionFactoryImpl.java:61)",
        ]
    )
    assert (brief.category, brief.confidence) == ("auth_credentials", _calibrated("login-rejected"))
    assert "password authentication failed" in (brief.root_cause or "")


def test_a_reason_in_a_nested_json_error_body_decides():
    brief = _brief(
        [
            "2024-05-02 10:00:00 ERROR - Job failed: googleapiclient.errors.HttpError: <HttpError 403 when "
            'requesting https://bigquery.googleapis.com/bigquery/v2/projects/p/jobs returned "Exceeded rate '
            "limits\". Details: \"[{'reason': 'rateLimitExceeded'}]\">",
            "{",
            '  "error": {',
            '    "code": 403,',
            '    "errors": [{"reason": "rateLimitExceeded", "message": "Exceeded rate limits"}]',
            "  }",
            "}",
        ]
    )
    # A 403 that is really a rate limit: the table ranks the rate limit above the bare status.
    assert (brief.category, brief.confidence) == ("rate_limit", "high")


def test_an_oom_kill_exit_code_is_a_resource_limit_whatever_wrapped_it():
    brief = _brief(
        [
            "2024-05-02 10:00:00 INFO Starting flow run 'calm-otter'",
            "2024-05-02 10:05:00 ERROR Flow run infrastructure exited with non-zero status code:",
            " Container 'prefect' terminated with reason OOMKilled, exit code 137",
        ]
    )
    assert (brief.category, brief.confidence) == ("resource_limit_oom_timeout", "high")
    assert "memory limit" in brief.suggested_fix


# -- confidence: high only when a specific signal decided ---------------------------------------


def test_a_bare_non_zero_exit_abstains_with_low_confidence_and_no_category_fix():
    brief = _brief(
        [
            "2024-05-02 10:00:00 INFO Running command: python load.py",
            "2024-05-02 10:00:09 ERROR Command failed with exit code 1",
            "2024-05-02 10:00:09 ERROR Task run failed with exception: RuntimeError('Command failed')",
        ]
    )
    assert (brief.category, brief.confidence) == ("unknown", "low")
    assert brief.suggested_fix == FIXES["unknown"].action
    other_fixes = [fix.action for name, fix in FIXES.items() if name != "unknown"]
    assert not any(fix in brief.suggested_fix for fix in other_fixes)
    assert "does not guess" in brief.explanation


def test_a_programming_error_class_alone_is_only_medium_and_its_fix_is_hedged():
    brief = _brief(
        [
            "Traceback (most recent call last):",
            '  File "/app/flows/transform.py", line 8, in run',
            "    total = row['amount'] + fee",
            "TypeError: unsupported operand type(s) for +: 'NoneType' and 'int'",
        ]
    )
    assert (brief.category, brief.confidence) == ("code_bug", "medium")
    assert brief.suggested_fix.startswith("Likely, not certain")
    assert BY_NAME["programming-error"].check in brief.suggested_fix


def test_a_specific_signal_outside_the_error_blocks_is_only_medium():
    decision = decide([], "## Last lines of the log\nupstream said: 429 Too Many Requests\n")
    assert (decision.category, decision.confidence) == ("rate_limit", "medium")


def test_warnings_outside_the_error_blocks_never_decide():
    text = "## Other lines by score\n12:00:00 [warn ] [WARNING]: Test 'x' depends on a node named 'y'\n"
    assert decide([], text).category == "unknown"


def test_no_dev_corpus_brief_is_high_without_a_specific_signal_in_the_failure():
    for part in DEV_PARTS:
        for case_dir in sorted(path.parent for path in part.glob("*/case.json")):
            context = condense(read_log_file(case_dir / "log.txt"))
            brief = write_brief(context, FailedUnitInfo())
            decision = offline_decision(context, FailedUnitInfo())
            assert brief.confidence == decision.confidence, case_dir.name
            if brief.confidence == "high":
                assert decision.signal is not None, case_dir.name
                assert decision.signal.specific, case_dir.name
                # ...in an error block, or logged just before it (its lead-in)
                assert decision.line is not None, case_dir.name
                assert decision.line in context.text, case_dir.name
                lead_in = lead_in_lines(context.text)
                assert decision.block is not None or decision.line in lead_in, case_dir.name
            if brief.category == "unknown":
                assert brief.confidence == "low", case_dir.name


# -- the fix follows the evidence ------------------------------------------------------------------


def test_two_credential_failures_with_different_signals_get_different_checks():
    expired = _brief(
        ["ERROR - google.auth.exceptions.RefreshError: ('invalid_grant: Invalid JWT Signature.')"]
    )
    denied = _brief(
        [
            "ERROR - google.api_core.exceptions.Forbidden: 403 Access Denied: Table p:d.t: "
            "User does not have permission"
        ]
    )
    assert expired.category == denied.category == "auth_credentials"
    assert "clock" in expired.suggested_fix
    assert expired.suggested_fix != denied.suggested_fix
    assert any(BY_NAME[name].check in denied.suggested_fix for name in ("insufficient-privilege", "http-403"))


def test_every_signal_has_its_own_short_check():
    checks = [signal.check for signal in SIGNALS]
    assert len(set(checks)) == len(checks)
    assert all(40 <= len(check) <= 300 for check in checks)


# -- the LLM gets the same deciding signal as a hint it may overrule -----------------------------


def test_the_llm_prompt_carries_the_deciding_signal_and_evidence_from_the_hint_is_not_verified():
    lines = ["2024-05-02 10:00:03 ERROR source > Stream events: 429 Too Many Requests"]
    sent = user_message(condense(lines), FailedUnitInfo(task_name="sync"))
    assert "Rule-based hint" in sent
    assert "rate_limit, confidence high" in sent
    hint_only = "What to check: " + BY_NAME["http-429"].check
    answer = brief_answer(evidence=[hint_only, "Stream events: 429 Too Many Requests"])
    brief = parse_brief(
        json.dumps(answer), logs_part(sent), offline_decision(condense(lines), FailedUnitInfo())
    )
    assert brief.evidence == ["Stream events: 429 Too Many Requests"]


# -- classes of failure: who wrote, which version, a cause glued onto a frame ----------------------


def test_a_value_too_long_while_a_loader_inserts_rows_is_the_destination_write():
    brief = _brief(
        [
            "Traceback (most recent call last):",
            '  File "/app/load.py", line 39, in <module>',
            "    cursor.executemany(insert_query, rows)",
            "psycopg2.errors.StringDataRightTruncation: value too long for type character varying(25)",
        ]
    )
    assert brief.category == "destination_write"
    assert brief.confidence == "medium"
    assert "value too long" in (brief.root_cause or "")


def test_a_value_too_long_in_a_dbt_model_stays_a_schema_mismatch():
    brief = _brief(
        [
            "12:00:00  Running with dbt=1.7.4",
            "12:00:05  Database Error in model events (models/events.sql)",
            "12:00:05    value too long for type character varying(256)",
            "12:00:05    compiled Code at target/run/proj/models/events.sql",
        ]
    )
    assert brief.category == "schema_mismatch"


def test_a_library_api_removed_by_a_new_major_version_is_a_dependency_problem():
    brief = _brief(
        [
            "Traceback (most recent call last):",
            '  File "/venv/lib/python3.10/site-packages/pandas/io/sql.py", line 1405, in execute',
            "    return self.connectable.execution_options().execute(*args, **kwargs)",
            "AttributeError: 'OptionEngine' object has no attribute 'execute'",
        ]
    )
    assert (brief.category, brief.confidence) == ("dependency_version", "medium")
    assert "SQLAlchemy" in brief.suggested_fix


def test_an_installed_dbt_package_this_dbt_cannot_read_is_a_version_problem():
    brief = _brief(
        [
            "Encountered an error:",
            "Runtime Error",
            "  Failed to read package at /app/dbt_packages/dbt_utils: Runtime Error",
            "    at path []: Additional properties are not allowed ('config-version' was unexpected)",
        ]
    )
    assert (brief.category, brief.confidence) == ("dependency_version", "medium")


def test_a_cause_a_paste_glued_onto_a_java_frame_still_decides_and_is_quoted():
    brief = _brief(
        [
            "at org.apache.spark.deploy.SparkSubmit.main(SparkSubmit.scala)Caused by: "
            "com.google.cloud.bigquery.BigQueryException: Provided Schema does not match Table p.d.t. "
            "Field dt has changed type from TIMESTAMP to STRING"
        ]
    )
    assert brief.category == "schema_mismatch"
    assert (brief.root_cause or "").startswith("Provided Schema does not match Table p.d.t.")


def test_a_singer_tap_rejected_with_401_or_bad_credentials_is_a_credential_problem():
    for line in (
        "2019-10-18 07:32:29,040Z    tap - CRITICAL Invalid response from API, status code is 401",
        'CRITICAL {"message":"Bad credentials","documentation_url":"https://developer.github.com/v3"}',
    ):
        brief = _brief(["INFO Starting sync", line, "INFO tap exited"])
        assert brief.category == "auth_credentials", line
        assert brief.confidence != "low", line
