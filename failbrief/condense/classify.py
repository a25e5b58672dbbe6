"""Failure category from error lines: an ordered rule table of general keyword families. Pure: no Django.

Precedence (first rule that matches wins, so order encodes what a human would blame first):

1. rate_limit                  429 / Too Many Requests / rate limit / quota exceeded
2. network (timeouts)          connect/read timeouts are transport problems, not resource limits
3. resource_limit_oom_timeout  OOM, heap space, exit 137 / -9 / SIGKILL, statement timeouts, disk full
4. auth_credentials            401/403, permission/access denied, authentication failed, bad keys
5. dependency_version          tool-internal errors, version conflicts, missing installed packages
6. config_error                a missing module that is part of the project itself (not on the path)
7. data_quality_test           dbt `Got N results`, `FAIL N`, failed expectations
8. schema_mismatch             missing/unknown columns, type mismatches, bad casts
9. config_error                missing project/profile files, bad CLI options, missing database,
                               relation or table, unset env vars (KeyError on os.environ)
10. destination_write          any error raised by an Airbyte destination
11. network                    resets, broken pipes, DNS, TLS, 5xx gateways
12. source_connection          cannot connect / connection refused to a database or source
13. sql_error                  the database rejected the SQL (syntax, functions, types, constraints)
14. code_bug                   Python/Java programming errors (TypeError, KeyError, NullPointer...)
15. unknown

Each rule is (category, pattern over the line, optional pattern the surrounding block must match).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from failbrief.condense.evidence import mark_local_module

_SOURCE_CONTEXT = r"(?i)\bsource >|source connector|source connection|\bsource-\w+|failureOrigin\W+source"
# An Airbyte destination: its log prefix (`destination >`, older `destination - 2021-...`), its
# image, its failure origin, or its code (Java io.airbyte.integrations.destination.*, Python
# integration_code/destination_*/).
_DESTINATION_CONTEXT = (
    r"(?i)\bdestination >|\bdestination - \d{4}-\d\d-\d\d|destination connector|failureOrigin\W+destination"
    r"|\bdestination-\w+|DestinationException|Failure in destination|\bintegrations\.destination\."
    r"|\bdestination_[a-z]\w*/|\bdlt\.destinations\."
)


@dataclass(frozen=True)
class Rule:
    """One row of the table: `category` when `pattern` matches a line (and `context` its block)."""

    category: str
    name: str
    pattern: re.Pattern[str]
    context: re.Pattern[str] | None = None
    unless_context: re.Pattern[str] | None = None

    def matches(self, line: str, block: str) -> bool:
        if not self.pattern.search(line):
            return False
        if self.context is not None and not self.context.search(block):
            return False
        return self.unless_context is None or not self.unless_context.search(block)


def _rule(
    category: str, name: str, pattern: str, context: str | None = None, unless: str | None = None
) -> Rule:
    return Rule(
        category,
        name,
        re.compile(pattern),
        re.compile(context) if context else None,
        re.compile(unless) if unless else None,
    )


RULES: tuple[Rule, ...] = (
    _rule(
        "rate_limit",
        "http-429",
        r"(?i)\b429\b.{0,40}(?:too many|rate|request|client error)|(?:status|code|response|http)\W{0,12}"
        r"(?:code\W{0,3})?429\b|too many requests|rate[ -]?limit|ratelimit|quota (?:exceeded|exhausted)"
        r"|throttl|RESOURCE_EXHAUSTED|request limit",
    ),
    _rule(
        "network",
        "connect-timeout",
        r"(?i)(?:connect|connection|socket|read)\w*(?: \w+){0,3} timed? ?out"
        r"|(?:Socket|Connect|Read|Write)Timeout",
    ),
    _rule(
        "resource_limit_oom_timeout",
        "memory-or-time-limit",
        r"(?i)out ?of ?memory|heap space|GC overhead|OOMKilled|\bOOM\b|MemoryError|memory limit"
        r"|exit(?:ed with)? (?:status )?(?:code:? )?(?:137|-9)\b|status code:? -9|SIGKILL|signal 9|\bKilled\b"
        r"|statement timeout|timed? ?out|TimeoutError|deadline exceeded|no space left|disk (?:is )?full"
        r"|resources exceeded|exceeded (?:the )?(?:memory|time|cpu)",
    ),
    _rule(
        "auth_credentials",
        "denied-or-unauthenticated",
        r"(?i)\b40[13]\b.{0,20}(?:forbidden|unauthori[sz]ed|client error)"
        r"|(?:status|code|http)\W{0,12}40[13]\b"
        r"|forbidden|unauthori[sz]ed|access denied|permission denied|permission_denied|permission \S+ denied"
        r"|authentication failed|authenticat\w+ error|invalid (?:credentials|password|api.?key|token|grant)"
        r"|invalid_grant|InvalidAccessKeyId|SignatureDoesNotMatch|expired ?token|token (?:has )?expired"
        r"|not authori[sz]ed|insufficient (?:privilege|permission)|must be owner|login failed"
        r"|password authentication|AccessDenied|does not have \S+ permission",
    ),
    _rule(
        "dependency_version",
        "tool-internal-or-version",
        r"(?i)internally failed|this is an error in dbt|internal error|version conflict|VersionConflict"
        r"|incompatible (?:version|with)|is not compatible|requires .{1,60} but .{1,60} is installed"
        r"|ResolutionImpossible|could not find a (?:\w+ ){0,2}version|version error for package"
        r"|no matching distribution|unsupported version"
        r"|cannot import name|ImportError|DistributionNotFound|package .{1,60} not found"
        r"|deprecated and removed",
    ),
    _rule(
        "config_error",
        "local-module-not-on-path",
        r"No module named '([\w.]+)'",
        context=r"(?s)__local_module__",
    ),
    _rule("dependency_version", "missing-package", r"No module named|ModuleNotFoundError"),
    _rule(
        "data_quality_test",
        "failing-rows",
        r"\bGot \d+ results?, configured to|\bFAIL [1-9]\d*\b|expectation \S+ failed|(?i:failing rows)"
        r"|(?i:data (?:quality|validation) (?:check|test) failed)",
    ),
    _rule(
        "schema_mismatch",
        "column-or-type",
        r"(?i)column .{0,80}(?:does not exist|not found|cannot be null)|unrecogni[sz]ed (?:name|column|field)"
        r"|unknown column|no such column|invalid column|invalid identifier|schema mismatch"
        r"|does not match (?:the )?(?:table )?schema|type mismatch|incompatible types?|cannot be cast"
        r"|cannot cast|invalid input syntax for (?:type|integer)|value too long for type"
        r"|out of range for type"
        r"|no such field|field .{0,40} not found|missing (?:required )?(?:column|field)|schema validation"
        r"|columns? .{0,40}(?:missing|mismatch)|Name \S+ not found inside",
    ),
    _rule(
        "config_error",
        "missing-config-or-object",
        r"(?i)dbt_project\.yml|profiles\.yml|could not find profile|profile .{0,40}not found"
        r"|no profile (?:was |is )?(?:specified|configured|found)"
        r"|invalid value for '--"
        r"|no such file or directory|env var(?:iable)? .{0,60}(?:not|required)|is not set|missing required"
        r"|invalid (?:config|configuration|project|profile)|parsing error|compilation error"
        r"|depends on a node named|relation \"?[\w.\"`-]+\"? does not exist"
        r"|(?:database|schema|dataset|table|bucket|project|catalog|warehouse) \"?[\w.\"`-]+\"? does not exist"
        r"|not found: (?:table|dataset|project)|table \S+ (?:was )?not found|object .{0,60} does not exist"
        r"|usage: |no such option|unrecognized arguments",
    ),
    _rule("config_error", "missing-env-var", r"KeyError", context=r"environ|getenv|env_var"),
    _rule(
        "destination_write", "destination-error", r"(?i)error|exception|fail", context=_DESTINATION_CONTEXT
    ),
    _rule(
        "network",
        "transport",
        r"(?i)connection reset|reset by peer|ECONNRESET|broken pipe|SocketException|name or service not known"
        r"|temporary failure in name resolution|nodename nor servname|getaddrinfo|no route to host"
        r"|network is unreachable|SSL(?:Error|Exception)|certificate verify failed|handshake"
        r"|RemoteDisconnected|connection aborted|ChunkedEncodingError|IncompleteRead|\b50[234]\b.{0,20}"
        r"(?:bad gateway|service unavailable|gateway)|ConnectionError|connection closed",
    ),
    _rule(
        "source_connection",
        "cannot-connect",
        r"(?i)could not connect|connection refused|unable to connect|cannot connect|could not open connection"
        r"|communications link failure|checking (?:source )?connection failed"
        r"|connection to server .{0,80}failed|connection to \S{1,80} refused"
        r"|failed to connect|ssh tunnel|connection check failed",
    ),
    _rule(
        "sql_error",
        "database-rejected-sql",
        r"(?i)database error|sql compilation error|syntax error|ProgrammingError"
        r"|function .{0,80} does not exist"
        r"|operator does not exist|type \"?[\w.]+\"? does not exist|already exists|must have an alias"
        r"|must appear in the group by|is ambiguous|division by zero|duplicate key"
        r"|violates .{0,40} constraint"
        r"|SQLException|invalidQuery|query error|sql error|psycopg2?\.errors",
    ),
    _rule(
        "code_bug",
        "programming-error",
        r"\b(?:TypeError|KeyError|ValueError|AttributeError|IndexError|NameError|ZeroDivisionError"
        r"|AssertionError|UnboundLocalError|NotImplementedError|RecursionError|SyntaxError|IndentationError"
        r"|StopIteration|UnicodeDecodeError|UnicodeEncodeError|JSONDecodeError|NullPointerException"
        r"|ClassCastException|IllegalArgumentException|IllegalStateException|IndexOutOfBoundsException"
        r"|NumberFormatException|ArithmeticException|UnsupportedOperationException)\b",
    ),
)


def classify(evidence: Sequence[tuple[str, str]], whole_text: str = "") -> tuple[str, str]:
    """(category, rule name) for `evidence`: (line, its block text) pairs, most important first.

    Each line is tried against the whole table before the next line is looked at, so the most
    important line decides and precedence only breaks ties within one line. `whole_text` (the
    context) tells a project-local missing module from a missing package.
    """
    for line, block in evidence:
        marked = mark_local_module(line, block, whole_text)
        for rule in RULES:
            if rule.matches(line, marked):
                return rule.category, rule.name
    return "unknown", "no-rule"
