"""The same cause in other systems' words: a code or message another database, engine, SDK or
supervisor prints for a cause the table already knows reads as that cause, and a look-alike that
means something else does not."""

from __future__ import annotations

import pytest

from failbrief.condense.brief import FailedUnitInfo
from failbrief.condense.condenser import condense
from failbrief.condense.offline import offline_decision, write_brief


def _brief_of(line: str) -> tuple[str, str]:
    lines = ["Traceback (most recent call last):", '  File "/app/flows/load.py", line 12, in load', line]
    brief = write_brief(condense(lines), FailedUnitInfo())
    return brief.category or "unknown", brief.confidence or "low"


@pytest.mark.parametrize(
    ("line", "category"),
    [
        # exit 137 however the supervisor words it
        ("Flow run infrastructure exited with non-zero status code 137.", "resource_limit_oom_timeout"),
        (
            "ExecutorLostFailure (executor 3 exited caused by one of the running tasks) Exit status: 137",
            "resource_limit_oom_timeout",
        ),
        (
            "subprocess.CalledProcessError: Command '['dbt', 'run']' returned non-zero exit status 137.",
            "resource_limit_oom_timeout",
        ),
        (
            "Total size of serialized results of 12 tasks (1030.2 MiB) is bigger than "
            "spark.driver.maxResultSize (1024.0 MiB)",
            "resource_limit_oom_timeout",
        ),
        ("OSError: [Errno 24] Too many open files: '/tmp/part-0001.csv'", "resource_limit_oom_timeout"),
        ("psycopg2.OperationalError: FATAL:  sorry, too many clients already", "resource_limit_oom_timeout"),
        (
            "Warning  FailedScheduling  0/3 nodes are available: 3 Insufficient memory.",
            "resource_limit_oom_timeout",
        ),
        # an SDK's own rate-limit exception
        ("openai.RateLimitError: Error code: 429", "rate_limit"),
        # credentials: expired tokens, Oracle, other SQLSTATEs of class 28, missing grants in other words
        (
            "snowflake.connector.errors.ProgrammingError: 390114 (08001): Authentication token has "
            "expired.  The user must authenticate again.",
            "auth_credentials",
        ),
        ("cx_Oracle.DatabaseError: ORA-01017: invalid username/password; logon denied", "auth_credentials"),
        ("PermissionError: [Errno 13] Permission denied: '/opt/airflow/logs/scheduler'", "auth_credentials"),
        (
            "pymysql.err.OperationalError: (1142, \"SELECT command denied to user 'etl'@'10.0.0.4' "
            "for table 'orders'\")",
            "auth_credentials",
        ),
        (
            "google.api_core.exceptions.Forbidden: 403 GET "
            "https://bigquery.googleapis.com/bigquery/v2/projects/p/datasets: Request had "
            "insufficient authentication scopes.",
            "auth_credentials",
        ),
        # settings that are malformed or name nothing
        (
            'Credentials in profile "warehouse", target "prod" invalid: \'schema\' is a required property',
            "config_error",
        ),
        (
            "The profile 'warehouse' does not have a target named 'prod'. The valid target names for "
            "this profile are:",
            "config_error",
        ),
        (
            "prefect.exceptions.MissingFlowError: Flow function with name 'etl' not found in 'flows/etl.py'.",
            "config_error",
        ),
        ("botocore.exceptions.NoRegionError: You must specify a region.", "config_error"),
        (
            "sqlalchemy.exc.ArgumentError: Could not parse SQLAlchemy URL from string 'postgres//user@db'",
            "config_error",
        ),
        ("Config validation error: 'start_date' is a required property", "config_error"),
        ("No dbt_project.yml found at expected path /usr/app/dbt_project.yml", "config_error"),
        ('Failed to pull image "registry.example.com/etl:v2": rpc error: manifest unknown', "config_error"),
        (
            "psycopg2.errors.ReadOnlySqlTransaction: cannot execute INSERT in a read-only transaction",
            "config_error",
        ),
        # objects that are not there, in other databases' words
        ("cx_Oracle.DatabaseError: ORA-00942: table or view does not exist", "config_error"),
        (
            "pyodbc.ProgrammingError: ('42S02', \"[42S02] Invalid object name 'dbo.orders'. (208)\")",
            "config_error",
        ),
        ("pymysql.err.ProgrammingError: (1146, \"Table 'shop.orders' doesn't exist\")", "config_error"),
        ("sqlite3.OperationalError: no such table: orders", "config_error"),
        ("duckdb.CatalogException: Catalog Error: Table with name orders does not exist!", "config_error"),
        (
            "pyspark.errors.exceptions.captured.AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The "
            "table or view `sales`.`orders` cannot be found.",
            "config_error",
        ),
        # columns and types, in other engines' words
        (
            "pyspark.errors.exceptions.captured.AnalysisException: "
            "[UNRESOLVED_COLUMN.WITH_SUGGESTION] A column or function parameter with name `amount` "
            "cannot be resolved.",
            "schema_mismatch",
        ),
        (
            "pyodbc.ProgrammingError: ('42S22', \"[42S22] Invalid column name 'amount'. (207)\")",
            "schema_mismatch",
        ),
        (
            "google.api_core.exceptions.BadRequest: 400 Provided Schema does not match Table p:d.t. "
            "Field amount has changed type from STRING to INTEGER",
            "schema_mismatch",
        ),
        ("pymysql.err.DataError: (1406, \"Data too long for column 'name' at row 1\")", "schema_mismatch"),
        (
            "duckdb.ConversionException: Conversion Error: Could not convert string 'n/a' to INT32",
            "schema_mismatch",
        ),
        # SQL the database rejected, in other dialects
        ("google.api_core.exceptions.BadRequest: 400 Function not found: date_trunk at [3:5]", "sql_error"),
        ("cx_Oracle.DatabaseError: ORA-00933: SQL command not properly ended", "sql_error"),
        (
            'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "orders_pkey"',
            "sql_error",
        ),
        ('psycopg2.errors.DuplicateTable: relation "orders__backup" already exists', "sql_error"),
        # connections cut or never opened, and proxies between
        ("psycopg2.OperationalError: SSL connection has been closed unexpectedly", "network"),
        ("pymysql.err.OperationalError: (2006, 'MySQL server has gone away')", "network"),
        (
            "google.api_core.exceptions.ServiceUnavailable: 503 GET "
            "https://bigquery.googleapis.com/: Visibility check was unavailable.",
            "network",
        ),
        (
            "requests.exceptions.ProxyError: HTTPSConnectionPool(host='api.example.com', port=443): "
            "Max retries exceeded with url: /v1 (Caused by ProxyError('Unable to connect to proxy'))",
            "network",
        ),
        ("org.postgresql.util.PSQLException: The connection attempt failed.", "source_connection"),
        ("cx_Oracle.DatabaseError: ORA-12541: TNS:no listener", "source_connection"),
        # the tool or a native library does not fit the environment
        ("/bin/sh: 1: dbt: not found", "dependency_version"),
        ("Command exited with return code 127", "dependency_version"),
        (
            "ImportError: /usr/lib/libpq.so.5: undefined symbol: PQsetSSLKeyPassHook_OpenSSL",
            "dependency_version",
        ),
        (
            "sqlalchemy.exc.NoSuchModuleError: Can't load plugin: sqlalchemy.dialects:snowflake",
            "dependency_version",
        ),
    ],
)
def test_another_systems_words_for_a_known_cause_decide_its_category(line: str, category: str) -> None:
    assert _brief_of(line)[0] == category


