"""Signal rows read the codes and messages systems emit for one kind of problem, as real clients
print them (psycopg, urllib3, botocore, the Snowflake connector, Airflow, Spark, libpq)."""

from __future__ import annotations

import pytest

from failbrief.condense.brief import FailedUnitInfo
from failbrief.condense.condenser import condense
from failbrief.condense.offline import write_brief


@pytest.mark.parametrize(
    ("line", "category"),
    [
        # a dropped stream or a server that ended the session
        (
            "urllib3.exceptions.ProtocolError: (\"Connection broken: InvalidChunkLength(got length b'', "
            "0 bytes read)\", InvalidChunkLength(got length b'', 0 bytes read))",
            "network",
        ),
        (
            "psycopg2.errors.AdminShutdown: terminating connection due to administrator command",
            "network",
        ),
        # a full disk quota is disk, not an API quota
        (
            "OSError: [Errno 122] Disk quota exceeded: '/tmp/spill/part-0001.parquet'",
            "resource_limit_oom_timeout",
        ),
        # no cloud credentials at all
        ("botocore.exceptions.NoCredentialsError: Unable to locate credentials", "auth_credentials"),
        # Airflow connection ids and Spark paths that are not there
        (
            "airflow.exceptions.AirflowNotFoundException: The conn_id `warehouse_pg` isn't defined",
            "config_error",
        ),
        (
            "pyspark.sql.utils.AnalysisException: Path does not exist: s3a://lake/raw/orders/2024-05-01",
            "config_error",
        ),
        # a host setting that is not a host name
        (
            'psycopg2.OperationalError: could not translate host name "data_warehouse" to address: '
            "Name or service not known",
            "config_error",
        ),
        (
            "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='https', port=443): Max retries "
            'exceeded with url: //acme.okta.com/api/v1/users (Caused by NameResolutionError("Failed to '
            "resolve 'https' ([Errno -2] Name or service not known)\"))",
            "config_error",
        ),
        # Snowflake answers an unknown account with a 403 and says what to verify
        (
            "snowflake.connector.errors.ForbiddenError: 250001 (08001): Failed to connect to DB: "
            "xy12345.snowflakecomputing.com:443. HTTP 403: Forbidden. Verify the account name is correct.",
            "config_error",
        ),
        # Kubernetes took the pod away under node pressure
        ("Message:          Pod The node had condition: [DiskPressure].", "resource_limit_oom_timeout"),
        ("Reason:           Evicted", "resource_limit_oom_timeout"),
        # S3's SlowDown in words, as s3fs raises it
        ("OSError: [Errno 16] Please reduce your request rate.", "rate_limit"),
        # Great Expectations' validation summary
        ("ERROR: 9 of 27 (33.3%) Expectations Failed", "data_quality_test"),
        # SQL Server's syntax error
        (
            "pyodbc.ProgrammingError: ('42000', \"[42000] Incorrect syntax near the keyword 'AS'. (156)\")",
            "sql_error",
        ),
        # TLS spoken to a plain-text port
        (
            "urllib3.exceptions.SSLError: [SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1129)",
            "config_error",
        ),
        # a remote 500, and Spark refusing to overwrite its output
        ("error: RPC failed; HTTP 500 curl 22 The requested URL returned error: 500", "network"),
        (
            "pyspark.sql.utils.AnalysisException: path file:/results/daily already exists.",
            "destination_write",
        ),
        # Snowflake's connector gives up before its first try when the account does not exist
        ("250001: Could not connect to Snowflake backend after 0 attempt(s).Aborting", "config_error"),
        # the credentials file is not where the SDK was told to look: a path setting
        (
            "google.auth.exceptions.DefaultCredentialsError: File /.google/credentials/key.json "
            "was not found.",
            "config_error",
        ),
        # Azure's SDK refused the key
        (
            "azure.core.exceptions.ClientAuthenticationError: Operation returned an invalid status "
            "'Server failed to authenticate the request.'",
            "auth_credentials",
        ),
        # Kafka clients that reach no broker
        ("kafka.errors.NoBrokersAvailable: NoBrokersAvailable", "source_connection"),
        # inside a container, localhost is the container itself
        (
            'psycopg2.OperationalError: connection to server at "localhost" (127.0.0.1), port 5432 failed: '
            "Connection refused",
            "config_error",
        ),
        # a Redshift query monitoring rule aborted the query
        (
            'Query (3528505) cancelled by WLM abort action of Query Monitoring Rule "Max_Query_Mem_On_Disk".',
            "resource_limit_oom_timeout",
        ),
        # Windows' connection reset
        (
            "Unable to read data from the transport connection: An existing connection was forcibly closed "
            "by the remote host.",
            "network",
        ),
        # Spark lost an executor; a Kafka producer never saw its topic
        (
            "15/10/26 16:13:40 ERROR cluster.YarnClusterScheduler: Lost executor 4 on "
            "ip-10-0-0-1.ec2.internal: remote Rpc client disassociated",
            "resource_limit_oom_timeout",
        ),
        (
            "Caused by: org.apache.kafka.common.errors.TimeoutException: Topic events not present in "
            "metadata after 60000 ms.",
            "config_error",
        ),
        # the installed module lacks what the caller expects
        ("AttributeError: module 'numpy' has no attribute 'bool'", "dependency_version"),
        # Snowflake 000606: no warehouse for the session, most often a role without USAGE on it
        (
            "snowflake.connector.errors.ProgrammingError: 000606 (57P03): "
            "01a503b0-0401-997d-0001-0003016c457e: No active warehouse selected in the current session.  "
            "Select an active warehouse with the "
            "'use warehouse' command.",
            "auth_credentials",
        ),
        # Spark has no connector for the format: spark-submit was launched without its package
        (
            "java.lang.ClassNotFoundException: Failed to find data source: kinesis. Please find packages at "
            "http://spark.apache.org/third-party-projects.html",
            "config_error",
        ),
        # DuckDB 0.7 renamed the default catalog; an adapter or SQL that still says "main"
        ('duckdb.BinderException: Binder Error: Catalog "main" does not exist!', "dependency_version"),
        # DuckDB asked to read a database file as data
        (
            "duckdb.BinderException: Binder Error: No extension found that is capable of reading the file "
            '"../tmp/bronze.duckdb"',
            "config_error",
        ),
        # Airflow refuses an operator argument it does not take: the DAG's code
        (
            "airflow.exceptions.AirflowException: Invalid arguments were passed to PythonOperator "
            "(task_id: extract_data). Invalid arguments were:",
            "code_bug",
        ),
        # dlt's schema contract froze the columns the data now brings
        (
            "dlt.common.schema.exceptions.DataValidationError: Contract on columns with contract_mode=freeze "
            "is violated. Can't add table column created_on to table orders because columns are frozen.",
            "schema_mismatch",
        ),
    ],
)
def test_the_signal_in_an_error_line_decides_its_category(line: str, category: str) -> None:
    lines = ["Traceback (most recent call last):", '  File "/app/flows/load.py", line 12, in load', line]
    brief = write_brief(condense(lines), FailedUnitInfo())
    assert brief.category == category


