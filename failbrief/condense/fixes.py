"""The offline summarizer's rule table: per category, what it means and what to try first.

Documented in docs/condenser.md; keep the two in step. Pure: no Django.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fix:
    """`meaning` completes "This looks like ..."; `action` is the first thing to try."""

    meaning: str
    action: str


FIXES: dict[str, Fix] = {
    "source_connection": Fix(
        "the pipeline could not reach or open a connection to a database or source system",
        "Check that the source host and port are reachable from the worker (firewall, VPN, SSH tunnel, "
        "allow-listed IPs) and that the service is up, then re-run the connection check.",
    ),
    "auth_credentials": Fix(
        "a credential was rejected or lacks a permission the step needs",
        "Verify the credentials or token have not expired or been rotated, and grant the missing "
        "permission (role, dataset or schema grant) to the account the pipeline uses.",
    ),
    "schema_mismatch": Fix(
        "the data's columns or types no longer match what the step expects",
        "Compare the upstream table's current columns and types with the model or stream schema; "
        "refresh the source schema (Airbyte) or update the model to the renamed/retyped column.",
    ),
    "sql_error": Fix(
        "the database rejected the SQL the step generated or ran",
        "Open the compiled SQL named in the error, run it directly against the warehouse, and fix the "
        "syntax, function or type the database rejects (dialect differences are common).",
    ),
    "data_quality_test": Fix(
        "a data test found rows that violate an expectation",
        "Query the failing test's compiled SQL to see the offending rows, then fix the upstream data or "
        "adjust the test (severity, where clause, accepted values) if the rows are legitimate.",
    ),
    "resource_limit_oom_timeout": Fix(
        "the step ran out of memory or time and was stopped",
        "Give the worker or connector more memory (or time), or reduce the batch/page size and "
        "parallelism so the step fits within its limits.",
    ),
    "config_error": Fix(
        "the step's configuration points at something that is missing or invalid",
        "Check the paths, profile/target, environment variables and object names the step is configured "
        "with, and create or load the missing database, table, file or setting.",
    ),
    "dependency_version": Fix(
        "a package is missing, or installed versions are incompatible or hit a known tool bug",
        "Pin compatible versions (dbt-core and adapter, connector image, Python packages), reinstall "
        "dependencies, and check the tool's changelog or issue tracker for the error.",
    ),
    "network": Fix(
        "the network connection failed or was interrupted mid-transfer",
        "Retry the run; if it recurs, check DNS, proxies, TLS certificates, tunnel keep-alives and "
        "timeouts between the worker and the remote system.",
    ),
    "destination_write": Fix(
        "the destination rejected or failed to write the synced data",
        "Check the destination connector's version and the table/column names it writes (reserved words, "
        "quoting), and the destination's permissions and quotas; upgrade or pin the connector.",
    ),
    "code_bug": Fix(
        "the code raised a programming error",
        "Open the last frame of the traceback in your code, reproduce with the failing input, and "
        "handle the unexpected value (missing key, None, wrong type).",
    ),
    "rate_limit": Fix(
        "the remote API refused requests because a rate limit or quota was exceeded",
        "Lower the request rate or concurrency, enable backoff, spread the sync over a longer window, "
        "or ask the provider for a higher quota.",
    ),
    "unknown": Fix(
        "the logs do not name a specific cause",
        "Open the full run logs and the worker/infrastructure logs around the failure time; the process "
        "may have exited before it could log the real error.",
    ),
}