@pytest.mark.parametrize(
    "line",
    [
        # a count or an address that only looks like an exit code
        "RuntimeError: query returned 137 rows, expected 140",
        "RuntimeError: the API answered status 127.0.0.1 unreachable",
        # a bare "not found" from an API is not a missing tool
        "RuntimeError: Error: not found",
    ],
)
def test_a_number_or_phrase_that_only_looks_like_a_code_does_not_decide(line: str) -> None:
    assert _brief_of(line)[0] not in {"resource_limit_oom_timeout", "dependency_version"}


def test_a_new_reading_without_dev_support_never_says_high() -> None:
    # Oracle's missing table is as clear as PostgreSQL's, but the dev corpus has not measured it.
    assert _brief_of("cx_Oracle.DatabaseError: ORA-00942: table or view does not exist")[1] == "medium"


def test_a_pydantic_model_error_is_left_open() -> None:
    # Raised for bad settings, bad data and code that builds the model wrongly alike.
    line = "pydantic_core._pydantic_core.ValidationError: 1 validation error for TaskRunFilter"
    assert _brief_of(line)[0] != "config_error"


def test_a_key_a_loader_repeats_is_the_destination_refusing_the_write() -> None:
    lines = [
        "INFO inserting 5000 rows: INSERT INTO public.orders (id, total) VALUES (%s, %s)",
        "Traceback (most recent call last):",
        '  File "/app/load.py", line 40, in load',
        "    cursor.executemany(sql, rows)",
        'psycopg2.errors.UniqueViolation: duplicate key value violates unique constraint "orders_pkey"',
    ]
    assert write_brief(condense(lines), FailedUnitInfo()).category == "destination_write"


def test_a_bare_operational_error_names_no_cause() -> None:
    # DB-API drivers raise OperationalError for refused connections, lost sessions and bad
    # queries alike: the class alone does not say the source could not be reached.
    line = "pyhive.exc.OperationalError: TExecuteStatementResp(status=TStatus(statusCode=3))"
    assert _brief_of(line)[0] != "source_connection"


def test_a_login_role_the_server_does_not_know_is_a_credential_problem() -> None:
    line = 'psycopg2.OperationalError: FATAL:  role "etl_user" does not exist'
    assert _brief_of(line) == ("auth_credentials", "medium")


@pytest.mark.parametrize(
    ("line", "category"),
    [
        ("airbyte_cdk.utils.AirbyteTracedException: Failed to refresh access token: 400", "auth_credentials"),
        ("requests.exceptions.HTTPError: Invalid API key provided for this account", "auth_credentials"),
        (
            "google.api_core.exceptions.Forbidden: 403 BigQuery API has not been used in project 1234 "
            "before or it is disabled.",
            "config_error",
        ),
        ("Timestamp '2024-13-01' is not recognized", "schema_mismatch"),
        (
            "org.apache.spark.shuffle.FetchFailedException: Failed to connect to host",
            "resource_limit_oom_timeout",
        ),
        ("prefect.exceptions.ObjectNotFound: None", "config_error"),
    ],
)
def test_more_systems_words_for_known_causes(line: str, category: str) -> None:
    assert _brief_of(line)[0] == category


@pytest.mark.parametrize(
    ("line", "category"),
    [
        # the managed-identity endpoint answered with a page, not a token: the SDK version or the
        # chain on a host without a managed identity, no credential was refused
        (
            "azure.core.exceptions.ClientAuthenticationError: ManagedIdentityCredential: "
            'Unexpected content type "text/html"',
            "dependency_version",
        ),
        # the Azure CLI exists but cannot be run: a broken install
        (
            "azure.identity._exceptions.CredentialUnavailableError: Failed to invoke the Azure CLI",
            "dependency_version",
        ),
        # Redshift system tables no grant opens on Serverless: the tool's query must change
        (
            "redshift_connector.error.ProgrammingError: {'S': 'ERROR', 'C': '42501', 'M': "
            "'permission denied for relation stl_load_errors'}",
            "code_bug",
        ),
        # the JVM was told to run a class its classpath does not hold
        ("Error: Could not find or load main class com.example.jobs.DailyLoad", "config_error"),
        # a BigQuery load whose schema differs from the table it appends to
        (
            "google.api_core.exceptions.BadRequest: 400 Provided Schema does not match Table "
            "proj:sales.orders. Field amount has changed type from FLOAT to STRING",
            "schema_mismatch",
        ),
    ],
)
def test_new_families_from_the_sixth_collection(line: str, category: str) -> None:
    assert _brief_of(line) == (category, "medium")


@pytest.mark.parametrize(
    ("line", "not_category"),
    [
        # no managed identity on the host is not a library problem
        (
            "azure.identity.CredentialUnavailableError: ManagedIdentityCredential authentication "
            "unavailable. No identity has been assigned to this resource.",
            "dependency_version",
        ),
        # the CLI runs but nobody logged in
        (
            "azure.identity._exceptions.CredentialUnavailableError: "
            "Please run 'az login' to set up an account",
            "dependency_version",
        ),
        # a user table the role may not read is a missing grant
        ("psycopg2.errors.InsufficientPrivilege: permission denied for relation stage_orders", "code_bug"),
        # a missing library class is a missing package, not a launch setting (a JDBC driver's class is
        # the jar the launch ships: jdbc-driver-class-not-found)
        (
            "java.lang.NoClassDefFoundError: org/apache/commons/pool2/impl/GenericObjectPoolConfig",
            "config_error",
        ),
        # a field whose owner changed is not a column whose type changed
        ("ValueError: Field 'created_at' has changed owner from alice to bob", "schema_mismatch"),
    ],
)
def test_look_alikes_of_the_sixth_collections_families_do_not_decide_them(
    line: str, not_category: str
) -> None:
    assert _brief_of(line)[0] != not_category


def test_a_null_pointer_where_hadoop_starts_a_helper_is_the_installation() -> None:
    lines = [
        "Error: org.apache.spark.SparkException: Job aborted due to stage failure: Task 0 in stage 0.0 "
        "failed 1 times, most recent failure: Lost task 0.0 in stage 0.0 (TID 0, localhost): "
        "java.lang.NullPointerException",
        "\tat java.lang.ProcessBuilder.start(ProcessBuilder.java:1012)",
        "\tat org.apache.hadoop.util.Shell.runCommand(Shell.java:482)",
        "\tat org.apache.hadoop.util.Shell.run(Shell.java:455)",
    ]
    assert write_brief(condense(lines), FailedUnitInfo()).category == "dependency_version"
    # the same exception in the job's own code stays a programming error
    own = ["java.lang.NullPointerException", "\tat com.example.jobs.DailyLoad.run(DailyLoad.java:42)"]
    assert write_brief(condense(own), FailedUnitInfo()).category == "code_bug"


def test_a_macro_dispatch_finds_nowhere_is_the_package_releases() -> None:
    lines = [
        "15:28:01  Running with dbt=1.0.4",
        "Compilation Error",
        "  In dispatch: No macro named 'get_columns_in_relation_sql' found",
        "      Searched for: 'bigquery__get_columns_in_relation_sql', 'default__get_columns_in_relation_sql'",
    ]
    brief = write_brief(condense(lines), FailedUnitInfo())
    assert (brief.category, brief.confidence) == ("dependency_version", "medium")
    # a Jinja name dbt cannot resolve is still the project's own compilation error
    other = ["Compilation Error in model orders (models/orders.sql)", "  'dbt_utils' is undefined"]
    assert write_brief(condense(other), FailedUnitInfo()).category == "config_error"


_SITE = "/usr/local/lib/python3.11/site-packages"


def _brief_of_lines(lines: list[str]) -> tuple[str, str]:
    brief = write_brief(condense(lines), FailedUnitInfo())
    return brief.category or "unknown", brief.confidence or "low"


