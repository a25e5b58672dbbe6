"""The root cause quotes the line that states the problem, in log shapes where that line is not an
ordinary error line: a traceback flattened onto one line, a bare "Error:" label, a problem logged
without an error level and outside any error block."""

from __future__ import annotations

from failbrief.condense.brief import Brief, FailedUnitInfo
from failbrief.condense.condenser import condense
from failbrief.condense.offline import write_brief


def _brief(lines: list[str], unit: FailedUnitInfo | None = None) -> Brief:
    return write_brief(condense(lines), unit or FailedUnitInfo())


def test_a_traceback_flattened_onto_one_line_is_read_for_its_exception():
    # Issue pastes and some log shippers join a traceback's lines with spaces.
    brief = _brief(
        [
            "- Created task run 'trigger-0' for task 'trigger'",
            "- Encountered exception during execution: Traceback (most recent call last): "
            'File "/venv/lib/python3.10/site-packages/client.py", line 154, in trigger '
            "response.raise_for_status() "
            'File "/venv/lib/python3.10/site-packages/httpx/_models.py", line 749, in raise_for_status '
            "raise HTTPStatusError(message, request=request, response=self) "
            "httpx.HTTPStatusError: Client error '409 Conflict' for url "
            "'http://airbyte:8000/api/v1/connections/sync/' "
            "The above exception was the direct cause of the following exception: "
            "Traceback (most recent call last): "
            'File "/venv/lib/python3.10/site-packages/prefect/engine.py", line 12, in run result = call() '
            "RuntimeError: the sync could not be started",
        ]
    )
    assert (brief.root_cause or "").startswith("httpx.HTTPStatusError: Client error '409 Conflict'")
    assert 'File "' not in (brief.root_cause or "")


def test_a_bare_error_label_gives_way_to_the_line_that_says_what():
    brief = _brief(
        [
            "Error:",
            "",
            "RuntimeError: Failed to clone repository 'https://gitlab.example.com/data/pipelines.git' "
            "with exit code 128",
        ]
    )
    assert (brief.root_cause or "").startswith("RuntimeError: Failed to clone repository")


def test_a_problem_logged_without_an_error_level_is_quoted_but_not_guessed_at():
    # A library that states a violated rule in plain words, with no error level or exception class.
    # (dlt's "Contract on columns ... is violated" used to be the example; it is a signal row now.)
    brief = _brief(
        [
            "2024-05-01 10:00:00 reading sheet orders",
            "Can't map sheet orders: the header row has 3 cells where the mapping expects 5.",
        ]
    )
    problem = "Can't map sheet orders: the header row has 3 cells where the mapping expects 5."
    assert brief.root_cause == problem
    assert (brief.category, brief.confidence) == ("unknown", "low")


def test_a_retryable_error_logged_at_info_is_read_but_only_weakly():
    brief = _brief(
        [
            "2024-10-04 12:28:49 INFO i.a.w.i.VersionedAirbyteStreamFactory(internalLog):308 - "
            "Caught retryable "
            "error 'HTTPSConnectionPool(host='okta', port=443): Max retries exceeded with url: /api/v1/users "
            "(Caused by NameResolutionError(\"Failed to resolve 'okta' "
            "([Errno -2] Name or service not known)\"))'",
        ]
    )
    assert "Failed to resolve 'okta'" in (brief.root_cause or "")
    assert brief.confidence == "medium"
    assert (brief.suggested_fix or "").startswith("Likely, not certain")


def test_a_healthy_looking_log_still_gets_no_root_cause():
    brief = _brief(["2024-05-01 10:00:00 INFO starting", "2024-05-01 10:00:05 INFO 12 rows loaded"])
    assert brief.root_cause is None
    assert (brief.category, brief.confidence) == ("unknown", "low")


def test_the_line_under_a_bare_dbt_heading_is_the_cause():
    brief = _brief(
        [
            "15:46:38.018799 [error] [MainThread]: [ERROR]: Encountered an error:",
            "Runtime Error",
            "  No adapters available. Learn how to install an adapter by going to https://docs.getdbt.com/",
            "15:46:38.020549 [debug] [MainThread]: Command `dbt init` failed at 15:46:38.020362",
        ]
    )
    assert "No adapters available" in (brief.root_cause or "")
    assert brief.category == "dependency_version"


def test_a_vendor_error_that_says_authentication_failed_beats_its_boilerplate():
    brief = _brief(
        [
            "[2025-06-18T20:28:06.120+0000] {taskinstance.py:2698} ERROR - Task failed with exception",
            "Traceback (most recent call last):",
            '  File "/opt/airflow/dags/load.py", line 39, in load',
            "    client = get_client(host=conn.host)",
            "clickhouse_connect.driver.exceptions.DatabaseError: HTTPDriver for http://clickhouse:8123 "
            "received ClickHouse error code 194",
            " Code: 194. DB::Exception: default: Authentication failed: password is incorrect, or there "
            "is no user with such name.",
            "",
            ". (REQUIRED_PASSWORD) (version 25.5.2.47 (official build))",
        ]
    )
    assert "Authentication failed" in (brief.root_cause or "")
    assert brief.category == "auth_credentials"


def test_an_r_error_report_is_read_for_its_message():
    brief = _brief(
        [
            'DatabaseConnector::querySql(connection = connection, "SELECT release_date FROM cdm.source;")',
            "",
            "Error in `.createErrorReport()`:",
            "! Error executing SQL:",
            "'origin' must be supplied",
            "An error report has been created at  /tmp/errorReportSql.txt",
            "Run `rlang::last_trace()` to see where the error occurred.",
        ]
    )
    assert "'origin' must be supplied" in (brief.root_cause or "")


def test_a_dbt_heading_logged_at_info_gives_way_to_its_detail():
    brief = _brief(
        [
            "INFO - Compilation Error",
            "INFO -   dbt found 1 package(s) specified in packages.yml, but only 0 package(s) installed in "
            'dbt_packages. Run "dbt deps" to install package dependencies.',
        ]
    )
    assert (brief.root_cause or "").startswith("dbt found 1 package(s) specified in packages.yml")


def test_a_line_that_ends_in_a_dbt_heading_is_joined_to_the_detail_under_it():
    brief = _brief(
        [
            "Runtime Error",
            "  Failed to read package: Runtime Error",
            "    at path []: Additional properties are not allowed ('flags' was unexpected)",
            "  Error encountered in [packages-install-path]/dbt_date/dbt_project.yml",
        ]
    )
    assert "Additional properties are not allowed ('flags' was unexpected)" in (brief.root_cause or "")