def test_a_real_domain_that_does_not_resolve_stays_a_network_question() -> None:
    lines = [
        'psycopg2.OperationalError: could not translate host name "db.prod.example.com" to address: '
        "Name or service not known"
    ]
    brief = write_brief(condense(lines), FailedUnitInfo())
    assert (brief.category, brief.confidence) == ("network", "medium")


def test_a_weaker_signal_is_named_in_the_explanation_with_its_doubt() -> None:
    lines = ["error: RPC failed; HTTP 500 curl 22 The requested URL returned error: 500"]
    brief = write_brief(condense(lines), FailedUnitInfo())
    assert brief.confidence == "medium"
    assert "The HTTP status in it usually means" in (brief.explanation or "")
    assert "no specific error code" not in (brief.explanation or "")


def test_a_failed_soda_check_decides_over_the_exception_the_task_raises_after_the_scan() -> None:
    lines = [
        "[2024-07-02T15:25:25.018+0000] {process_utils.py:190} INFO - INFO   | 1/14 checks FAILED:",
        "[2024-07-02T15:25:25.018+0000] {process_utils.py:190} INFO - INFO   |     dim_customer in warehouse",
        "[2024-07-02T15:25:25.019+0000] {process_utils.py:190} INFO - INFO   |       "
        "All customers are unique "
        "[checks/dim_customer.yml] [FAILED]",
        "[2024-07-02T15:25:25.019+0000] {process_utils.py:190} INFO - INFO   | Oops! 1 failures. 0 warnings. "
        "0 errors. 13 pass.",
        "[2024-07-02T15:25:25.019+0000] {process_utils.py:190} INFO - Traceback (most recent call last):",
        '[2024-07-02T15:25:25.020+0000] {process_utils.py:190} INFO -   File "/opt/soda/run.py", line 24, '
        "in run_soda_scan",
        "[2024-07-02T15:25:25.020+0000] {process_utils.py:190} INFO -     "
        "raise ValueError('Soda Scan failed')",
        "[2024-07-02T15:25:25.020+0000] {process_utils.py:190} INFO - ValueError: Soda Scan failed",
    ]
    brief = write_brief(condense(lines), FailedUnitInfo())
    assert brief.category == "data_quality_test"