@pytest.mark.parametrize(
    "message",
    [
        "TypeError: Infrastructure.prepare_for_flow_run() got an unexpected keyword argument 'flow'",
        "TypeError: __init__() missing 1 required positional argument: 'stream_descriptor'",
        "TypeError: read_records() takes 2 positional arguments but 3 were given",
        "TypeError: unhashable type: '_duckdb.typing.DuckDBPyType'",
        "NameError: name 'StreamDescriptor' is not defined",
    ],
)
def test_a_call_between_installed_packages_they_disagree_on_is_their_versions(message: str) -> None:
    # every frame inside the installed packages: one release calls another that lacks the name
    lines = [
        "Traceback (most recent call last):",
        f'  File "{_SITE}/prefect/workers/base.py", line 896, in _submit_run',
        "    configuration = await self._get_configuration(flow_run)",
        f'  File "{_SITE}/prefect_aws/workers/ecs_worker.py", line 412, in prepare_for_flow_run',
        "    super().prepare_for_flow_run(flow_run, deployment, flow)",
        message,
    ]
    assert _brief_of_lines(lines) == ("dependency_version", "medium")
    # the same error with a frame of the project's own code is that code's call
    own = [*lines[:1], '  File "/app/flows/load.py", line 12, in load', "    run(rows, batch=10)", *lines[1:]]
    assert _brief_of_lines(own)[0] == "code_bug"


def test_a_message_pasted_before_its_stack_still_reads_the_stack() -> None:
    # IPython and issue pastes print the message first and the frames after it
    lines = [
        "NameError: name 'AirbyteStateBlob' is not defined",
        "",
        "Stacktrace:",
        f"File {_SITE}/airbyte_cdk/models/airbyte_protocol.py:61, in AirbyteStreamState()",
        "     60 class AirbyteStreamState:",
        "---> 61     stream_state: Optional[AirbyteStateBlob] = None",
    ]
    assert _brief_of_lines(lines)[0] == "dependency_version"
    # a name the project's own script forgot to import stays its own bug
    own = ["NameError: name 'os' is not defined", "", '  File "/opt/airflow/dags/fetch.py", line 9, in fetch']
    assert _brief_of_lines(own)[0] == "code_bug"


def test_pandas_refusing_an_old_sqlalchemy_is_the_version_pair() -> None:
    line = "E           TypeError: Query must be a string unless using sqlalchemy."
    assert _brief_of(line) == ("dependency_version", "medium")
    # the project's own check of a query's type is its own code
    assert _brief_of("TypeError: query must be a str, not int")[0] == "code_bug"


@pytest.mark.parametrize(
    "lines",
    [
        [
            "Traceback (most recent call last):",
            f'  File "{_SITE}/pandas/core/indexes/base.py", line 3802, in get_loc',
            "    return self._engine.get_loc(casted_key)",
            '  File "pandas/_libs/index.pyx", line 165, in pandas._libs.index.IndexEngine.get_loc',
            "KeyError: 'customer_id'",
        ],
        [
            "Traceback (most recent call last):",
            '  File "/app/etl/transform.py", line 40, in transform',
            '    df = df[["order_id", "amount_eur"]]',
            f'  File "{_SITE}/pandas/core/frame.py", line 4108, in __getitem__',
            "KeyError: \"None of [Index(['amount_eur'], dtype='object')] are in the [columns]\"",
        ],
        [
            '  File "/app/etl/load.py", line 148, in process_orgs',
            "    groups = groups.set_index(['category_name'])",
            "KeyError: 'category_name'",
        ],
    ],
)
def test_a_column_pandas_cannot_find_is_the_datas_shape(lines: list[str]) -> None:
    assert _brief_of_lines(lines) == ("schema_mismatch", "medium")


def test_a_key_missing_from_a_plain_dict_stays_a_programming_error() -> None:
    lines = [
        "Traceback (most recent call last):",
        '  File "/app/etl/transform.py", line 22, in to_row',
        "    return {'id': record['id'], 'name': record['name']}",
        "KeyError: 'name'",
    ]
    assert _brief_of_lines(lines)[0] == "code_bug"


def test_a_405_is_the_clients_base_url() -> None:
    line = "│ Error: unexpected response from API. Got an unexpected response code 405"
    assert _brief_of(line) == ("config_error", "medium")
    assert _brief_of("requests.exceptions.HTTPError: 405 Client Error: Method Not Allowed for url")[0] == (
        "config_error"
    )
    # a count of 405 is not a status
    assert _brief_of("ValueError: expected 400 rows, got 405 rows")[0] != "config_error"


@pytest.mark.parametrize(
    "line",
    [
        'Error response from daemon: failed to resolve reference "docker.io/acme/etl:2.4.1": '
        "docker.io/acme/etl:2.4.1: not found",
        "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
        "docker.io/acme/etl:2.4.1: docker.io/acme/etl:2.4.1: not found",
    ],
)
def test_an_image_reference_the_registry_cannot_resolve_is_the_image_not_dns(line: str) -> None:
    decision = offline_decision(condense([line]), FailedUnitInfo())
    assert (decision.category, decision.rule) == ("config_error", "image-pull-failed")
    # a host name that is not a domain still reads as the host setting
    dns = (
        'psycopg2.OperationalError: could not translate host name "warehouse" to address: '
        "Name or service not known"
    )
    assert offline_decision(condense([dns]), FailedUnitInfo()).rule == "dns-host-not-a-domain"


@pytest.mark.parametrize(
    "line",
    [
        # another process holds an embedded database file read-write
        'duckdb.duckdb.IOException: IO Error: Could not set lock on file "/data/warehouse.duckdb": '
        "Conflicting lock is held in /usr/bin/python3.11 (PID 412). See also "
        "https://duckdb.org/docs/connect/concurrency",
        # DriverManager has no driver registered for the URL on this JVM's classpath
        "java.sql.SQLException: No suitable driver found for jdbc:postgresql://db:5432/analytics",
        # prepared statements behind a transaction-mode pooler, in asyncpg's and psycopg's words
        "asyncpg.exceptions.InvalidCachedStatementError: cached statement plan is invalid due to a "
        "database schema or configuration change",
        'asyncpg.exceptions.DuplicatePreparedStatementError: prepared statement "__asyncpg_stmt_1f__" '
        "already exists",
        'psycopg.errors.DuplicatePreparedStatement: prepared statement "_pg3_0" already exists',
        'asyncpg.exceptions.InvalidSQLStatementNameError: prepared statement "__asyncpg_stmt_37__" '
        "does not exist",
        # the PostgreSQL JDBC driver's server-side statements behind the same pooler
        'org.postgresql.util.PSQLException: ERROR: prepared statement "S_3" already exists',
    ],
)
def test_how_a_client_is_set_up_to_reach_its_database_is_configuration(line: str) -> None:
    assert _brief_of(line) == ("config_error", "medium")


@pytest.mark.parametrize(
    ("line", "not_category"),
    [
        # a lock the database itself waits on is contention, not a client setting
        ('psycopg2.errors.LockNotAvailable: could not obtain lock on relation "orders"', "config_error"),
        # a library class absent from the classpath is a missing package
        (
            "java.lang.ClassNotFoundException: org.apache.commons.pool2.impl.GenericObjectPoolConfig",
            "config_error",
        ),
        # a statement the job's own SQL names and never prepared is its own error, not a pooler
        (
            'psycopg2.errors.InvalidSqlStatementName: prepared statement "fetch_orders" does not exist',
            "config_error",
        ),
    ],
)
def test_look_alikes_of_client_setup_do_not_decide_it(line: str, not_category: str) -> None:
    assert _brief_of(line)[0] != not_category


