"""Failure signatures: the same failure with other ids, times and numbers is the same failure."""

from __future__ import annotations

from failbrief.summarize.providers.offline import OfflineProvider
from failbrief.summarize.signature import failure_signature, normalized
from failbrief.summarize.tests.llm_cases import DBT_LOG, UNIT, dbt_context


def signature_of(lines: list[str]) -> str:
    return failure_signature(OfflineProvider().write_brief(dbt_context(lines), UNIT))


def test_ids_numbers_timestamps_and_paths_do_not_change_the_signature():
    tonight = [
        line.replace("12:00", "23:41").replace("0.41s", "3.07s").replace("LINE 12", "LINE 14")
        for line in DBT_LOG
    ]
    assert signature_of(tonight) == signature_of(DBT_LOG) != ""


def test_another_error_is_another_signature():
    other = [line.replace("o.amount_usd", "o.currency") for line in DBT_LOG]
    assert signature_of(other) != signature_of(DBT_LOG)


def test_a_log_without_an_error_line_has_no_signature():
    assert signature_of(["12:00:01  Running with dbt=1.8.2", "12:00:02  Found 12 models"]) == ""


def test_normalization_keeps_the_words_and_drops_what_varies():
    line = (
        "2024-05-02T10:11:12.345Z ERROR run 0b59dfe2-2741-41e2-8685-dbc036b23e5d "
        "job 8812 /home/etl/project/models/x.sql: relation orders does not exist"
    )
    assert normalized(line) == "<time> error run <id> job <n> <path>: relation orders does not exist"
