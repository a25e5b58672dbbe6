"""An error block keeps the statement a driver or tool prints after the error under its own label:
a person needs the SQL the database rejected."""

from __future__ import annotations

from failbrief.condense.condenser import condense

REPORT = [
    "DBMS:",
    "postgresql",
    "",
    "Error:",
    'org.postgresql.util.PSQLException: ERROR: syntax error at or near "where"',
    "  Position: 458",
    "",
    "SQL:",
    "insert into results.derived (statistic_value, measure_id)",
    "select 100.0 * st.val / statistic_value, 'UnmappedData'",
    "from results.derived",
    "join (select statistic_value as val from results.derived) as st",
    "where measure_id = 'ach_401:GlobalRowCnt'",
    "",
    "R version:",
    "R version 4.3.1 (2023-06-16)",
    "",
    "Attached base packages:",
    *[f"- package{i}" for i in range(40)],
]


def test_the_rejected_statement_stays_with_its_error():
    context = condense(REPORT)
    block = context.error_blocks[0]
    assert 'syntax error at or near "where"' in block
    assert "insert into results.derived (statistic_value, measure_id)" in block
    assert "where measure_id = 'ach_401:GlobalRowCnt'" in block
    assert "R version 4.3.1" not in block  # the section ends at its blank line