def test_a_macro_file_an_adapter_package_lacks_is_the_adapter_release() -> None:
    for line in [
        "Encountered an error:\n'dbt_sqlserver://macros/adapters.sql'",
        "KeyError: 'dbt_snowflake://macros/adapters.sql'",
        "Encountered an error: 'dbt_postgres://macros/materializations/snapshot_merge.sql'",
    ]:
        lines = ["12:01:07  Running with dbt=1.0.3", *line.split("\n")]
        brief = write_brief(condense(lines), FailedUnitInfo())
        assert (brief.category, brief.confidence) == ("dependency_version", "medium"), line
    # the project's own macro file, named by its path, is not an adapter release
    own = ["Compilation Error in macro statement (macros/etc/statement.sql)", "  'ref' is undefined"]
    assert write_brief(condense(own), FailedUnitInfo()).category != "dependency_version"
    # a URL that happens to contain macros/ is not dbt's internal path either
    url = ["requests.exceptions.HTTPError: 404 for url: https://hub.example.com/macros/adapters.sql"]
    assert write_brief(condense(url), FailedUnitInfo()).category != "dependency_version"


@pytest.mark.parametrize(
    ("line", "category"),
    [
        # an integer that outgrows its column, in PostgreSQL's and Redshift's words
        ("ERROR:  integer out of range", "schema_mismatch"),
        ("psycopg2.errors.NumericValueOutOfRange: bigint out of range", "schema_mismatch"),
        ("Overflow (Integer valid range -2147483648 to 2147483647)", "schema_mismatch"),
        (
            "redshift_connector.error.ProgrammingError: {'S': 'ERROR', 'M': 'Overflow (Long valid range "
            "-9223372036854775808 to 9223372036854775807)'}",
            "schema_mismatch",
        ),
        # PyAirbyte knows the connector but cannot install it from PyPI: the client release and the
        # connector's packaging (manifest-only, Java) do not go together
        (
            "airbyte.exceptions.AirbyteConnectorNotPyPiPublishedError: "
            "AirbyteConnectorNotPyPiPublishedError: Connector found, but not published to PyPI.",
            "dependency_version",
        ),
        (
            "airbyte_lib.exceptions.AirbyteConnectorNotPyPiPublishedError: Connector found, but not "
            "published to PyPI. (AirbyteConnectorNotPyPiPublishedError)",
            "dependency_version",
        ),
    ],
)
def test_an_integer_overflow_and_a_connector_not_on_pypi_read_as_their_causes(
    line: str, category: str
) -> None:
    assert _brief_of(line) == (category, "medium")


@pytest.mark.parametrize(
    ("line", "not_category"),
    [
        # an index past the end of a list is the code's own error
        ("IndexError: list index out of range", "schema_mismatch"),
        # Python's own arithmetic overflow and date range are not a column that is too narrow
        ("OverflowError: int too large to convert to float", "schema_mismatch"),
        ("ValueError: year 0 is out of range", "schema_mismatch"),
        # a connector name the registry does not know is a typo in the setting, not a version
        (
            "airbyte.exceptions.AirbyteConnectorNotRegisteredError: Connector name not found in registry. "
            "(AirbyteConnectorNotRegisteredError)",
            "dependency_version",
        ),
        # a package an upload could not publish is not a connector the client cannot install
        (
            "HTTPError: 403 Forbidden from https://upload.pypi.org/legacy/ The user 'ci' isn't allowed to "
            "upload to project 'airbyte-source-foo'.",
            "dependency_version",
        ),
    ],
)
def test_look_alikes_of_an_overflow_or_a_connector_not_on_pypi_do_not_read_so(
    line: str, not_category: str
) -> None:
    assert _brief_of(line)[0] != not_category


@pytest.mark.parametrize(
    ("line", "category"),
    [
        # a change-data-capture reader whose resume position the server no longer keeps: MySQL binlog
        # files purged (Debezium's and Airbyte's words), SQL Server's CDC cleanup, PostgreSQL's WAL
        # removed past the slot, a MongoDB oplog that rolled over
        (
            "Caused by: org.apache.kafka.connect.errors.ConnectException: The connector is trying to read "
            "binlog starting at binlog file 'mysql-bin.000123', pos=4, skipping 0 events plus 0 rows, but "
            "this is no longer available on the server. Reconfigure the connector to use a snapshot when "
            "needed.",
            "config_error",
        ),
        (
            "INFO i.d.c.m.MySqlConnectorTask(isBinlogAvailable):328 - Connector requires binlog file "
            "'mysql-bin.000812', but MySQL only has mysql-bin.000901, mysql-bin.000902",
            "config_error",
        ),
        (
            "io.airbyte.commons.exceptions.ConfigErrorException: Saved offset no longer present on the "
            "server. Please reset the connection, and then increase binlog retention and/or increase sync "
            "frequency.",
            "config_error",
        ),
        (
            "org.postgresql.util.PSQLException: ERROR: requested WAL segment 0000000100000A1B000000C4 has "
            "already been removed",
            "config_error",
        ),
        (
            "com.mongodb.MongoCommandException: Command failed with error 286 (ChangeStreamHistoryLost): "
            "'Resume of change stream was not possible, as the resume point may no longer be in the oplog.'",
            "config_error",
        ),
        # the Facebook Graph API invalidated the access token (OAuthException code 190)
        (
            '"message": "Error validating access token: Session has expired on Tuesday, 14-May-24 '
            '09:00:00 PDT. The current time is Tuesday, 14-May-24 10:12:40 PDT.",',
            "auth_credentials",
        ),
        (
            "facebook_business.exceptions.FacebookRequestError: Message: Call was not successful "
            '"message": "Invalid OAuth access token - Cannot parse access token", "type": "OAuthException"',
            "auth_credentials",
        ),
        # an object Salesforce's Bulk API does not serve: the tool must read it another way
        (
            'Giving up for returned HTTP status: 400, body: [{"errorCode":"INVALIDENTITY","message":'
            "\"Entity 'AccountHistory' is not supported by the Bulk API.\"}]",
            "code_bug",
        ),
    ],
)
def test_a_purged_cdc_position_an_invalidated_graph_token_and_a_bulk_api_object_read_as_their_causes(
    line: str, category: str
) -> None:
    assert _brief_of(line) == (category, "medium")


def test_a_graph_api_error_body_with_code_190_reads_as_its_token() -> None:
    # the body as the Graph API SDK prints it, with no token message: only its code 190 says so
    body = """2024-01-19 10:00:01 source > Giving up call(...) after 1 tries (FacebookRequestError:
  Message: Call was not successful
  Status:  400
  Response:
    {"error": {"message": "The session has been invalidated because the user changed their password.",
      "type": "OAuthException", "code": 190, "error_subcode": 460}}"""
    decision = offline_decision(condense(body.splitlines()), FailedUnitInfo())
    assert (decision.rule, decision.category, decision.confidence) == (
        "graph-api-token-invalid",
        "auth_credentials",
        "medium",
    )


@pytest.mark.parametrize(
    ("line", "not_category"),
    [
        # a binlog event the reader could not decode, and a CDC read that stops at its target position,
        # are not a position the server purged
        (
            "Caused by: java.io.EOFException: Failed to read remaining 28 of 36 bytes from position 258847. "
            "Block length: 183. Initial block length: 179.",
            "config_error",
        ),
        (
            "INFO i.a.i.s.m.MySqlCdcTargetPosition(reachedTargetPosition):83 - Signalling close because "
            "record's binlog file : mysql-bin-changelog.000496 , position : 64295304 is after target file",
            "config_error",
        ),
        # the Graph API's transient error (code 2) and an object the token cannot read (code 100) are
        # not an invalidated token
        (
            '"message": "An unexpected error has occurred. Please retry your request later.", '
            '"type": "OAuthException", "is_transient": true, "code": 2',
            "auth_credentials",
        ),
        (
            '"message": "Unsupported get request. Object with ID \'521552597455072\' does not exist", '
            '"type": "GraphMethodException", "code": 100, "error_subcode": 33',
            "auth_credentials",
        ),
        # Salesforce's daily request limit and a field the org lacks are not an unsupported Bulk object
        ("Request failed: 403 REQUEST_LIMIT_EXCEEDED: TotalRequests Limit exceeded.", "code_bug"),
        (
            "INVALID_FIELD: No such column 'Region__c' on entity 'Account'. If you are attempting to use "
            "a custom field, be sure to append the '__c' after the custom field name.",
            "code_bug",
        ),
    ],
)
def test_look_alikes_of_a_purged_cdc_position_a_graph_token_or_a_bulk_api_object_do_not_read_so(
    line: str, not_category: str
) -> None:
    assert _brief_of(line)[0] != not_category


