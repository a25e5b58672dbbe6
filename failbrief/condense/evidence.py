"""Specific signals: the error codes, statuses and exception classes that name a cause. Pure: no Django.

A wrapper line ("Database Error in model ...", "Encountered an exception while reading stream",
"Failed to execute job", a bare non-zero exit) says *that* something failed. A specific signal says
*why*, with near certainty, because it is a code a system emits for one kind of problem: an HTTP
status, a PostgreSQL SQLSTATE, a Snowflake or MySQL error number, a BigQuery error reason, an OAuth
error code, an exit code or signal, an exception class. Each row carries its own "what to check",
concrete to that signal, so the suggested fix follows the evidence and not the category.

`specific=False` rows are weaker readings (a Python programming-error class that is often a
symptom of bad configuration, an HTTP 404 that may be a wrong URL or a removed API): they may
decide the category, but only with medium confidence.

The table is ordered: when one block holds several signals, the first row that matches any of its
lines decides (a 429 explains the timeouts after it; a failing dbt test explains its wrapper).
Rules are classes of signals, never the wording of one particular log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Signal:
    """One row: `category` when `pattern` matches a line (and `context`, if any, its block)."""

    name: str
    category: str
    kind: str  # what sort of evidence, for the explanation: "HTTP status", "SQLSTATE", ...
    pattern: re.Pattern[str]
    check: str  # what to check first, concrete to this signal
    specific: bool = True
    context: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None  # the block must not match this

    def matches(self, line: str, block: str) -> bool:
        if self.pattern.search(line) is None:
            return False
        if self.context is not None and self.context.search(block) is None:
            return False
        return self.unless is None or self.unless.search(block) is None


def _signal(
    name: str,
    category: str,
    kind: str,
    pattern: str,
    check: str,
    *,
    specific: bool = True,
    context: str | None = None,
    unless: str | None = None,
) -> Signal:
    return Signal(
        name,
        category,
        kind,
        re.compile(pattern),
        check,
        specific,
        re.compile(context) if context else None,
        re.compile(unless) if unless else None,
    )


def _code(codes: str) -> str:
    """A numeric error code as logs print it beside its kind ("SQLSTATE 42501", "Vender Code: 390144",
    "002003 (42S02):", "(28000)", "ERROR 1045 (28000)"), never a bare number (a row count, a port)."""
    return (
        rf"(?:\b(?:SQLSTATE|SQLState|sqlstate|[Ss]tate|[Cc]ode|[Ee]rror|ERROR|[Ee]rrno)\W{{0,4}}(?:{codes})\b"
        rf"|\b(?:{codes})\s*\(|\((?:{codes})\)|\b(?:{codes}):)"
    )


# An HTTP status in the shapes clients print it: "429 Too Many Requests", "HTTP 429", "status code
# 429", "code": 429, "429 Client Error", "Http Error: 401", "returned 403".
def _http(codes: str, reasons: str) -> str:
    return (
        rf"(?i)\b(?:{codes})\b[\s:,-]{{0,3}}(?:{reasons}|client error|server error)"
        rf"|(?i:\b(?:http|status|status_code|code|response|error|returned|statuscode)\W{{0,14}}"
        rf"(?:code\W{{0,3}}(?:is\W{{1,3}})?)?)(?:{codes})\b"
    )


# A traceback frame as Python and IPython print it (`File "/x/y.py", line 12`, `File /x/y.py:12, in f`):
# one inside the installed packages, and one of the project's own code (any other file).
_INSTALLED_FRAME = r'\bFile "?[^",\n]*?(?:site|dist)-packages[^",\n]*"?(?:, line \d+|:\d+)'
_PROJECT_FRAME = r'\bFile "?(?![^",\n]*(?:site|dist)-packages)[^",\n]+?"?(?:, line \d+|:\d+)'


SIGNALS: tuple[Signal, ...] = (
    # -- data tests: the test itself says rows violate it ------------------------------------------
    _signal(
        "dbt-test-failed",
        "data_quality_test",
        "failing data test",
        r"\bGot \d+ results?, configured to (?:fail|warn)|\b\d+ of \d+ FAIL \d+\b|\[FAIL \d+ in "
        r"|(?i:expectation \S+ failed|data (?:quality|validation) (?:check|test) failed)"
        r"|\b\d+ of \d+ \([\d.]+%\) [Ee]xpectations [Ff]ailed",
        "Run the failing test's compiled SQL (target/compiled/...) to see the offending rows; fix the "
        "upstream data, or the test's definition (key columns, where clause, severity) if the rows are "
        "legitimate.",
    ),
    # Soda's scan summary: a check found rows that violate it; the exception a wrapper raises after
    # the scan ("Soda Scan failed") is only how the task reports it.
    _signal(
        "data-check-failed",
        "data_quality_test",
        "failing data check",
        r"\b\d+/\d+ checks? FAILED\b|\bOops! [1-9]\d* failures?\.",
        "Run the failing check's query (the check file and dataset the scan names) to see the offending "
        "rows; fix the upstream data or the model that produced them, or the check if the rows are "
        "legitimate.",
    ),
    # -- the platform under the pipeline refused to start its pod or client (read before evictions) --
    # The Kubernetes API rejecting a pod spec a deployment's values built: a field it requires left
    # empty, a name it cannot find, a duplicate or invalid value (not "spec: Forbidden: pod updates
    # may not change fields", which a controller's update causes).
    _signal(
        "k8s-pod-spec-invalid",
        "config_error",
        "Kubernetes API answer",
        r'\b(?:[Pp]od|[Jj]ob|[Dd]eployment) "?[\w.-]+"? is invalid: \[?spec\.[\w.\[\]*-]+: '
        r"(?:Required value|Not found|Invalid value|Duplicate value|Unsupported value)",
        "The setting the named spec field is built from (the chart values, env or overlay that names "
        "the secret, volume, mount or constraint): fill it in or make it name an object that exists.",
    ),
    # A pod asked for a service account the namespace does not have: the account the deployment's
    # settings name for its jobs is not the one that was created.
    _signal(
        "k8s-service-account-not-found",
        "config_error",
        "Kubernetes API answer",
        r'error looking up service account [\w.-]+/[\w.-]+: serviceaccount "[^"]+" not found'
        r"|service account [\w.-]+/[\w.-]+ was not found, retry after the service account is created",
        "The service account the job pods are given (a chart's jobs/service-account value, the "
        "operator's setting) and the accounts in that namespace (kubectl get sa): create it or name "
        "the one that exists.",
    ),
    # The cluster's API server does not enable a field the client sends: the client (an operator,
    # a provider library) is a release made for a newer Kubernetes.
    _signal(
        "k8s-field-disabled-by-feature-gate",
        "dependency_version",
        "Kubernetes API answer",
        r"\b\w+ field (?:is )?disabled by feature-gate\b",
        "The Kubernetes version of the cluster and the client release that builds the object (an "
        "operator or provider package): pin the client to a release that does not send the field, or "
        "upgrade the cluster or enable the feature gate.",
    ),
    # The AWS SDK for Java refusing a client given both a region and a custom endpoint (MinIO, a
    # VPC endpoint): two storage settings that exclude each other are both set.
    _signal(
        "aws-sdk-region-and-endpoint-both-set",
        "config_error",
        "AWS SDK client builder",
        r"Only one of Region or EndpointConfiguration may be set",
        "The storage settings the client is built from: set either the region (AWS S3) or the "
        "endpoint (MinIO, a custom S3 endpoint), and leave the other empty or unset.",
    ),
    # -- memory, disk and time limits ---------------------------------------------------------------
    _signal(
        "oom-kill",
        "resource_limit_oom_timeout",
        "exit code / signal",
        r"OOMKilled|\bexit(?:ed)?(?: with)?(?: status| return)?(?: code)?:? 137\b|(?i:exit code:? 137)"
        r"|\bSIGKILL\b|\bsignal 9\b|(?:status|exit) code:? -9\b|(?i:exceed\w* (?:its |the )?memory limit)"
        r"|(?i:container killed .{0,60}memory)|^\s*Killed\s*$"
        r"|(?i:\b(?:exit|exited|return|returned|status)\b[\w -]{0,25}?\b(?:code"
        r"|status)\b\W{0,3}137\b|\b(?:returncode|exitcode|exit_code)\W{0,3}137\b)"
        r"|(?i:return ?code:? -9\b)",
        "The memory limit of the worker, pod or container that ran the step (OOMKilled, exit 137): "
        "raise it, or lower the batch size / parallelism of the step.",
    ),
    _signal(
        "out-of-memory",
        "resource_limit_oom_timeout",
        "exception class",
        r"\bMemoryError\b|OutOfMemory|Java heap space|GC overhead limit exceeded|(?i:\bout of memory\b)"
        r"|" + _code("53200") + r"|Cannot allocate memory|\bENOMEM\b|Unable to acquire \d+ bytes of memory"
        r"|std::bad_alloc|out of shared memory|\bORA-0403[01]\b|Out of sort memory"
        r"|is bigger than spark\.driver\.maxResultSize",
        "The memory available to the process (JVM -Xmx / heap, worker or warehouse size) against the "
        "size of the data it loads at once; reduce the batch, page or partition size.",
    ),
    _signal(
        "disk-full",
        "resource_limit_oom_timeout",
        "errno / SQLSTATE",
        r"(?i)no space left on device|\bENOSPC\b|disk (?:is )?full"
        r"|\bDiskFull\b|disk quota exceeded|\bEDQUOT\b|" + _code("53100") + r"|could not extend file",
        "Free space on the volume named in the error (worker disk, temp directory, database storage); "
        "clear old files or logs, or grow the volume.",
    ),
    # The process hit its file-descriptor limit (errno 24): many files or sockets open at once.
    _signal(
        "open-files-limit",
        "resource_limit_oom_timeout",
        "errno",
        r"(?i)too many open files|\bEMFILE\b",
        "The open-files limit of the worker (ulimit -n, the container's nofile limit) against how many "
        "files or connections the step opens at once; raise the limit or close files as it goes.",
    ),
    # The server refused a new session because its connection slots are full (SQLSTATE 53300,
    # MySQL 1040): a pool or parallelism larger than max_connections.
    _signal(
        "connection-limit",
        "resource_limit_oom_timeout",
        "SQLSTATE / vendor code",
        r"(?i)too many clients already|remaining connection slots are reserved|too many connections"
        r"|\bTooManyConnections\b|" + _code("53300") + r"|connection limit exceeded",
        "The database's connection limit (max_connections, the role's connection limit) against the "
        "connections the pipeline opens: lower the pool size or thread count, or put a pooler in front.",
        specific=False,
    ),
    # Any other SQLSTATE of class 53 (insufficient resources) the rows above do not name.
    _signal(
        "sqlstate-insufficient-resources",
        "resource_limit_oom_timeout",
        "SQLSTATE class",
        r"(?:SQLSTATE|SQLState|sqlstate)\W{0,4}53[0-9A-Z]{3}\b",
        "The server's resources the error names (memory, disk, connections, configured limits) "
        "against what the statement needs; give it more or make the statement smaller.",
        specific=False,
    ),
    # Kubernetes took the pod away: evicted under node pressure (memory, disk, PIDs).
    _signal(
        "k8s-eviction",
        "resource_limit_oom_timeout",
        "Kubernetes pod status",
        r"\bEvicted\b|\b(?:Disk|Memory|PID)Pressure\b|The node was low on resource|ephemeral[- ]storage",
        "The resources of the node and the pod: its memory and ephemeral-storage requests and limits, "
        "and what else fills the node (logs, temp files, image layers); raise the requests or move the "
        "job to larger nodes.",
    ),
    # The job's pods or Spark's executors vanished while it ran: usually killed for memory or
    # preempted; only suggests.
    _signal(
        "workers-lost",
        "resource_limit_oom_timeout",
        "pod / executor status",
        r"(?i)job has no active pods|pod (?:\S+ )?(?:disappeared|was deleted|not found) while"
        r"|log read interrupted but container|\bLost executor \d+|\bExecutorLostFailure\b"
        r"|Python worker exited unexpectedly|Executor heartbeat timed out|Container killed on request"
        r"|Container from a bad node|driver has stopped unexpectedly|\bFetchFailedException\b"
        r"|Missing an output location for shuffle|Detected zombie job",
        "What ended the pod or executor (kubectl describe pod / events, the YARN or Spark executor "
        "logs: OOMKilled, Evicted, killed for exceeding memory, a preempted node) and its memory "
        "against what the step uses (executor memory and overhead, pod requests and limits).",
        specific=False,
    ),
    # The scheduler found no node with room for the pod: its requests exceed what the cluster has free.
    _signal(
        "pod-unschedulable",
        "resource_limit_oom_timeout",
        "Kubernetes pod status",
        r"\bFailedScheduling\b|\d+ Insufficient (?:cpu|memory|nvidia\.com/gpu)|\bUnschedulable\b",
        "The pod's CPU and memory requests against the free capacity of the nodes it may run on "
        "(node selectors, taints, autoscaler limits): lower the requests or add capacity.",
        specific=False,
    ),
    _signal(
        "statement-timeout",
        "resource_limit_oom_timeout",
        "SQLSTATE / vendor code",
        r"(?i)canceling statement due to statement timeout|statement timeout|"
        + _code("57014")
        + r".{0,40}timeout"
        r"|reached its statement or warehouse timeout|"
        + _code("000630")
        + r"|AirflowTaskTimeout|execution_timeout"
        r"|Timeout, PID|query exceeded (?:the )?(?:maximum )?(?:execution|run) ?time",
        "The query's or task's time limit (statement_timeout, warehouse timeout, execution_timeout) "
        "against how long it now runs: make the query cheaper or raise the limit for this step.",
    ),
    _signal(
        "resources-exceeded",
        "resource_limit_oom_timeout",
        "warehouse error reason",
        r"\bresourcesExceeded\b|Resources exceeded during query execution|(?i:exceeded (?:the )?(?:memory"
        r"|cpu) limit)|cancelled by WLM abort action"
        r"|Query Monitoring Rule|Query exceeded limit for bytes billed"
        r"|\bresponseTooLarge\b|Response too large to return|Query exceeded resource limits",
        "The query's size against the warehouse's limits (BigQuery's per-stage resources, a Redshift "
        "WLM query monitoring rule): split it, filter earlier, drop a global ordering or a skewed "
        "join, or give the query a queue with more memory.",
    ),
    # -- rate limits ----------------------------------------------------------------------------------
    _signal(
        "http-429",
        "rate_limit",
        "HTTP status",
        _http("429", r"too many requests|rate") + r"|(?i:too many requests)|\bTooManyRequests\b",
        "The API's rate limit and quota for this key, and the connector's concurrency and backoff: "
        "lower parallel requests, honour Retry-After, or spread the sync over a longer window.",
    ),
    _signal(
        "quota-or-rate-limit",
        "rate_limit",
        "API error reason",
        r"\b(?:rateLimitExceeded|userRateLimitExceeded|quotaExceeded|RESOURCE_EXHAUSTED|ThrottlingException"
        r"|SlowDown|RequestLimitExceeded)\b|\bRateLimit\w*(?:Error"
        r"|Exception)\b|(?i:rate limit(?:ed| exceeded| reached)"
        r"|exceeded your current quota"
        r"|(?<!disk )quota (?:exceeded|exhausted)"
        r"|\bthrottl(?:ed|ing)\b|rate exceeded|exceeded .{0,40}\brate limit|reduce your request rate)",
        "The provider's quota or rate limit the message names (per user, project or minute): lower the "
        "request rate or concurrency, enable backoff, or request a higher quota.",
    ),
    # -- credentials and permissions ------------------------------------------------------------------
    _signal(
        "oauth-invalid-grant",
        "auth_credentials",
        "OAuth error",
        r"\binvalid_grant\b|(?i:token has been expired or revoked|refresh token (?:is )?(?:expired|invalid"
        r"|revoked)"
        r"|invalid jwt|jwt token is invalid)|" + _code("390144"),
        "The refresh token or key the connection uses: it was revoked, rotated or expired "
        "(re-authenticate the connection); for a signed JWT or service-account grant, also the key "
        "pair and the worker's clock.",
    ),
    _signal(
        "oauth-invalid-client",
        "auth_credentials",
        "OAuth error",
        r"\b(?:invalid_client|unauthorized_client|invalid_token)\b",
        "The OAuth client id and secret configured for the connection, and that this client is "
        "allowed the grant type and scopes it asks for.",
    ),
    # A token the server accepted once has run out (Snowflake 390114, a JWT past its exp).
    _signal(
        "token-expired",
        "auth_credentials",
        "token error",
        r"(?i)authentication token has expired|" + _code("390114") + r"|\bExpiredSignatureError\b"
        r"|signature has expired|\b(?:access |auth |id |session |bearer )?token (?:has |is )?expired\b"
        r"|\bexpired (?:access |auth |session |bearer )?token\b"
        r"|(?:failed|unable) to refresh (?:the |an |your )?(?:access[ _]|oauth[ _])?token",
        "The token the connection uses and how it is renewed: a long job outlived it, or the refresh "
        "that should replace it failed; re-authenticate, and check the worker's clock.",
    ),
    # The Facebook/Meta Graph API refused the access token itself (OAuthException code 190: the user
    # changed their password, logged out, removed the app, or the token ran out): only a new token
    # helps. Code 190 counts only beside OAuthException, and the transient OAuthException code 2
    # ("Please retry your request later") and code 100 (an object the token cannot read) are not it.
    _signal(
        "graph-api-token-invalid",
        "auth_credentials",
        "OAuth error",
        r"Error validating access token\b|\bInvalid OAuth (?:2\.0 )?access token\b"
        r'|"code"\s*:\s*190\b(?!\.)',
        "The access token the connection uses: the Graph API invalidated it (a changed password, a "
        "session Facebook reset, the app removed, a token past its expiry); re-authenticate the source "
        "with the account that owns the ad accounts or pages, and use a long-lived or system-user token.",
        context=r"\bOAuthException\b|Error validating access token|Invalid OAuth",
    ),
    # The credentials file the SDK was pointed at is not there: the path setting (or the volume
    # that should hold it) is wrong; the key itself was never tried.
    _signal(
        "credentials-file-missing",
        "config_error",
        "exception class",
        r"(?i)(?:DefaultCredentialsError|credentials?)\W.{0,40}\bFile \S+ (?:was not found|does not exist)"
        r"|credentials? (?:file|path) .{0,60}(?:not found|does not exist|was not found)",
        "The credentials path the step is given (GOOGLE_APPLICATION_CREDENTIALS, a connection's key "
        "file setting) and the volume or secret that should put the file there on the worker.",
    ),
    # Azure's managed-identity endpoint answered with a page instead of a token ("Unexpected content
    # type"): no credential was refused. Either the host is not Azure and the SDK should not try managed
    # identity there, or the azure-identity release misreads the endpoint (1.17.0 on Container Instances).
    _signal(
        "azure-managed-identity-bad-answer",
        "dependency_version",
        "SDK credential chain",
        r"ManagedIdentityCredential(?:\.get_token failed)?: Unexpected content type",
        "The azure-identity version against the last one that worked (pin it, or upgrade past the "
        "managed-identity bug), and whether the host has a managed identity: off Azure, set "
        "exclude_managed_identity_credential=True so the chain reaches the CLI or environment credentials.",
    ),
    _signal(
        "cloud-key-rejected",
        "auth_credentials",
        "cloud error code",
        r"\b(?:InvalidAccessKeyId|SignatureDoesNotMatch|ExpiredToken\w*|UnrecognizedClientException"
        r"|InvalidClientTokenId|DefaultCredentialsError|UNAUTHENTICATED|NoCredentialsError"
        r"|ClientAuthenticationError)\b|Server failed to authenticate the request"
        r"|(?i:unable to locate credentials)"
        r"|(?i:default credentials were not found)"
        r"|(?i:security token included in the request is (?:invalid|expired)|could not automatically "
        r"determine credentials|request had invalid authentication credentials"
        r"|invalid api[ _-]?key|api[ _-]?key (?:is )?(?:invalid|not valid)|incorrect api key provided)",
        "The cloud credentials the worker picks up (key id and secret, service-account file, "
        "GOOGLE_APPLICATION_CREDENTIALS, instance role): present, for the right account, not expired.",
    ),
    _signal(
        "login-rejected",
        "auth_credentials",
        "SQLSTATE / vendor code",
        r"(?i)password authentication failed|authentication failed for user|\b28P01\b|"
        + _code("28000")
        + r"|no pg_hba\.conf entry|access denied for user"
        r"|incorrect username or password"
        r"|"
        + _code("390100")
        + r"|invalid (?:username|user name) or password|invalid credentials|\bbad credentials\b"
        r"|(?:bad|wrong|invalid) password|Authentication failed for '|could not read Username for"
        r"|Permission denied \(publickey|\bORA-01017\b|invalid username/password|\bInvalidPassword\b",
        "The user name and password (or key) stored for this connection: rotated or mistyped secrets, "
        "the right user for this environment, and the server's allowed-hosts rule (pg_hba.conf).",
    ),
    # SQL Server answers 18456 "Login failed for user" for a wrong password and for a database
    # the login cannot open (a mistyped database name) alike; the state number that tells them
    # apart is only in the server's own log.
    _signal(
        "mssql-login-failed",
        "auth_credentials",
        "vendor code",
        r"(?i)login failed for user|" + _code("18456"),
        "The SQL Server login and the database the connection names: the password, and that the "
        "database exists under that exact name and the login may open it (error 18456 means either).",
    ),
    _signal(
        "sqlstate-invalid-authorization",
        "auth_credentials",
        "SQLSTATE class",
        r"(?:SQLSTATE|SQLState|sqlstate)\W{0,4}28[0-9A-Z]{3}\b|\bInvalidAuthorizationSpecification\b"
        r'|FATAL:\s+role "[^"]+" does not exist',
        "The user, password or key and the authentication method the server expects for it (SQLSTATE "
        "class 28: the server refused who the connection says it is).",
    ),
    # Snowflake 000606 / SQLSTATE 57P03: the session has no warehouse. Either none is configured for the
    # connection or user, or the role may not use the one that is (no USAGE grant): it only suggests.
    _signal(
        "snowflake-no-active-warehouse",
        "auth_credentials",
        "vendor code",
        r"No active warehouse selected in the current session|" + _code("000606") + r"|ErrorCode\(606\)",
        "The warehouse the connection or the user's default names, and the USAGE grant of the session's "
        "role on it (a role without USAGE sees no warehouse); set the warehouse if none is configured.",
        specific=False,
    ),
    # Redshift's STL/STV/SVL system tables are superuser-only on a provisioned cluster and not readable
    # by anyone on Serverless or Multi-AZ: no grant helps, the query a tool runs on them has to change.
    _signal(
        "redshift-system-table-denied",
        "code_bug",
        "SQLSTATE / vendor message",
        r"(?i)permission denied for (?:relation|table|view) (?:pg_catalog\.)?(?:stl|stv|svl|svcs|svv)_\w+",
        "The query that reads the Redshift system table the message names (its tool or macro): Redshift "
        "Serverless and Multi-AZ expose only the SYS_* monitoring views, so use a version that reads "
        "those; on a provisioned cluster STL/STV tables show everything only to a superuser.",
        specific=False,
    ),
    _signal(
        "insufficient-privilege",
        "auth_credentials",
        "SQLSTATE / permission error",
        r"(?i)" + _code("42501") + r"|permission denied for|must be owner of|insufficient privileges?"
        r"|has no privileges on|not authorized to (?:perform|access)|does not have [\w.]+ permission"
        r"|permission [\w.]+ denied|Access Denied:|\baccessDenied\b|\bPERMISSION_DENIED\b"
        r"|\bINSUFFICIENT_PERMISSIONS\b"
        r"|AccessDenied(?:Exception)?\b"
        r"|\bAuthorizationError\b|\bPermissionError\b|\bInsufficientPrivilege\b|\[Errno 13\]|\bEACCES\b"
        r"|\bORA-01031\b|command denied to user|permission was denied on (?:the )?object"
        r"|insufficient authentication scopes"
        r"|ACCESS_TOKEN_SCOPE_INSUFFICIENT|the caller does not have permission"
        r"|\bAuthorization(?:PermissionMismatch|Failure)\b|is not allowed to access Snowflake"
        r"|user does not have (?:the )?(?:permission|privilege)",
        "The grants of the account the step runs as (role, service account or impersonated account): "
        "give it the permission the message names on the object it names.",
    ),
    _signal(
        "snowflake-unknown-account",
        "config_error",
        "vendor code",
        r"(?i)verify the account name is correct|\b250001\b.{0,60}account (?:name|identifier)"
        r"|Could not connect to Snowflake backend after 0 attempt",
        "The Snowflake account identifier in the connection: organization-account or account locator "
        "with its region and cloud (xy12345.eu-west-1), without https:// or snowflakecomputing.com.",
    ),
    _signal(
        "http-401",
        "auth_credentials",
        "HTTP status",
        _http("401", r"unauthori[sz]ed|authentication") + r"|\b(?:Unauthorized|Unauthenticated)\W{1,3}401\b",
        "The credential the request sends (API key, token, password): valid, not expired or "
        "rotated, and the one for this account and environment.",
    ),
    _signal(
        "http-403",
        "auth_credentials",
        "HTTP status",
        _http("403", r"forbidden|access denied|permission") + r"|\bForbidden\W{1,3}403\b",
        "The permissions of the account the request runs as: the role, scope or resource grant the "
        "endpoint needs (and IP allow-lists on the provider's side).",
    ),
    # -- packages and versions ------------------------------------------------------------------------
    _signal(
        "local-module-not-on-path",
        "config_error",
        "exception class",
        r"No module named '([\w.]+)'",
        "The Python path of the worker: the project's own package is not importable where the step "
        "runs (working directory, PYTHONPATH, the code copied into the image or pulled by the deployment).",
        context=r"__local_module__",
    ),
    # Spark has no connector for the format the job reads or writes: its package was not passed to
    # spark-submit (--packages / --jars) or set in spark.jars.packages; the job's launch is configured
    # without it.
    _signal(
        "spark-data-source-not-on-classpath",
        "config_error",
        "exception class",
        r"Failed to (?:find (?:the )?|load class for )data source\b",
        "The connector packages the job is launched with: pass the data source's package to spark-submit "
        "(--packages or --jars) or spark.jars.packages, in the version built for this Spark and Scala.",
    ),
    # DuckDB names its default catalog after the database file from 0.7 on, so SQL or an adapter that
    # still says "main" finds no such catalog: the DuckDB and adapter versions do not go together.
    _signal(
        "duckdb-default-catalog-missing",
        "dependency_version",
        "vendor error",
        r'Catalog "main" does not exist',
        "The installed DuckDB against the adapter or tool that generates the SQL (dbt-duckdb and duckdb "
        "pinned together), or the database name the profile gives the file.",
        specific=False,
    ),
    # The JVM started but the class it was told to run is not on its classpath: the --class name, or the
    # jar that should hold it (a local:// path names a file inside the container image, not the client).
    _signal(
        "jvm-main-class-not-found",
        "config_error",
        "JVM launcher error",
        r"Could not find or load main class \S+",
        "The main class and the jar the job is launched with (--class, mainClass, the application jar "
        "path and classpath): the class name as packaged (jar tf), and that the jar path exists where "
        "the driver runs (inside the image for local:// paths).",
        specific=False,
    ),
    # -- a JDBC driver class the job was not given, a call the Google hooks refuse, a value JSON cannot
    # hold. A JDBC driver's class is a jar the job's launch must ship (--jars, spark.jars, an
    # S3/GCS URI where local paths are not fetched), not a package version; read before module-not-found.
    _signal(
        "jdbc-driver-class-not-found",
        "config_error",
        "JDBC error",
        r"\bClassNotFoundException:?\s+(?:[\w$]+\.)+(?:\w*Driver|JDBC)\b",
        "How the driver jar reaches the process that connects: --jars / spark.jars (as S3 or GCS URIs on "
        "EMR Serverless and Dataproc, which do not fetch client paths), --packages, --driver-class-path, "
        "or the classpath JayDeBeApi starts the JVM with; then the driver class name the URL expects.",
    ),
    # Airflow's Google provider wraps its hook methods so that positional arguments raise: whatever made
    # the call (a provider operator, a DAG's own callable) must pass keyword arguments.
    _signal(
        "google-hook-positional-args",
        "code_bug",
        "library error",
        r"You must use keyword arguments in this methods? rather than positional",
        "The call in the last frame before the hook's wrapper: pass its arguments by keyword (job_id=..., "
        "location=...); when the caller is a provider operator, upgrade to the provider release that "
        "fixes the call.",
    ),
    # json (or Airflow's XCom backend) was handed an object of a type it cannot encode: the code that
    # builds the value (a task's return value, a payload) must convert it.
    _signal(
        "value-not-json-serializable",
        "code_bug",
        "exception message",
        r"Could not serialize the XCom value into JSON|\bObject of type '?\w+'? is not JSON serializable",
        "The value being serialized and its type (a date, Decimal, a client object, the task's return "
        "value pushed to XCom): convert it (isoformat, str, dict) where it is built or returned, or stop "
        "pushing it (do_xcom_push=False); XCom pickling only hides it.",
    ),
    _signal(
        "module-not-found",
        "dependency_version",
        "exception class",
        r"\bModuleNotFoundError\b|No module named|\bcannot import name\b|\bDistributionNotFound\b"
        r"|\bNoClassDefFoundError\b|\bClassNotFoundException\b|\bNoSuchMethodError\b"
        r"|\bUnsupportedClassVersionError\b|No adapters available|Could not find adapter type"
        r"|Can't load plugin: sqlalchemy\.dialects",
        "The installed packages of the environment that ran the step: the package (or version) that "
        "provides the missing module or name; pin the versions that work together and rebuild the image.",
    ),
    _signal(
        "version-conflict",
        "dependency_version",
        "version error",
        r"\bVersionConflict\b|\bResolutionImpossible\b|No matching distribution found"
        r"|could not find a version "
        r"that satisfies|Version error for package|could not find a satisfactory version"
        r"|requires .{1,60} but "
        r".{1,60} is installed|(?i:incompatible (?:version|with)|is not compatible with|unsupported version"
        r"|version mismatch|require-dbt-version|this version of dbt is not supported)",
        "The versions the error names: which package requires which version; pin a compatible set "
        "(tool, adapter or connector image, libraries) and reinstall.",
    ),
    # A compiled extension or interpreter that does not fit what is installed beside it.
    _signal(
        "binary-or-python-incompatible",
        "dependency_version",
        "version error",
        r"undefined symbol: |GLIBC_[\d.]+' not found|binary incompatibility|Unsupported major\.minor version"
        r"|(?i:requires a different python|requires python [<>=!~]|python \S+ is not supported)"
        r"|Failed building wheel for|Could not build wheels for",
        "The installed versions the message names (a compiled extension built for another library or "
        "Python, a package that needs another interpreter): rebuild the environment from pinned, "
        "matching versions.",
    ),
    # The step's tool is not installed where it runs, or `dbt deps` was not run before it.
    _signal(
        "tool-not-installed",
        "dependency_version",
        "shell / dbt error",
        r"\b(?:sh|bash|zsh)(?:: (?:line )?\d+)?: [\w./-]+: (?:command )?not found|: command not found\b"
        r"|is not recognized as an internal or external command"
        r"|(?i:\b(?:exit|exited|return|returned|status)\b[\w -]{0,25}?\b(?:code"
        r"|status)\b\W{0,3}127\b|\b(?:returncode|exitcode|exit_code)\W{0,3}127\b)"
        r"|dbt found \d+ package\(s\) specified in packages\.yml, but only \d+ package\(s\) installed",
        "The environment the step runs in (image, virtualenv, PATH): install the tool or packages it "
        "calls there (pip install, `dbt deps` before the run), or call it by its full path.",
        specific=False,
    ),
    # SQLAlchemy 2.0 removed Engine.execute() and plain-string statements; pandas < 2.0 still calls
    # them. A code that predates the installed library, not a bug of the pipeline's own code.
    _signal(
        "removed-library-api",
        "dependency_version",
        "exception class",
        r"'(?:Option)?Engine' object has no attribute '(?:execute|cursor)'|\bObjectNotExecutableError\b"
        r"|Not an executable object: '",
        "The versions of the library named in the traceback and of its caller (SQLAlchemy 2.0 removed "
        "Engine.execute; pandas < 2.0 still calls it): pin the older library or upgrade the caller.",
        specific=False,
    ),
    # An installed dbt package whose own dbt_project.yml this dbt cannot read: the package is
    # made for another dbt version (config-version, require-dbt-version).
    # Hadoop starts helper processes through Shell.runCommand; a NullPointerException from
    # ProcessBuilder.start there means the command it builds has no executable, on Windows winutils.exe
    # (HADOOP_HOME unset). The installation the job runs with, not the job's code.
    _signal(
        "hadoop-shell-helper-missing",
        "dependency_version",
        "exception in Hadoop's shell",
        r"\bNullPointerException\b",
        "The Hadoop installation Spark uses on the worker: on Windows HADOOP_HOME must point at a "
        "directory whose bin holds winutils.exe for this Hadoop version; otherwise the Java and "
        "Spark/Hadoop versions the job runs with (reinstall or upgrade them together).",
        specific=False,
        context=r"at org\.apache\.hadoop\.util\.Shell\.(?:runCommand|run|execCommand)\b",
    ),
    # The Azure CLI is installed but could not be run, so its credential (and every SDK chain that
    # falls back to it) has nothing: a broken or half-upgraded azure-cli install.
    _signal(
        "azure-cli-not-runnable",
        "dependency_version",
        "SDK credential chain",
        r"Failed to invoke the Azure CLI\b",
        "The azure-cli install on the machine that runs the step: run `az account show` there; if it "
        "fails to start, reinstall azure-cli (its Python environment), then `az login` again.",
        specific=False,
    ),
    _signal(
        "dbt-package-unreadable",
        "dependency_version",
        "dbt error",
        r"Failed to read package(?: at \S*(?:dbt_modules|dbt_packages)/|:)"
        r"|Error encountered in \S*(?:dbt_modules|dbt_packages|packages-install-path\])/\w+/dbt_project\.yml",
        "The dbt version the package release requires (its dbt_project.yml, require-dbt-version) "
        "against the installed dbt: pin a package release for this dbt, or upgrade dbt.",
        specific=False,
    ),
    # dbt's dispatch found no implementation of a macro a package calls: the installed release of the
    # package that should define it (dbt_utils, fivetran_utils, a shim package) does not have it.
    _signal(
        "dbt-dispatch-macro-missing",
        "dependency_version",
        "dbt error",
        r"In dispatch: No macro named '[\w.]+' found",
        "The package releases installed together (packages.yml, package-lock.yml): the release that "
        "calls the macro needs a newer or older release of the package named in 'Searched for'; pin "
        "releases that go together and rerun `dbt deps` (or list the shim package in the dispatch config).",
    ),
    # dbt looked up a macro file of an adapter package by its internal path and found none: the adapter
    # release (or the adapter it builds on, dbt-synapse on dbt-sqlserver) does not go with this dbt.
    _signal(
        "dbt-adapter-macro-file-missing",
        "dependency_version",
        "dbt error",
        r"'dbt_\w+://macros/[\w/.-]+\.sql'",
        "The installed adapter packages against dbt-core (dbt --version, Plugins): an adapter release, "
        "or the adapter it depends on, that does not match this dbt; install releases that go together.",
    ),
    # Jinja's parser rejected a template (a model, macro or hook, the project's or a package's): the
    # source has a syntax slip (an unclosed call, a stray brace, an unknown tag), so its code must change.
    _signal(
        "jinja-template-syntax",
        "code_bug",
        "template error",
        r"unexpected '[^'\n]{1,40}', expected '[^'\n]{1,40}'|expected token '[^'\n]{1,40}', got '"
        r"|Encountered unknown tag '\w+'|unexpected end of template|\bTemplateSyntaxError\b",
        "The template at the line the error gives (the model, macro or package release it is in): an "
        "unclosed call or bracket, a stray brace, a missing end tag; fix the source or take a release "
        "of the package that fixed it.",
        context=r"Compilation Error|Parsing Error|TemplateSyntaxError|\{\{|\{%",
    ),
    # dbt refusing a project (or package) that defines one thing twice: two yml entries for one model,
    # two nodes with one name or one relation, two macros of one name; and a tool that read
    # profiles.yml without rendering its Jinja, so it looked up the literal `{{ env_var(...) }}` as a
    # profile or target name. Either way the source, not a setting, must change.
    _signal(
        "dbt-duplicate-definition",
        "code_bug",
        "dbt error",
        r"dbt found two (?:schema\.yml entries for the same resource|resources with the (?:name|database "
        r"representation)|macros (?:named|with the name))\b",
        "The two definitions the message lists: remove the copied yml entry or rename one of the nodes "
        "or macros (an alias that renders to another model's table counts); if both paths are the same "
        "file, the partial-parse state is stale: rerun with --no-partial-parse.",
    ),
    _signal(
        "profile-jinja-not-rendered",
        "code_bug",
        "profile lookup error",
        r"(?i:could not find (?:dbt )?profile (?:for|named)|does not have a target named)\s*['\"]?\{\{",
        "The tool that read profiles.yml (an IDE extension, a linter's or CLI's dbt integration) looked "
        "the Jinja up literally: run it through dbt itself or a release of the integration that renders "
        "env_var()/var() in profiles; a plain value in the profile works around it.",
    ),
    # A GRANT (dbt's grants config, a hook) named a grantee the database does not have: PostgreSQL's and
    # Redshift's 42704 for a role, user or group; a refused login says FATAL and is read elsewhere.
    _signal(
        "grantee-does-not-exist",
        "config_error",
        "SQLSTATE / vendor code",
        r'\b(?:role|user|group) "[^"\n]+" does not exist',
        "The grantee the grants config or GRANT names: a role, user or group of that exact name on this "
        "database (on Redshift a group is written `group name`), or create it first.",
        unless=r"FATAL:",
    ),
    # PyAirbyte found the connector in the registry but not on PyPI, where it installs Python
    # connectors from: the registry's connector release (now manifest-only, or a Java connector) and
    # the installed PyAirbyte do not go together, so it only suggests a version pair to fix.
    _signal(
        "connector-not-on-pypi",
        "dependency_version",
        "exception class",
        r"\bAirbyteConnectorNotPyPiPublishedError\b|Connector found, but not published to PyPI",
        "The PyAirbyte release against the connector's packaging in the registry: upgrade PyAirbyte "
        "(newer releases install manifest-only connectors), pin a connector version published to PyPI "
        "(pip_url and version), or run a Java connector from its Docker image (docker_image=True).",
        specific=False,
    ),
    # A change-data-capture reader asked to resume at a log position the server no longer keeps
    # (MySQL binlog files purged, PostgreSQL WAL removed past the slot, SQL Server's CDC cleanup, a
    # MongoDB oplog rolled over): the retention is shorter than the time between syncs. A connector
    # that never advances its saved offset says the same, so it only suggests.
    _signal(
        "cdc-log-position-purged",
        "config_error",
        "CDC resume position",
        r"but this is no longer available on the server|Connector requires binlog file '[^']+', but \w+ "
        r"only has|\bBinlog \S+ is not available\b|Saved offset (?:is )?no longer present on the server"
        r"|Saved offset is before (?:the )?[Rr]eplication slot's confirmed|Saved offset is not valid"
        r"|requested WAL segment \S+ has already been removed"
        r"|resume (?:point|token) may no longer be in the oplog|\bChangeStreamHistoryLost\b",
        "The server's change-log retention against the time between syncs (MySQL binlog expiry, "
        "PostgreSQL max_slot_wal_keep_size, SQL Server CDC cleanup, MongoDB oplog size): reset the "
        "connection for a new snapshot, then keep the log longer or sync more often.",
        specific=False,
    ),
    # Salesforce's Bulk API does not serve some objects (Share, History, Tag, Feed and other special
    # objects): INVALIDENTITY "... is not supported by the Bulk API", one cause only. The tool should
    # read them through the REST API or skip them; leaving the stream out is only the workaround.
    _signal(
        "salesforce-bulk-unsupported-object",
        "code_bug",
        "Salesforce error code",
        r"is not supported by the Bulk API\b",
        "The object the message names cannot be queried with the Bulk API: the connector or tap should "
        "fetch it through the REST API or skip it (a newer connector release may already); meanwhile "
        "deselect that stream.",
    ),
    # A value past a warehouse's hard ceiling, or a reserved word left unquoted in DDL: no wider column
    # or setting helps, the writer (a loader, a destination connector, its normalization) must truncate,
    # null or split the value, or quote the name; read before `value-does-not-fit` and `undefined-column`.
    _signal(
        "redshift-value-over-varchar-max",
        "destination_write",
        "vendor code",
        r"too long for type (?:character varying|varchar)\(65535\)|exceeds the max size of 65535 bytes"
        r"|SUPER value exceeds (?:export )?size",
        "Redshift's largest VARCHAR is 65535 bytes and a SUPER value has its own size limit, so no wider "
        "column holds it: a writer or normalization release that nulls, truncates or skips oversized "
        "values (check the destination connector's version), or leave the field out upstream.",
    ),
    _signal(
        "reserved-word-column-name",
        "destination_write",
        "vendor code",
        r"'[^'\n]{1,128}' \(ANSI reserved\)",
        "The column or table name the message quotes is a reserved word the writer put into DDL "
        "unquoted: a destination or loader release that quotes identifiers (or the one before the "
        "regression), or rename the field upstream or in a mapping.",
    ),
    # -- schema: columns and types ------------------------------------------------------------------
    _signal(
        "undefined-column",
        "schema_mismatch",
        "SQLSTATE / vendor code",
        r"(?i)"
        + _code("42703")
        + r"|\bUndefinedColumn\b|column \"?[\w.\"`$-]+\"?(?: of relation \S+)? does not exist"
        r"|unrecognized name:|invalid identifier|unknown column|no such column|"
        + _code("000904")
        + r"|cannot resolve .{0,80}given input columns|no such struct field|column .{0,60} not found"
        r"|\bUNRESOLVED_COLUMN\b|Invalid column name|has no column named|\bName \S+ not found inside",
        "The upstream table's current columns against the ones the model or stream selects: a column "
        "was renamed or dropped; update the model or refresh the source schema.",
    ),
    _signal(
        "type-mismatch",
        "schema_mismatch",
        "SQLSTATE / vendor code",
        r"(?i)"
        + _code("42804")
        + r"|is of type \S+ but expression is of type|\bDatatypeMismatch\b|cannot be cast|cannot cast"
        r"|provided schema does not match|schema mismatch|type mismatch|column count doesn't match"
        r"|number of columns .{0,60}does not match|\bDATATYPE_MISMATCH\b|\bCANNOT_UP_CAST\b|Cannot up cast"
        r"|Failed to merge (?:fields|incompatible data types)|Parquet column cannot be converted"
        r"|\bhas changed type from\b|Invalid schema update|changed mode from \w+ to \w+"
        r"|Cannot add fields \(field: |provided schema is not compatible with the file",
        "The column's type in the target against the type of the values now arriving (a changed source "
        "type, a new column): cast explicitly, or rebuild the table (full refresh) with the new shape.",
    ),
    # dlt's schema contract: the data brought a table, column or type the contract freezes.
    _signal(
        "schema-contract-violated",
        "schema_mismatch",
        "loader error",
        r"Contract on (?:tables|columns|data_type)\w* with (?:contract_)?mode\W{0,3}\w+ is violated"
        r"|because (?:tables|columns|data types?) are frozen",
        "The new table, column or type the message names against the schema contract of the pipeline: "
        "evolve the contract (or the target schema) for it, or drop the field upstream.",
    ),
    # A value that does not fit its column (too long, out of range, unparsable): the column, the
    # data or the writer that sized the column may be at fault, so it only suggests.
    _signal(
        "value-does-not-fit",
        "schema_mismatch",
        "SQLSTATE / vendor code",
        r"(?i)value too long for|"
        + _code("22001")
        + r"|StringDataRightTruncation|numeric field overflow|out of range for type"
        r"|invalid input syntax for (?:type|integer)|"
        + _code("22018")
        + r"|numeric value .{0,80} is not recognized|Data too long for column|Out of range value for column"
        r"|(?:Timestamp|Date|Boolean) '.{0,60}' is not recognized|is too long and would be truncated"
        r"|Could not cast literal|Check 'stl_load_errors' system table"
        r"|Incorrect (?:integer|decimal|datetime|date|double) value|String or binary data would be truncated"
        r"|\bORA-(?:12899|01722|01438)\b|value too large for column"
        r"|Conversion Error: |Could not convert string"
        r"|Bad (?:int64|double|numeric|bool) value"
        r"|invalid input value for enum|date/time field value out of range"
        r"|\b(?:small|big)?int(?:eger)? out of range\b"
        r"|Overflow \((?:Integer|Long|Short|Smallint|Bigint) valid range|Overflow for NUMERIC\("
        r"|\b(?:InvalidDatetimeFormat|InvalidTextRepresentation|NumericValueOutOfRange)\b|"
        + _code("22P02|22003|22007|22008"),
        "The column the value is written to against the longest or widest value now arriving: widen "
        "the column (or let the loader re-create it), or clean or truncate the field upstream.",
        specific=False,
    ),
    # -- objects and files that are not there --------------------------------------------------------
    _signal(
        "undefined-object",
        "config_error",
        "SQLSTATE / vendor code",
        r"(?i)\b42P01\b|\b3D000\b|\b3F000\b|\bUndefinedTable\b|\bInvalidSchemaName\b"
        r"|(?:relation|table|view|database|schema|dataset|catalog) [\"'`]?[\w.\"'`-]+[\"'`]? does not exist"
        r"|"
        + _code("002003")
        + r"|does not exist or not authorized|not found: (?:table|dataset|project|view)"
        r"|(?:table|dataset) \S+ (?:was )?not found|SCHEMA_NOT_FOUND|TABLE_NOT_FOUND|\bnotFound\b"
        r"|Table or view not found|\bORA-00942\b"
        r"|table or view does not exist|Invalid object name|Unknown database"
        r"|Table '[^']+' doesn't exist|no such table"
        r"|Table with name \S+ does not exist|TABLE_OR_VIEW_NOT_FOUND"
        r"|The table or view \S+ cannot be found|\bNoSuch(?:Table|Database|Namespace)Exception\b"
        r"|Object does not exist, or operation cannot be performed|\bNoSuchBucket\b"
        r"|specified bucket does not exist|Cannot open database .{0,80} requested by the login",
        "That the database, schema or table the message names exists in the target the step points at "
        "(profile/target, database and schema settings, upstream models built first).",
    ),
    _signal(
        "missing-file",
        "config_error",
        "exception class",
        r"\bFileNotFoundError\b|(?i:no such file or directory|could not find profile named|dbt_project\.yml"
        r".{0,40}(?:not found|does not exist)|invalid value for '--|env var required but not provided"
        r"|environment variable .{0,60}(?:not set|is required)|depends on a node named"
        r"|unrecognized arguments|conn_id `?[\w.-]+`? isn't defined|\bAirflowNotFoundException\b"
        r"|Path does not exist: |No dbt_project\.yml found|Not a dbt project)|\bFileNotFoundException\b",
        "The path, profile, option or environment variable the message names: set it where the step "
        "runs (deployment, worker environment, working directory).",
    ),
    # A setting the step was started with is malformed or names nothing: a profile's credentials that
    # fail its schema, an orchestrator's entrypoint or parameters, a URL, a region, a DAG or variable.
    _signal(
        "invalid-setting",
        "config_error",
        "configuration error",
        r'Credentials in profile "[^"]*", target "[^"]*" invalid: (?!Runtime Error)'
        r"|does not have a target named"
        r"|Config validation error|\b(?:MissingFlowError|ParameterTypeError|SignatureMismatchError"
        r"|ParameterBindError|AirflowConfigException|DagNotFound|TaskNotFound|NoRegionError)\b"
        r"|Flow run received invalid parameters|Flow function with name \S+ not found"
        r"|You must specify a region|Could not parse (?:rfc1738 "
        r"|SQLAlchemy )?URL|No connection adapters were found"
        r"|\bInvalid URL '|\bVariable \S+ does not exist|depends on a source named"
        r"|has not been used in project \S+ before or it is disabled|Billing has not been enabled"
        r"|\bBillingNotEnabled\b",
        "The setting the message names, where the step gets it (profile target, deployment entrypoint "
        "or parameters, connection URL, region, Airflow variable): fill it in or correct it there.",
    ),
    # A configuration failed its JSON schema (a connector's spec, a profile): usually settings the
    # user wrote, sometimes a record, so it only suggests. A pydantic "validation error for Model" is
    # left out: code that builds a model wrongly raises it as often as bad settings do.
    _signal(
        "schema-validation-failed",
        "config_error",
        "validation error",
        r"\bjsonschema\.exceptions\.ValidationError\b"
        r"|is a required property|Failed validating '\w+' in schema",
        "The fields the validation error lists (path, expected type) in the configuration, parameters "
        "or block the step was given; if they come from data or from code, fix them at that source.",
        specific=False,
    ),
    # Where the step writes is not set up for writing: a read-only mount, a directory where a file
    # is expected, a read replica (SQLSTATE 25006).
    _signal(
        "target-not-writable",
        "config_error",
        "errno / SQLSTATE",
        r"Read-only file system|\bEROFS\b|\bIsADirectoryError\b|\bNotADirectoryError\b"
        r"|in a read-only transaction|\bReadOnlySqlTransaction\b|" + _code("25006"),
        "The path or database the step writes to: a read-only volume or image layer, a directory where "
        "a file is expected, a read replica or standby host; point it at a writable location.",
        specific=False,
    ),
    # DuckDB was asked to read a path as data and knows no reader for it (a database file, a wrong
    # extension): the path or the way the step refers to it is misconfigured.
    _signal(
        "duckdb-unreadable-path",
        "config_error",
        "vendor error",
        r"No extension found that is capable of reading the file",
        "The path the query reads and how it is referenced: a DuckDB database file must be attached "
        "(ATTACH, or the profile's attach list), a data file needs its reader (read_csv, read_parquet).",
        specific=False,
    ),
    # -- how a client is set up to reach its database (drivers, poolers, embedded files) --------------
    # An embedded database file (DuckDB) is open read-write in another process, which holds its lock:
    # how the processes open the file is the setting to change, nothing is missing.
    _signal(
        "db-file-lock-held",
        "config_error",
        "vendor error",
        r"Could not set lock on file|Conflicting lock is held in",
        "Which other process holds the database file open read-write (a BI tool, an editor, a second "
        "run): open it read_only where the step only reads, or run the writers one at a time.",
    ),
    # java.sql.DriverManager found no registered driver for the URL: the driver jar is not on the
    # classpath of the process that connects, or the URL's prefix is wrong.
    _signal(
        "jdbc-no-suitable-driver",
        "config_error",
        "JDBC error",
        r"No suitable driver found for\s*jdbc:",
        "The JDBC URL's prefix and where the driver jar is: the process that opens the connection needs "
        "it on its own classpath (Spark: --driver-class-path or spark.jars as well as --jars).",
    ),
    # A driver's prepared statements clash behind a transaction-mode pooler (PgBouncer hands the
    # session's server connection to someone else), or its cached plan went stale.
    _signal(
        "pooler-prepared-statement-clash",
        "config_error",
        "driver error",
        r"\bInvalidCachedStatementError\b|\bDuplicatePreparedStatementError\b"
        r"|prepared statement \"(?:_\w+|S_\d+|stmtcache_\w+)\" (?:already exists|does not exist)",
        "Whether the connection goes through PgBouncer or another transaction pooler: turn off the "
        "driver's statement cache (asyncpg statement_cache_size=0) or use PgBouncer 1.21+ with "
        "max_prepared_statements.",
    ),
    _signal(
        "missing-env-var",
        "config_error",
        "exception class",
        r"\bKeyError\b",
        "The environment variable the KeyError names: set it in the deployment or worker environment.",
        context=r"environ|getenv|env_var",
    ),
    # -- SQL the database rejected --------------------------------------------------------------------
    _signal(
        "sql-syntax",
        "sql_error",
        "SQLSTATE / vendor code",
        r"(?i)"
        + _code("42601")
        + r"|syntax error at or near|syntax error at end of input|\bSyntaxError\b.{0,20}SQL"
        r"|syntax error line \d+|Syntax error: |\binvalidQuery\b|Incorrect syntax near|"
        + _code("001003")
        + r"|You have an error in your SQL syntax|\bORA-009(?:07|17|33|36)\b|SQL command not properly ended"
        r"|\bPARSE_SYNTAX_ERROR\b|\bParseException\b|mismatched input '"
        r"|Cannot query over table \S+ without a filter",
        "The compiled SQL at the position the error gives (target/compiled or target/run): the "
        "statement the warehouse rejects, often a dialect difference or a macro that rendered empty.",
        specific=False,
    ),
    _signal(
        "undefined-function",
        "sql_error",
        "SQLSTATE / vendor code",
        r"(?i)"
        + _code("42883")
        + r"|function .{0,80} does not exist|operator does not exist|no matching signature for"
        r"|unknown function|must have an alias|\bUndefinedFunction\b|is ambiguous"
        r"|must appear in the group by|"
        + _code("42702")
        + r"|"
        + _code("42701")
        + r"|division by zero|"
        + _code("22012")
        + r"|Function not found: |Scalar Function with name \S+ does not exist|\bUNRESOLVED_ROUTINE\b"
        r"|is not a recognized built-in function name|Undefined function: ",
        "The function, operator or column reference the message names in the compiled SQL: argument "
        "types (add a cast), the warehouse's dialect, or an ambiguous/ungrouped column.",
    ),
    # The rows break a constraint (SQLSTATE class 23): the data or the way the statement combines
    # it (a merge that matches twice, a key the load repeats), so it only suggests.
    _signal(
        "constraint-violated",
        "sql_error",
        "SQLSTATE / vendor code",
        r"(?i)duplicate key value|violates (?:unique|not-null|foreign key|check|exclusion) constraint"
        r"|\b(?:UniqueViolation|NotNullViolation|ForeignKeyViolation|CheckViolation|IntegrityError)\b"
        r"|Duplicate entry '|unique constraint \S+ violated|\bORA-00001\b|Violation of (?:PRIMARY|UNIQUE) KEY"
        r"|Cannot insert duplicate key|Cannot insert (?:the value NULL|a NULL value) into column"
        r"|Duplicate row detected during DML"
        r"|(?:SQLSTATE|sqlstate)\W{0,4}23[0-9A-Z]{3}\b",
        "The rows the statement writes against the constraint it names: find the duplicate or null keys "
        "in the input (or the join that multiplies them) and deduplicate, or fix the key definition.",
        specific=False,
    ),
    _signal(
        "object-already-exists",
        "sql_error",
        "SQLSTATE / vendor code",
        r"(?i)" + _code("42P07|42710") + r"|\bDuplicate(?:Table|Object)\b|relation \S+ already exists"
        r"|There is already an object named|\bORA-00955\b|name is already used by an existing object",
        "The object the statement creates and what already holds that name (an earlier run, another "
        "materialization, a view where a table is expected): drop or rename it, or create it if absent.",
        specific=False,
    ),
    # -- connections: DNS, TLS and transfers, then opening a connection -------------------------------
    _signal(
        "dns-unavailable",
        "network",
        "DNS error",
        r"(?i)temporary failure in name resolution|\bEAI_AGAIN\b|try again later.{0,40}resol",
        "The worker's DNS resolution at the failure time (DNS server, VPN, private DNS zone): the name "
        "could not be looked up at all; retry, and check the resolver the worker uses.",
    ),
    # A host name with no dot that is not localhost ("https" from a URL pasted where a host was
    # asked, a compose service name outside its network, a placeholder): the setting is wrong far
    # more often than DNS is. Only suggests, like any unknown host.
    _signal(
        "dns-host-not-a-domain",
        "config_error",
        "DNS error",
        r"(?i)(?:could not translate host name|Failed to resolve|UnknownHostException:|getaddrinfo \w+)"
        r" [\"'`]?(?!localhost\b|ref(?:erence)?\b)[a-z][\w-]*[\"'`]?(?:[\s:)(]|$)"
        r"|host='(?!localhost')[a-z][\w-]*'.{0,120}(?:Name or service not known|NameResolutionError"
        r"|Failed to resolve)",
        "The host setting of the connection or profile: it holds something that is not a host name "
        "(a URL scheme, a placeholder, a container name the worker cannot see); enter the full host "
        "name the service publishes.",
        specific=False,
    ),
    # The resolver answered that the name does not exist: a mistyped or wrong host in the
    # configuration as often as a DNS problem, so it only suggests.
    _signal(
        "dns-unknown-host",
        "network",
        "DNS error",
        r"(?i)name or service not known|nodename nor servname|could not translate host name"
        r"|\bgetaddrinfo\b|UnknownHostException|NameResolutionError|\bENOTFOUND\b"
        r"|no address associated with hostname|No such host is known|Could not resolve host"
        r"|Unknown MySQL server host",
        "The host name the message names: spelled as the service publishes it in the connection or "
        "profile settings, and resolvable from the worker (VPN, private DNS zone).",
        specific=False,
    ),
    # How a database client library reaches and talks to its server: a client speaking ClickHouse's
    # native protocol to its HTTP port (or the reverse), one ClickHouse session used by two queries at
    # once, SQL Server's client refusing the server's certificate now that encryption is on by
    # default, a client library whose optional crypto dependency or urllib3 release is not the one it
    # needs, and Snowflake's connector handed a private key in the wrong form.
    _signal(
        "clickhouse-protocol-port-mismatch",
        "config_error",
        "vendor error",
        r"Unexpected packet from server\b[^\n]{0,120}?\(expected Hello or Exception, got Unknown packet\)"
        r"|Port \d+ is for clickhouse-client program|You must use port \d+ for HTTP",
        "The port in the connection settings against the protocol the client speaks: native clients "
        "(clickhouse-driver, clickhouse-client, a dbt profile's native driver) use 9000 / 9440, HTTP "
        "clients (clickhouse-connect, JDBC, ODBC) 8123 / 8443; a proxy or another service on that port "
        "answers the same way.",
    ),
    _signal(
        "clickhouse-session-locked",
        "code_bug",
        "vendor error",
        r"\bSESSION_IS_LOCKED\b|\bSession (?:\S+ )?is locked by a concurrent client",
        "Which queries use one session id at the same time: a client object shared by threads or "
        "concurrent tasks (give each its own client, or stop the client generating a session id), or "
        "a tool that hands the same session id to several connections.",
        specific=False,
    ),
    _signal(
        "sqlserver-untrusted-server-certificate",
        "config_error",
        "TLS error",
        r"SSL Provider[:,][^\n]{0,120}?(?:certificate chain was (?:issued|provided) by an authority that is "
        r"not trusted|certificate verify failed)",
        "The client's encryption settings against the server's certificate: ODBC Driver 18 and "
        "Microsoft.Data.SqlClient 4+ encrypt by default and verify the certificate, so a self-issued one "
        "needs TrustServerCertificate=yes (or its issuing CA installed on the worker).",
    ),
    _signal(
        "pymysql-cryptography-missing",
        "dependency_version",
        "exception message",
        r"\bcryptography'? (?:package )?is required for (?:sha2|sha256_password|caching_sha2)",
        "Install the cryptography package beside PyMySQL (PyMySQL[rsa]) in the environment the job "
        "runs in: the server authenticates the user with caching_sha2_password or sha256_password.",
    ),
    _signal(
        "urllib3-retry-api-mismatch",
        "dependency_version",
        "exception class",
        r"'Retry' has no attribute '(?:backoff_jitter|backoff_max|BACKOFF_MAX|DEFAULT_BACKOFF_MAX"
        r"|DEFAULT_METHOD_WHITELIST|DEFAULT_ALLOWED_METHODS|method_whitelist|allowed_methods)'"
        r"|Retry\.__init__\(\) got an unexpected keyword argument '(?:backoff_jitter|backoff_max"
        r"|allowed_methods|method_whitelist)'",
        "The installed urllib3 major version against the one the client library's retry code was "
        "written for (2.x added backoff_jitter and backoff_max, 1.26 renamed method_whitelist to "
        "allowed_methods): pin urllib3, or take the client release that checks the version.",
    ),
    # An API server that validates requests strictly (FastAPI/pydantic: Prefect's server and Cloud)
    # answering 422 because the body holds a field it does not know: the client release is newer than
    # the server's (a field added later), so the two releases do not go together. A pydantic model
    # refusing a key of a user's own config file has no 422 beside it and stays open.
    _signal(
        "api-rejects-newer-client-fields",
        "dependency_version",
        "HTTP status",
        r"'extra_forbidden'|\bExtra inputs are not permitted\b|\bextra fields not permitted\b"
        r"|\bvalue_error\.extra\b",
        "The client's release against the server's or API's (`prefect version` on both sides): a server "
        "accepts only clients of its own release or older, so upgrade the server (or pin the client to "
        "the server's release); the field the 422 names is the one the newer client added.",
        context=r"\b422\b[\s:,-]{0,3}(?i:Unprocessable)|(?i:status(?:_code)?\W{1,3}422\b)",
    ),
    _signal(
        "snowflake-private-key-wrong-form",
        "code_bug",
        "exception message",
        r"Please provide a valid unencrypted rsa private key in (?:base64-encoded )?DER format as (?:a )?"
        r"(?:bytes|str) object",
        "The code that hands the key to the Snowflake connector: private_key must be the key decrypted "
        "(with its passphrase) and serialized as DER, not the PEM text or the key file's path.",
        specific=False,
    ),
    # TLS spoken to a port that answers in plain text (or the reverse): OpenSSL's "wrong version
    # number" is the first bytes of an HTTP reply read as a TLS record, so the URL or port is wrong.
    _signal(
        "tls-to-plain-port",
        "config_error",
        "TLS error",
        r"(?i)WRONG_VERSION_NUMBER|wrong version number|\bunknown protocol\b.{0,40}ssl"
        r"|plain HTTP request was sent to HTTPS port",
        "The URL scheme and port of the connection: https to a port that serves plain http (or the "
        "reverse); use the scheme the service listens with on that port.",
    ),
    _signal(
        "tls",
        "network",
        "TLS error",
        r"(?i)CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSLCertVerificationError"
        r"|PKIX path building failed|SSLHandshakeException|self[- ]signed certificate",
        "The certificate chain between the worker and the host: a proxy or firewall that intercepts "
        "TLS, a missing CA bundle in the image, or an expired server certificate.",
    ),
    _signal(
        "http-5xx",
        "network",
        "HTTP status",
        _http("50[234]", r"bad gateway|service unavailable|gateway time-?out|server error")
        + r"|(?i:\bbad gateway\b|service unavailable|gateway time-?out)|Error 50[234] \("
        r"|\b(?:BadGateway|ServiceUnavailable|GatewayTimeout|backendError)\b",
        "The remote service's status at the failure time (a transient 502/503/504): retry with "
        "backoff; if it recurs, the service or the proxy in front of it is overloaded or down.",
    ),
    # The Docker daemon the client talks to is not there: its socket refuses (a
    # stopped Docker Desktop or dockerd, a worker without /var/run/docker.sock), read before the
    # socket rows, which would take "Connection aborted" for a dropped transfer.
    _signal(
        "docker-daemon-unreachable",
        "source_connection",
        "Docker client error",
        r"(?i)Error while fetching server API version: \(?'Connection aborted\.'?,\s*"
        r"(?:ConnectionRefusedError|PermissionError)"
        r"|Cannot connect to the Docker daemon|Couldn't connect to Docker daemon"
        r"|Is the docker daemon running\?",
        "That the Docker daemon is running where the step runs (Docker Desktop or dockerd started, "
        "DOCKER_HOST pointing at it, /var/run/docker.sock mounted and readable by the worker's user).",
    ),
    _signal(
        "connection-dropped",
        "network",
        "socket error",
        r"(?i)connection reset|reset by peer|\bECONNRESET\b|broken pipe|\bEPIPE\b|RemoteDisconnected"
        r"|connection aborted|IncompleteRead|ChunkedEncodingError|server closed the connection unexpectedly"
        r"|SSL SYSCALL error|could not (?:receive|send) data (?:from|to) server|\bReadTimeout\b"
        r"|read timed out|SocketTimeoutException|\bEOF occurred\b|Connection broken: |InvalidChunkLength"
        r"|\bAdminShutdown\b|terminating connection due to administrator command|\b57P01\b"
        r"|forcibly closed by the remote host|\bWSAECONNRESET\b|SSL connection has been closed unexpectedly"
        r"|MySQL server has gone away|Server disconnected without sending a response"
        r"|\bServerDisconnectedError\b"
        r"|\bRemoteProtocolError\b|peer closed connection without",
        "What sits between the worker and the remote host (proxy, NAT, SSH tunnel, load balancer idle "
        "timeout): a long transfer was cut; retry, and add keep-alives or a shorter page size.",
    ),
    # MySQL client error 2013 "during query": the server dropped a long query or transfer; the
    # MySQL manual's usual causes are net_read_timeout / net_write_timeout and max_allowed_packet.
    _signal(
        "mysql-lost-during-query",
        "resource_limit_oom_timeout",
        "vendor code",
        r"(?i)lost connection to mysql server during query",
        "The MySQL session limits against the size of the job: net_read_timeout, net_write_timeout, "
        "wait_timeout and max_allowed_packet; raise them for this job or read in smaller pieces.",
    ),
    _signal(
        "proxy-error",
        "network",
        "proxy error",
        r"\bProxyError\b|(?i:unable to connect to proxy|407 proxy authentication required"
        r"|tunnel connection failed)",
        "The HTTP(S) proxy the worker uses (HTTPS_PROXY, NO_PROXY, proxy credentials): reachable, and "
        "letting this host through.",
        specific=False,
    ),
    # Nothing listens on localhost at that port: inside a container or a worker pod, localhost is the
    # container itself, so the host setting is wrong far more often than the service is down.
    _signal(
        "refused-on-localhost",
        "config_error",
        "socket error",
        r"(?i)(?:\blocalhost\b|127\.0\.0\.1|\(::1\)).{0,80}(?:connection refused|refused)"
        r"|connection refused.{0,80}(?:\blocalhost\b|127\.0\.0\.1)",
        "The host the step connects to: inside a container or pod, localhost is that container; use "
        "the service's name or address (host.docker.internal from Docker Desktop), and check the port.",
        specific=False,
    ),
    _signal(
        "cannot-connect",
        "source_connection",
        "SQLSTATE / socket error",
        r"(?i)connection refused|\bECONNREFUSED\b|ConnectionRefusedError|could not connect to server"
        r"|connection to server (?:at|on) .{0,120}failed|communications link failure|\b08S01\b|"
        + _code("08001")
        + r"|"
        + _code("08006")
        + r"|can't connect to (?:mysql|local mysql) server|"
        + _code("2003")
        + r".{0,20}can't connect|connection is not available"
        r",? request timed out|connect(?:ion)? timed out|ConnectTimeout|failed to establish a new connection"
        r"|NewConnectionError|unable to connect to|could not open connection|no route to host"
        r"|network is unreachable"
        r"|\bETIMEDOUT\b|login timeout expired|\bNoBrokersAvailable\b|The connection attempt failed"
        r"|A network-related or instance-specific error|Could not open a connection to SQL Server"
        r"|TNS:no listener|\bORA-1254[1]\b|\bORA-12170\b|SQL Server does not exist or access denied"
        r"|Could not open client transport|Unable to open JDBC Connection|"
        + _code("08004")
        + r"|(?:SQLSTATE|sqlstate)\W{0,4}08[0-9A-Z]{3}\b",
        "That the host and port are reachable from the worker: the service is up, and firewalls, "
        "IP allow-lists, VPN or SSH tunnel let the worker's address through; then re-run the connection "
        "check.",
    ),
    # -- weaker readings: medium confidence at most ---------------------------------------------------
    # A Kafka client that never got the topic's metadata: the topic name, the bootstrap servers or
    # the security protocol is wrong far more often than the cluster is slow.
    _signal(
        "kafka-metadata-timeout",
        "config_error",
        "client error",
        r"not present in metadata after \d+ ?ms|Failed to update metadata after \d+ ?ms",
        "The topic name, bootstrap servers and security protocol (PLAINTEXT vs SASL_SSL, port) the "
        "client is configured with, and that the topic exists.",
        specific=False,
    ),
    # A remote 500: the service failed, usually for a while; it may also be the request it got.
    _signal(
        "http-500",
        "network",
        "HTTP status",
        _http("500", r"internal server error") + r"|returned error: 500\b",
        "The remote service's status at the failure time (status page, a retry a few minutes later); "
        "if it persists for the same request, what the request sends (payload, size, parameters).",
        specific=False,
    ),
    # Spark's default save mode refuses to overwrite an existing output path.
    _signal(
        "output-path-exists",
        "destination_write",
        "write error",
        r"(?i)\bpath \S+ already exists|\bFileAlreadyExistsException\b",
        "The output path and the writer's save mode: the path exists from an earlier run; use "
        "overwrite (or append), or write to a new path.",
        specific=False,
    ),
    # The image the job asks for cannot be pulled: its name or tag, or the registry's credentials.
    _signal(
        "image-pull-failed",
        "config_error",
        "container status",
        r"\b(?:ErrImagePull|ImagePullBackOff|InvalidImageName|CannotPullContainerError)\b"
        r"|manifest (?:for \S+ )?(?:unknown|not found)"
        r"|pull access denied|repository does not exist or may require|failed to resolve ref(?:erence)? \S",
        "The image name and tag the job or work pool names, that the tag was pushed, and the registry "
        "credentials (imagePullSecrets, execution role) of the cluster that pulls it.",
        specific=False,
    ),
    # An orchestrator object the step names is not there (a block document, work pool or deployment
    # by name); a deleted run gives the same exception, so it only suggests.
    _signal(
        "named-object-not-found",
        "config_error",
        "orchestrator error",
        r"\bObjectNotFound\b|Unable to find block document named|Block document \S+ not found"
        r"|(?:Work pool|Deployment) \S+ not found",
        "The name of the block, work pool or deployment the step refers to: created in this workspace, "
        "spelt as registered, and visible to the API key the worker uses.",
        specific=False,
    ),
    _signal(
        "http-404",
        "config_error",
        "HTTP status",
        _http("404", r"not found"),
        "The URL, object or API version the request names: an id or path that does not exist (or no "
        "longer exists) for this account.",
        specific=False,
    ),
    # The server has the path but not for this method: most often a base URL without the API's
    # prefix or version, so the request reaches a web page or proxy instead of the API.
    _signal(
        "http-405",
        "config_error",
        "HTTP status",
        _http("405", r"method not allowed|not allowed"),
        "The base URL the client is configured with: a 405 means that path does not take this method, "
        "usually a URL missing the API prefix or version (a web app or proxy answered, not the API).",
        specific=False,
    ),
    _signal(
        "compilation-error",
        "config_error",
        "dbt error",
        r"\b(?:Compilation|Parsing) Error\b",
        "The model, macro or YAML file the error names, at the line it gives: a reference, config key "
        "or Jinja expression dbt cannot resolve.",
        specific=False,
    ),
    _signal(
        "module-lacks-attribute",
        "dependency_version",
        "exception class",
        r"\bmodule '[\w.]+' has no attribute '",
        "The installed version of the module the message names against the version the calling code "
        "was written for (the attribute was added, renamed or removed); pin them together.",
        specific=False,
    ),
    # A call between installed packages that the callee's version does not have (a keyword or
    # argument count one release added or dropped, a name a module no longer defines, a type one
    # library hands another that it cannot handle), with no frame of the project's own code in the
    # traceback: the installed versions disagree, the project's code never ran into it.
    _signal(
        "installed-packages-disagree",
        "dependency_version",
        "exception inside installed packages",
        r"\bTypeError: .{0,160}?(?:got an unexpected keyword argument|missing \d+ required "
        r"(?:positional|keyword-only) arguments?|takes (?:from \d+ to )?\d+ positional arguments? but \d+ "
        r"(?:were|was) given|unhashable type: '_?[a-z]\w*\.[\w.]+')|\bNameError: name '\w+' is not defined",
        "The versions of the installed packages in the traceback: one calls another with a name, argument "
        "or type that the installed release of it lacks; install the versions released together (or pin "
        "the one that moved) and rebuild the environment.",
        specific=False,
        context=_INSTALLED_FRAME,
        unless=_PROJECT_FRAME,
    ),
    # pandas 2.2 reads only SQLAlchemy 2 engines as SQLAlchemy; with an older SQLAlchemy it treats
    # the connection as a plain DBAPI one and refuses SQLAlchemy statements.
    _signal(
        "pandas-sqlalchemy-unpaired",
        "dependency_version",
        "library version error",
        r"Query must be a string unless using sqlalchemy",
        "The pandas and SQLAlchemy versions installed together: pandas 2.2 and later accept only "
        "SQLAlchemy 2 engines and connections; upgrade SQLAlchemy to 2.x or pin pandas below 2.2.",
        specific=False,
    ),
    # The same pairing seen one step later: pandas took the SQLAlchemy connection for a DBAPI one and
    # asks it for a cursor (pandas' own SQL module in the block, so not a project's misuse of one).
    _signal(
        "pandas-sqlalchemy-connection-as-dbapi",
        "dependency_version",
        "library version error",
        r"'Connection' object has no attribute 'cursor'",
        "The pandas and SQLAlchemy versions installed together: pandas did not recognise the "
        "SQLAlchemy connection (pandas 2.2 and later need SQLAlchemy 2); upgrade SQLAlchemy to 2.x or "
        "pin pandas below 2.2.",
        specific=False,
        context=r"pandas[/\\]io[/\\]sql\.py",
    ),
    # pyarrow refusing a Python value whose type the column's Arrow type does not take ("Expected
    # bytes, got a 'dict' object"): the code that builds the Arrow table passed sets, dicts, lists or
    # numbers to a string column without serialising them, as loaders' converters do for some types.
    _signal(
        "arrow-python-value-not-serialised",
        "code_bug",
        "exception in pyarrow's conversion",
        r"\bExpected bytes, got an? '\w+' object\b",
        "The loader's row-to-Arrow conversion: a string column holds Python values of another type "
        "(set, dict, list); serialise them (JSON) or declare the column's real type, or upgrade a "
        "loader whose converter lacks the type.",
        specific=False,
    ),
    # A pipeline tool naming a project object or plugin it does not have: Great Expectations'
    # DataContextError for a suite, checkpoint, datasource or validation operator the project's
    # store lacks (a misspelt name, a store path the run does not see), and Meltano's plugin
    # executable that `meltano install` never put in place.
    _signal(
        "gx-project-object-not-found",
        "config_error",
        "Great Expectations configuration error",
        r"\bDataContextError\b.*(?:\bexpectation_suite \S+ not found\b"
        r"|\b[Nn]o (?:validation operator|checkpoint|datasource)\b.*\bwas found\b)",
        "The name the task passes (expectation suite, checkpoint, datasource, validation operator) "
        "against the names in the Great Expectations project (great_expectations.yml and its "
        "expectations/ and checkpoints/ stores), and that the run sees that project directory.",
        specific=False,
    ),
    _signal(
        "meltano-plugin-not-installed",
        "dependency_version",
        "plugin not installed",
        r"Executable '[^']+' could not be found\. \w+ '[^']+' may not have been installed yet",
        "Whether the plugin is installed in the environment the run uses: run `meltano install` (or "
        "`meltano install <type> <name>`) in the image or CI step before `meltano run`, and that the "
        "plugin's pip_url installs the executable the plugin's name or `executable` setting expects.",
        specific=False,
    ),
    # A KeyError raised by pandas' own label lookup: the frame lacks a column (or index label) the
    # code reads, as when an upstream file or API changes its fields.
    _signal(
        "dataframe-column-missing",
        "schema_mismatch",
        "exception in pandas' column lookup",
        r"\bKeyError\b",
        "The columns the data actually has (df.columns, the source file or API response) against the "
        "one the lookup names: a field the upstream renamed, dropped or nested differently, or a typo "
        "in the code's column name.",
        specific=False,
        context=r"pandas[/\\](?:_libs[/\\]index\.pyx|core[/\\]indexes[/\\]base\.py)|IndexEngine\.get_loc"
        r"|_get_indexer_strict|are in the \[(?:columns|index)\]|\bnot in index\b|\.set_index\(\[?['\"]",
    ),
    # Airflow refuses to build an operator given arguments it does not take: the DAG's own code.
    _signal(
        "operator-invalid-arguments",
        "code_bug",
        "exception class",
        r"Invalid arguments were passed to \w+",
        "The operator call in the DAG file that the message names: the arguments it does not accept "
        "(a DAG-level setting passed to a task, a renamed parameter).",
        specific=False,
    ),
    _signal(
        "programming-error",
        "code_bug",
        "exception class",
        r"\b(?:TypeError|KeyError|AttributeError|IndexError|NameError|ZeroDivisionError|UnboundLocalError"
        r"|NotImplementedError|RecursionError|NullPointerException|ClassCastException"
        r"|IndexOutOfBoundsException|ArrayIndexOutOfBoundsException)\b",
        "The last frame of the traceback in your own code and the value it got (None, a missing key, "
        "a wrong type); it may come from a config or input the code did not expect.",
        specific=False,
    ),
)

BY_NAME: dict[str, Signal] = {signal.name: signal for signal in SIGNALS}
# HTTP statuses that several causes share (a 429 is only ever a rate limit, so it is not here).
_COARSE_STATUSES = frozenset({"http-401", "http-403", "http-404", "http-405", "http-500", "http-5xx"})
_MISSING_MODULE = re.compile(r"No module named '([\w.]+)'")
_INSTALLED = re.compile(r"site-packages|dist-packages")


def first_signal(line: str, block: str, whole_text: str = "") -> Signal | None:
    """The first row of the table that `line` (in `block`) matches, or None. Most HTTP statuses
    are coarse (Google answers a disabled API or a rate limit with 403), so a later row that reads
    the same line more finely refines them, if it is at least as strong."""
    block = mark_local_module(line, block, whole_text)
    if whole_text and "\n" not in block.strip():
        # A message alone in its block (a paste that puts the message before its stack, IPython's
        # "Stacktrace:" after it): the rest of the log is the only context it has.
        block = f"{block}\n{whole_text}"
    status: Signal | None = None
    for signal in SIGNALS:
        if not signal.matches(line, block):
            continue
        if signal.name in _COARSE_STATUSES:
            status = status or signal
        elif status is None or signal.specific or not status.specific:
            return signal
    return status


def mark_local_module(line: str, block: str, whole_text: str) -> str:
    """Tag the block when a missing module's package is a directory of the project itself, outside
    any installed packages (`No module named 'utils'` with frames under /app/utils/...): the code is
    not on the path, no package is missing. For a dotted name the parent package must be local."""
    match = _MISSING_MODULE.search(line)
    if match is None:
        return block
    parts = match.group(1).split(".")
    probe = f"/{'/'.join(parts[:-1] if len(parts) > 1 else parts)}/"
    for text_line in f"{block}\n{whole_text}".split("\n"):
        if probe in text_line and _INSTALLED.search(text_line) is None:
            return block + "\n__local_module__"
    return block
