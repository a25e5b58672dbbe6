"""Which step failed: the dbt node, Airbyte stream or connector, Airflow/Prefect task. Pure: no Django.

Patterns are tried most specific first; within one pattern, texts are tried in the order given
(the caller passes its most important error lines first).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

_NODE = r"([\w][\w.\-]*[\w])"
_STEP_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), label)
    for pattern, label in (
        (
            rf"\b(?:Failure|(?:Database|Compilation|Runtime|Internal) Error) in "
            rf"(model|test|snapshot|seed|source|unit_test|operation|macro) {_NODE}",
            "{0} {1}",
        ),
        (r"internally failed to execute (model|test|snapshot|seed)\.[\w\-]+\." + _NODE, "{0} {1}"),
        (rf"\bERROR creating sql \w+ model {_NODE}", "model {0}"),
        (rf"\bERROR snapshotting (?:snapshots\.)?{_NODE}", "snapshot {0}"),
        (rf"\b\d+ of \d+ (?:FAIL \d+|ERROR) {_NODE}", "dbt node {0}"),
        (rf"while reading stream {_NODE}", "stream {0}"),
        (rf"\b[Ss]tream(?: named|:|=)\s*['\"]?{_NODE}", "stream {0}"),
        (r"Failure in (source|destination) connector", "{0} connector"),
        (rf"\btask_id=['\"]?{_NODE}", "task {0}"),
        (r"Task run '([^']+)'", "task {0}"),
        (r"Executing <Task\(\w+\): ([\w.\-]+)>", "task {0}"),
        (r"\b(source|destination) > .*(?:Exception|Error)", "{0} connector"),
    )
)


def find_failing_step(texts: Sequence[str]) -> str | None:
    """The failing step named by the first matching pattern, e.g. "model customer_revenue"."""
    for pattern, label in _STEP_PATTERNS:
        for text in texts:
            match = pattern.search(text)
            if match:
                return label.format(*match.groups())
    return None