@pytest.mark.parametrize(
    ("line", "category"),
    [
        # Jinja's parser rejected a template: a syntax slip in a model, macro or package release
        ("Compilation Error\n  unexpected '}', expected ')'\n    line 2", "code_bug"),
        (
            "Compilation Error in model orders (models/orders.sql)\n  expected token 'end of print "
            "statement', got 'ref'\n    line 3",
            "code_bug",
        ),
        (
            "Compilation Error in macro my_macro (macros/m.sql)\n  Encountered unknown tag 'endfor'.",
            "code_bug",
        ),
        # a GRANT naming a grantee the database lacks (PostgreSQL / Redshift 42704)
        (
            'Database Error in model orders (models/orders.sql)\n  user "analyst" does not exist',
            "config_error",
        ),
        ('psycopg2.errors.UndefinedObject: role "reporter" does not exist', "config_error"),
        ('ERROR: group "bi_readers" does not exist', "config_error"),
    ],
)
def test_a_jinja_syntax_slip_and_a_missing_grantee_read_as_their_causes(line: str, category: str) -> None:
    assert _brief_of(line) == (category, "medium")


@pytest.mark.parametrize(
    ("line", "not_category"),
    [
        # SQL parsers' complaints about the compiled SQL are not Jinja's
        (
            "001003 (42000): SQL compilation error:\n"
            "  syntax error line 1 at position 53 unexpected '<EOF>'.",
            "code_bug",
        ),
        ('Database Error in model x (models/x.sql)\n  syntax error at or near "}"\n  LINE 3: }}', "code_bug"),
        # an undefined name in a template is a reference, not a syntax slip
        ("Compilation Error in model x (models/x.sql)\n  'dbt_utils' is undefined", "code_bug"),
        # a refused login for a role that does not exist is not a grant's grantee
        (
            'connection to server at "db" (10.0.0.5), port 5432 failed: FATAL:  role "etl" does not exist',
            "config_error",
        ),
    ],
)
def test_look_alikes_of_a_jinja_syntax_slip_or_a_missing_grantee_do_not_read_so(
    line: str, not_category: str
) -> None:
    assert _brief_of(line)[0] != not_category


@pytest.mark.parametrize(
    "line",
    [
        # the Docker client finds no daemon: a refused socket, the CLI's and docker-compose's own words
        "docker.errors.DockerException: Error while fetching server API version: ('Connection aborted.', "
        "ConnectionRefusedError(111, 'Connection refused'))",
        "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?",
        "ERROR: Couldn't connect to Docker daemon at http+docker://localhost - is it running?",
    ],
)
def test_a_docker_daemon_that_is_not_running_is_the_service_not_the_network(line: str) -> None:
    assert _brief_of(line) == ("source_connection", "medium")


@pytest.mark.parametrize(
    ("line", "not_category"),
    [
        # docker-py meeting a requests release it does not go with fails at the same call
        (
            "docker.errors.DockerException: Error while fetching server API version: "
            "HTTPConnection.request() got an unexpected keyword argument 'chunked'",
            "source_connection",
        ),
        # a transfer to some other host that was cut stays a dropped connection
        (
            "requests.exceptions.ConnectionError: ('Connection aborted.', RemoteDisconnected('Remote end "
            "closed connection without response'))",
            "source_connection",
        ),
    ],
)
def test_look_alikes_of_a_docker_daemon_that_is_not_running_do_not_read_so(
    line: str, not_category: str
) -> None:
    assert _brief_of(line)[0] != not_category


@pytest.mark.parametrize(
    ("line", "category"),
    [
        # a JDBC driver's class the job's launch did not ship (EMR Serverless, spark-submit, JayDeBeApi)
        (": java.lang.ClassNotFoundException: com.microsoft.sqlserver.jdbc.SQLServerDriver", "config_error"),
        (
            "py4j.protocol.Py4JJavaError: An error occurred while calling o61.load.\n"
            ": java.lang.ClassNotFoundException: org.postgresql.Driver",
            "config_error",
        ),
        ("java.lang.RuntimeException: java.lang.ClassNotFoundException: org.sqlite.JDBC", "config_error"),
        # the Google provider's hooks refuse positional arguments: the caller's code
        (
            "airflow.exceptions.AirflowException: You must use keyword arguments in this methods rather "
            "than positional",
            "code_bug",
        ),
        # a value JSON (or the XCom backend) cannot encode: the code that built or returned it
        (
            "[2022-04-11, 09:50:01 UTC] {xcom.py:584} ERROR - Could not serialize the XCom value into JSON. "
            "If you are using pickle instead of JSON for XCom, then you need to enable pickle support for "
            "XCom in your airflow config.",
            "code_bug",
        ),
        ("TypeError: Object of type 'datetime' is not JSON serializable", "code_bug"),
        ("TypeError: Object of type Decimal is not JSON serializable", "code_bug"),
    ],
)
def test_a_driver_jar_not_shipped_a_positional_hook_call_or_an_unencodable_value(
    line: str, category: str
) -> None:
    assert _brief_of(line) == (category, "medium")


@pytest.mark.parametrize(
    ("line", "not_category"),
    [
        # a connector class missing on the executors is a package, not a JDBC driver
        (
            "java.lang.ClassNotFoundException: "
            "com.audienceproject.spark.dynamodb.datasource.DynamoWriterFactory",
            "config_error",
        ),
        # a connector release calling a class this Spark lacks is a version mismatch
        ("java.lang.NoClassDefFoundError: org/apache/spark/sql/sources/v2/DataSourceOptions", "config_error"),
        # a Google hook that finds no project is missing a setting, not a positional call
        (
            "airflow.exceptions.AirflowException: The project id must be passed either as keyword "
            "project_id parameter or as project_id extra in Google Cloud connection definition. "
            "Both are not set!",
            "code_bug",
        ),
        # results too big to collect are a size limit, not a value JSON cannot encode
        (
            "Total size of serialized results of 12 tasks (1030.2 MiB) is bigger than "
            "spark.driver.maxResultSize (1024.0 MiB)",
            "code_bug",
        ),
    ],
)
def test_look_alikes_of_a_driver_jar_a_positional_hook_call_or_an_unencodable_value_do_not_read_so(
    line: str, not_category: str
) -> None:
    assert _brief_of(line)[0] != not_category


_PANDAS_SQL_FRAME = [
    "Traceback (most recent call last):",
    '  File "/opt/etl/extract.py", line 40, in extract',
    "    df = pd.read_sql(query, conn)",
    '  File "/usr/local/lib/python3.10/site-packages/pandas/io/sql.py", line 2673, in execute',
    "    cur = self.con.cursor()",
]


@pytest.mark.parametrize(
    ("lines", "category"),
    [
        # pandas 2.2 with SQLAlchemy 1.4: the connection is taken for a DBAPI one
        (
            [*_PANDAS_SQL_FRAME, "AttributeError: 'Connection' object has no attribute 'cursor'"],
            "dependency_version",
        ),
        # pyarrow refusing Python values a string column was not built for, bare and under dlt's wrapper
        (
            [
                "Traceback (most recent call last):",
                '  File "/app/.venv/lib/python3.11/site-packages/dlt/common/libs/pyarrow.py", line 685, in '
                "row_tuples_to_arrow",
                '  File "pyarrow/error.pxi", line 92, in pyarrow.lib.check_status',
                "pyarrow.lib.ArrowTypeError: Expected bytes, got a 'dict' object",
            ],
            "code_bug",
        ),
        (
            [
                "dlt.extract.exceptions.ResourceExtractionError: In processing pipe sqltable: extraction of "
                "resource sqltable in generator table_rows caused an exception: Expected bytes, got a 'set' "
                "object"
            ],
            "code_bug",
        ),
    ],
)
def test_pandas_unpaired_with_sqlalchemy_and_unserialised_arrow_values_read_so(
    lines: list[str], category: str
) -> None:
    assert _brief_of_lines(lines) == (category, "medium")


@pytest.mark.parametrize(
    ("lines", "not_rule"),
    [
        # a project's own code asking a SQLAlchemy connection for a cursor, no pandas in the block
        (
            [
                "Traceback (most recent call last):",
                '  File "/opt/etl/load.py", line 18, in load',
                "    cur = conn.cursor()",
                "AttributeError: 'Connection' object has no attribute 'cursor'",
            ],
            "pandas-sqlalchemy-connection-as-dbapi",
        ),
        # Python's own bytes complaints are not pyarrow's conversion
        (
            [
                "Traceback (most recent call last):",
                '  File "/opt/etl/load.py", line 18, in load',
                "TypeError: a bytes-like object is required, not 'str'",
            ],
            "arrow-python-value-not-serialised",
        ),
        (
            [
                "Traceback (most recent call last):",
                '  File "/opt/etl/load.py", line 18, in load',
                "TypeError: expected bytes, str found",
            ],
            "arrow-python-value-not-serialised",
        ),
    ],
)
def test_look_alikes_of_pandas_unpaired_or_unserialised_arrow_values_do_not_read_so(
    lines: list[str], not_rule: str
) -> None:
    decision = offline_decision(condense(lines), FailedUnitInfo())
    assert decision.rule != not_rule
    assert _brief_of_lines(lines)[0] != "dependency_version"


@pytest.mark.parametrize(
    ("lines", "category"),
    [
        # a native ClickHouse client on the HTTP port, or an HTTP client on the native port
        (
            [
                "clickhouse_driver.errors.UnexpectedPacketFromServerError: Code: 102. Unexpected packet from "
                "server localhost:8123 (expected Hello or Exception, got Unknown packet)"
            ],
            "config_error",
        ),
        (
            [
                "Code: 102. DB::NetException: Unexpected packet from server localhost:9000, ::1 (expected "
                "Hello or Exception, got Unknown packet)"
            ],
            "config_error",
        ),
        (
            [
                "clickhouse_connect.driver.exceptions.DatabaseError: HTTP driver received HTTP status 400, "
                "server response: Port 9000 is for clickhouse-client program.",
                "You must use port 8123 for HTTP.",
            ],
            "config_error",
        ),
        # one ClickHouse session used by two queries at once
        (
            [
                "clickhouse_connect.driver.exceptions.DatabaseError: HTTPDriver for http://ch-0:8123 "
                "received ClickHouse error code 373",
                " Code: 373. DB::Exception: Session 3c9e51d2-7a41-4f0e-9d8b-5b2f0e6c1a77 is locked by a "
                "concurrent client. (SESSION_IS_LOCKED) (version 23.8.2.7 (official build))",
            ],
            "code_bug",
        ),
        (
            [
                "HTTPHandler: Code: 373, e.displayText() = DB::Exception: Session is locked by a concurrent "
                "client., Stack trace (when copying this message, always include the lines below):"
            ],
            "code_bug",
        ),
        # SQL Server's client refusing the server's certificate (encryption on by default)
        (
            [
                "pyodbc.OperationalError: ('08001', '[08001] [Microsoft][ODBC Driver 18 for SQL Server]SSL "
                "Provider: [error:1416F086:SSL routines:tls_process_server_certificate:certificate verify "
                "failed:self signed certificate] (-1) (SQLDriverConnect)')"
            ],
            "config_error",
        ),
        (
            [
                "A connection was successfully established with the server, but then an error occurred "
                "during the login process. (provider: SSL Provider, error: 0 - The certificate chain was "
                "issued by an authority that is not trusted.)"
            ],
            "config_error",
        ),
        # PyMySQL without cryptography against caching_sha2_password
        (
            [
                "RuntimeError: 'cryptography' package is required for sha256_password or "
                "caching_sha2_password auth methods"
            ],
            "dependency_version",
        ),
        (
            ["RuntimeError: cryptography is required for sha256_password or caching_sha2_password"],
            "dependency_version",
        ),
        # a client's retry code written for another urllib3 major version
        (
            ["AttributeError: type object 'Retry' has no attribute 'DEFAULT_METHOD_WHITELIST'"],
            "dependency_version",
        ),
        (
            ["TypeError: Retry.__init__() got an unexpected keyword argument 'backoff_max'"],
            "dependency_version",
        ),
        # Snowflake's connector handed the PEM text or a path instead of the decrypted key
        (
            ["TypeError: Please provide a valid unencrypted rsa private key in DER format as bytes object"],
            "code_bug",
        ),
        (
            [
                "snowflake.connector.errors.ProgrammingError: 251008: Please provide a valid unencrypted rsa "
                "private key in base64-encoded DER format as a str object"
            ],
            "code_bug",
        ),
    ],
)
def test_database_client_setup_and_library_families_read_so(lines: list[str], category: str) -> None:
    assert _brief_of_lines(lines) == (category, "medium")


@pytest.mark.parametrize(
    ("lines", "not_rule", "not_category"),
    [
        # a native-protocol packet out of order mid-query: a driver and server mismatch, not a port
        (
            [
                "clickhouse_driver.errors.UnexpectedPacketFromServerError: Code: 102. Unexpected packet from "
                "server ch-1:9000 (expected Exception, EndOfStream or Log, got Data)"
            ],
            "clickhouse-protocol-port-mismatch",
            "config_error",
        ),
        # the server's side of a stray client: not the client's own error
        (
            [
                "ServerErrorHandler: Code: 101. DB::NetException: Unexpected packet from client (expected "
                "Hello, got 13). (UNEXPECTED_PACKET_FROM_CLIENT)"
            ],
            "clickhouse-protocol-port-mismatch",
            "",
        ),
        # an expired or unknown session is not a session two queries hold at once
        (
            [
                "Code: 113. DB::Exception: There is no session or session context has expired. "
                "(THERE_IS_NO_SESSION) (version 23.1.3.5 (official build))"
            ],
            "clickhouse-session-locked",
            "",
        ),
        # an HTTPS client's certificate failure stays a TLS (network) reading
        (
            [
                "requests.exceptions.SSLError: HTTPSConnectionPool(host='api.example.com', port=443): Max "
                "retries exceeded with url: /v1/rows (Caused by SSLError(SSLCertVerificationError(1, '[SSL: "
                "CERTIFICATE_VERIFY_FAILED] certificate verify failed: self signed certificate in "
                "certificate chain (_ssl.c:1129)')))"
            ],
            "sqlserver-untrusted-server-certificate",
            "config_error",
        ),
        # a refused MySQL password is a credential, not a missing package
        (
            [
                "pymysql.err.OperationalError: (1045, \"Access denied for user 'etl'@'10.0.0.4' (using "
                'password: YES)")'
            ],
            "pymysql-cryptography-missing",
            "dependency_version",
        ),
        # retries that ran out are not a urllib3 release mismatch
        (
            [
                "requests.exceptions.RetryError: HTTPSConnectionPool(host='api.example.com', port=443): "
                "Max retries exceeded with url: /v1/rows (Caused by ResponseError('too many 503 error "
                "responses'))"
            ],
            "urllib3-retry-api-mismatch",
            "dependency_version",
        ),
        (
            ["TypeError: __init__() got an unexpected keyword argument 'backoff_max'"],
            "urllib3-retry-api-mismatch",
            "",
        ),
        # a key Snowflake rejected at login is a credential, not a key in the wrong form
        (
            [
                "snowflake.connector.errors.DatabaseError: 250001 (08001): Failed to connect to DB: "
                "xy12345.snowflakecomputing.com:443. JWT token is invalid."
            ],
            "snowflake-private-key-wrong-form",
            "code_bug",
        ),
    ],
)
def test_look_alikes_of_database_client_setup_and_library_families_do_not_read_so(
    lines: list[str], not_rule: str, not_category: str
) -> None:
    decision = offline_decision(condense(lines), FailedUnitInfo())
    assert decision.rule != not_rule
    if not_category:
        assert _brief_of_lines(lines)[0] != not_category


@pytest.mark.parametrize(
    ("lines", "category"),
    [
        # Great Expectations naming a suite or validation operator the project does not have
        (
            [
                "great_expectations.exceptions.exceptions.DataContextError: "
                + "expectation_suite accounts not found"
            ],
            "config_error",
        ),
        (
            [
                "[2021-03-08 10:12:01,118] {taskinstance.py:1396} ERROR - DataContextError: No validation "
                "operator 'action_list_operator' was found in your project. Please verify this in your "
                "great_expectations.yml"
            ],
            "config_error",
        ),
        # Meltano starting a plugin that was never installed
        (
            [
                "2023-05-27T04:37:22.502622Z [error    ] Cannot start plugin tap-github: "
                "Executable 'tap-github' could not be found. Extractor 'tap-github' may not have been "
                "installed yet using `meltano "
                "install extractor tap-github`, or the executable name may be incorrect."
            ],
            "dependency_version",
        ),
    ],
)
def test_pipeline_tool_missing_project_object_or_plugin_reads_so(lines: list[str], category: str) -> None:
    assert _brief_of_lines(lines) == (category, "medium")


@pytest.mark.parametrize(
    ("lines", "not_rule"),
    [
        # a DataContextError about a store that cannot be written is not a missing name
        (
            [
                "great_expectations.exceptions.exceptions.DataContextError: Unable to write to the "
                "expectations store at /gx/expectations: permission denied"
            ],
            "gx-project-object-not-found",
        ),
        # a suite lookup that found nothing outside Great Expectations' DataContextError
        (
            ["ERROR - expectation_suite accounts not found in cache, loading from disk"],
            "gx-project-object-not-found",
        ),
        # a shell's missing executable is not Meltano's plugin message
        (
            ["/bin/sh: 1: tap-github: not found", "Executable 'tap-github' could not be found."],
            "meltano-plugin-not-installed",
        ),
    ],
)
def test_look_alikes_of_missing_project_object_or_plugin_do_not_read_so(
    lines: list[str], not_rule: str
) -> None:
    decision = offline_decision(condense(lines), FailedUnitInfo())
    assert decision.rule != not_rule


@pytest.mark.parametrize(
    ("lines", "rule", "category"),
    [
        # the Kubernetes API rejecting a pod spec a deployment's settings left incomplete
        (
            [
                "Caused by: io.fabric8.kubernetes.client.KubernetesClientException: Failure executing: "
                "POST at: https://10.0.0.1/api/v1/namespaces/jobs/pods. Message: Pod "
                '"orchestrator-repl-job-7-attempt-0" is invalid: '
                "[spec.volumes[1].secret.secretName: Required value, "
                'spec.containers[0].volumeMounts[1].name: Not found: "airbyte-secret"].'
            ],
            "k8s-pod-spec-invalid",
            "config_error",
        ),
        (
            [
                'Error creating: Job "nightly-export" is invalid: spec.template.spec.containers[0].image: '
                "Required value"
            ],
            "k8s-pod-spec-invalid",
            "config_error",
        ),
        # a pod given a service account the namespace does not have
        (
            [
                'ERROR Failed to launch pod: pods "replication-job-41-attempt-0" is forbidden: error looking '
                'up service account data/airbyte-admin: serviceaccount "airbyte-admin" not found'
            ],
            "k8s-service-account-not-found",
            "config_error",
        ),
        (
            [
                'Error from server: error when creating "job.yaml": Pod "etl" is forbidden: service account '
                "etl/runner was not found, retry after the service account is created"
            ],
            "k8s-service-account-not-found",
            "config_error",
        ),
        # a client sending a field the cluster's API server does not enable
        (
            [
                'HTTP response body: {"kind":"Status","status":"Failure","message":"Pod \\"etl-task\\" is '
                "invalid: spec.containers[0].resources.limits: Forbidden: ResourceEphemeralStorage field "
                'disabled by feature-gate for ResourceRequirements","reason":"Invalid","code":422}'
            ],
            "k8s-field-disabled-by-feature-gate",
            "dependency_version",
        ),
        # the AWS SDK for Java given both a region and a custom endpoint
        (
            [
                "ERROR Could not create plugin of type class com.van.logging.log4j2.Log4j2Appender",
                "Caused by: java.lang.IllegalStateException: Only one of Region or EndpointConfiguration may "
                "be set.",
            ],
            "aws-sdk-region-and-endpoint-both-set",
            "config_error",
        ),
    ],
)
def test_platform_refusing_a_pod_or_client_reads_so(lines: list[str], rule: str, category: str) -> None:
    decision = offline_decision(condense(lines), FailedUnitInfo())
    assert (decision.rule, decision.category, decision.confidence) == (rule, category, "medium")


@pytest.mark.parametrize(
    ("lines", "not_rule"),
    [
        # a controller changing a running pod is refused for another reason: not a settings gap
        (
            [
                'Message: Pod "orchestrator-repl-job-140017-attempt-0" is invalid: spec: Forbidden: pod '
                "updates may not change fields other than `spec.containers[*].image`"
            ],
            "k8s-pod-spec-invalid",
        ),
        # a pod that could not be found while the job ran is not a missing service account
        (
            ["ERROR Cannot find pod source-postgres-read-12-0 while trying to retrieve exit code: not found"],
            "k8s-service-account-not-found",
        ),
        # RBAC refusing an existing account is a permission, not a missing account
        (
            [
                'pods is forbidden: User "system:serviceaccount:data:airbyte-admin" cannot create resource '
                '"pods" in API group "" in the namespace "data"'
            ],
            "k8s-service-account-not-found",
        ),
        # an eviction for ephemeral storage is the node's limit, not a feature gate
        (
            [
                "Warning  Evicted  12m  kubelet  Pod ephemeral local storage usage exceeds the total limit "
                "of containers 1Gi."
            ],
            "k8s-field-disabled-by-feature-gate",
        ),
        # a feature flag a tool turns off is not the Kubernetes API refusing a field
        (
            ["WARN feature flag heartbeat.failSync disabled by configuration"],
            "k8s-field-disabled-by-feature-gate",
        ),
        # an S3 client given a region that does not hold the bucket is not both settings at once
        (
            [
                "com.amazonaws.services.s3.model.AmazonS3Exception: The bucket is in this region: eu-west-1. "
                "Please use this region to retry the request (Service: Amazon S3; Status Code: 301)"
            ],
            "aws-sdk-region-and-endpoint-both-set",
        ),
    ],
)
def test_look_alikes_of_platform_refusals_do_not_read_so(lines: list[str], not_rule: str) -> None:
    decision = offline_decision(condense(lines), FailedUnitInfo())
    assert decision.rule != not_rule


@pytest.mark.parametrize(
    "lines",
    [
        # dbt refusing a project that defines one model, node or relation twice
        [
            "Compilation Error",
            "  dbt found two schema.yml entries for the same resource named orders. Resources and their "
            "associated columns may only be described a single time. To fix this, remove one of the resource "
            "entries for orders in this file:",
            "   - models/staging/_models.yml",
        ],
        [
            "Encountered an error:",
            "Compilation Error",
            '  dbt found two resources with the name "stg_ads__url_tags". Since these resources have the '
            "same name,",
            '  dbt will be unable to find the correct resource when ref("stg_ads__url_tags") is used.',
        ],
        [
            "Compilation Error",
            '  dbt found two resources with the database representation "`proj`.`ds`.`daily`".',
            "  dbt cannot create two resources with identical database representations.",
        ],
        # a tool that looked the profile's Jinja up literally
        [
            "Could not find dbt profile for '{{ env_var('DBT_PROFILE') }}' in /home/ci/.dbt. "
            "Did you create a dbt profile?"
        ],
        [
            "Runtime Error",
            "  The profile 'analytics' does not have a target named '{{ env_var('DBT_TARGET') }}'. The valid "
            "target names for this profile are:",
            "   - dev",
        ],
    ],
)
def test_dbt_duplicate_definition_and_unrendered_profile_jinja_read_as_code(lines: list[str]) -> None:
    assert _brief_of_lines(lines) == ("code_bug", "medium")


@pytest.mark.parametrize(
    ("lines", "not_rule"),
    [
        # dbt's own count of what it parsed is not a duplicate
        (["12:01:02  Found 2 models, 3 seeds, 0 tests, 412 macros"], "dbt-duplicate-definition"),
        # packages declared but not installed: a missing `dbt deps`, not two definitions
        (
            [
                "Compilation Error",
                "  dbt found 1 package(s) specified in dependencies.yml, but only 0 package(s) installed in "
                'dbt_packages. Run "dbt deps" to install package dependencies.',
            ],
            "dbt-duplicate-definition",
        ),
        # a profile or target that is really missing stays a setting to fix
        (
            ["Runtime Error", "  Could not find profile named 'analytics'"],
            "profile-jinja-not-rendered",
        ),
        (
            ["Runtime Error", "  The profile 'analytics' does not have a target named 'prod'."],
            "profile-jinja-not-rendered",
        ),
    ],
)
def test_look_alikes_of_duplicate_definition_or_unrendered_profile_do_not_read_so(
    lines: list[str], not_rule: str
) -> None:
    decision = offline_decision(condense(lines), FailedUnitInfo())
    assert decision.rule != not_rule


@pytest.mark.parametrize(
    "lines",
    [
        # Prefect 3: a newer client's field refused by an older server (pydantic v2 wording)
        [
            "prefect.exceptions.PrefectHTTPStatusError: Client error '422 Unprocessable Entity' for url "
            "'http://prefect-server:4200/api/deployments/'",
            "Response: {'exception_message': 'Invalid request received.', 'exception_detail': [{'type': "
            "'extra_forbidden', 'loc': ['body', 'concurrency_options'], "
            "'msg': 'Extra inputs are not permitted', 'input': None}], 'request_body': {'name': 'nightly'}}",
        ],
        # Prefect 2: the same refusal in pydantic v1 wording
        [
            "Error while deploying fact_stats: Client error '422 Unprocessable Entity' for url "
            "'http://127.0.0.1:4200/api/deployments/'",
            "Response: {'exception_message': 'Invalid request received.', 'exception_detail': "
            "[{'loc': ['body', 'schedules'], 'msg': 'extra fields not permitted', "
            "'type': 'value_error.extra'}]}",
        ],
    ],
)
def test_api_422_for_fields_the_server_does_not_know_reads_as_versions(lines: list[str]) -> None:
    assert _brief_of_lines(lines) == ("dependency_version", "medium")


@pytest.mark.parametrize(
    "lines",
    [
        # a pydantic model refusing a key of the user's own settings file: no API answered 422
        [
            "pydantic_core._pydantic_core.ValidationError: 1 validation error for Settings",
            "warehouse_nmae",
            "  Extra inputs are not permitted [type=extra_forbidden, input_value='analytics', "
            "input_type=str]",
        ],
        # a 422 for a missing or ill-typed field is the request's content, not a newer client
        [
            "prefect.exceptions.PrefectHTTPStatusError: Client error '422 Unprocessable Entity' for url "
            "'http://127.0.0.1:4200/api/deployments/'",
            "Response: {'exception_message': 'Invalid request received.', 'exception_detail': "
            "[{'type': 'missing', 'loc': ['body', 'flow_id'], 'msg': 'Field required', 'input': {}}]}",
        ],
    ],
)
def test_look_alikes_of_api_rejecting_newer_client_fields_do_not_read_so(lines: list[str]) -> None:
    decision = offline_decision(condense(lines), FailedUnitInfo())
    assert decision.rule != "api-rejects-newer-client-fields"


@pytest.mark.parametrize(
    "lines",
    [
        # Redshift's hard VARCHAR ceiling, from normalization's SQL and from a COPY of the raw record
        [
            "[error] [MainThread]: Database Error in model tickets_scd (models/generated/airbyte_incremental/"
            "scd/zendesk/tickets_scd.sql)",
            "[error] [MainThread]:   Invalid input",
            "[error] [MainThread]:     code:      8001",
            "[error] [MainThread]:     context:   CONCAT() result too long for type varchar(65535)",
        ],
        [
            "2023-07-17 10:02:11 destination > ERROR i.a.i.d.r.RedshiftSqlOperations(insertRecords):88 "
            "JSON_PARSE() error: String value exceeds the max size of 65535 bytes: (119205 bytes skipped)",
        ],
        [
            "2022-07-06 06:17:18 normalization > 06:17:18      error:  Invalid input",
            "2022-07-06 06:17:18 normalization > 06:17:18      code:      8001",
            "2022-07-06 06:17:18 normalization > 06:17:18      context:   SUPER value exceeds export size.",
        ],
        # a reserved word put into DDL unquoted
        [
            "net.snowflake.client.jdbc.SnowflakeSQLException: SQL compilation error: error line 11 at "
            "position 0",
            ".invalid column definition name 'CURRENT_DATE' (ANSI reserved)",
        ],
    ],
)
def test_warehouse_ceiling_and_unquoted_reserved_word_read_as_destination_write(lines: list[str]) -> None:
    assert _brief_of_lines(lines) == ("destination_write", "medium")


@pytest.mark.parametrize(
    ("lines", "not_rule"),
    [
        # a column narrower than the value is a column to widen, not the warehouse's ceiling
        (
            ["psycopg2.errors.StringDataRightTruncation: value too long for type character varying(256)"],
            "redshift-value-over-varchar-max",
        ),
        (["ERROR: value too long for type character varying(655)"], "redshift-value-over-varchar-max"),
        # a column that is not there, and a reserved word in a query, are not unquoted DDL names
        (
            [
                "001003 (42000): SQL compilation error:",
                "error line 3 at position 7 invalid identifier 'ORDER_DATE'",
            ],
            "reserved-word-column-name",
        ),
        (
            [
                "net.snowflake.client.jdbc.SnowflakeSQLException: SQL compilation error:",
                "syntax error line 1 at position 31 unexpected 'ORDER'.",
            ],
            "reserved-word-column-name",
        ),
    ],
)
def test_look_alikes_of_warehouse_ceiling_or_reserved_word_do_not_read_so(
    lines: list[str], not_rule: str
) -> None:
    decision = offline_decision(condense(lines), FailedUnitInfo())
    assert decision.rule != not_rule
