"""The condenser keeps what a human needs, drops the rest, and never exceeds its budget."""

from __future__ import annotations

import io
import json

from failbrief.condense.condenser import (
    condense,
    read_log_file,
    read_log_stream,
    records_from_lines,
    records_from_prefect,
)
from failbrief.condense.records import LogRecord
from failbrief.condense.tests.conftest import DEV_CORPUS, PREFECT_DIR
from failbrief.condense.tokens import count_tokens


def _prefect(name: str):
    return read_log_file(PREFECT_DIR / name)


def test_it_keeps_the_dbt_database_error_of_a_prefect_dbt_run_without_colour_codes():
    context = condense(_prefect("b_logs_task_dbt_run.json"))
    assert "Database Error in model customer_revenue" in context.text
    assert "column o.amount_usd does not exist" in context.text
    assert "\x1b[" not in context.text
    assert "PID 8321 stream output:" not in context.text
    assert context.failing_step == "model customer_revenue"


def test_it_keeps_each_failing_dbt_test_and_its_result_count():
    context = condense(_prefect("b_logs_task_dbt_test.json"))
    assert "Failure in test not_null_stg_orders_customer_id (models/staging/schema.yml)" in context.text
    assert "Failure in test accepted_values_stg_orders_status__completed__shipped" in context.text
    assert "Got 1 result" in context.text


def test_it_keeps_a_failed_prefect_tasks_traceback_whole():
    for name in ("a_logs_task.json", "a2_logs_task.json"):
        context = condense(_prefect(name))
        assert "KeyError: None" in context.text
        assert "ValueError: Cannot convert order 0: unsupported currency None" in context.text
        assert 'rate = {"INR": 1.0, "USD": 83.2}[row["currency"]]' in context.text
        assert "The above exception was the direct cause of the following exception:" in context.text


def test_it_folds_the_prefect_finished_in_state_failed_echo_of_task_and_flow():
    records = [
        LogRecord(
            "Finished in state Failed('Task run encountered an exception ValueError: bad row 7')",
            40,
            source="prefect",
        ),
        LogRecord(
            "Finished in state Failed('Flow run encountered an exception: ValueError: bad row 7')",
            40,
            source="prefect",
        ),
    ]
    context = condense(records)
    assert context.text.count("Finished in state Failed(") == 1
    assert "seen 2 times" in context.text


def test_it_keeps_an_early_source_error_buried_under_thousands_of_shutdown_lines():
    lines = ["2024-05-01 10:00:00 source > Starting sync of stream orders"]
    lines += [
        "2024-05-01 10:00:01 source > ERROR psycopg.OperationalError: connection to 10.1.2.3 failed: timeout"
    ]
    lines += [
        f"2024-05-01 10:{i // 60 % 60:02d}:{i % 60:02d} replication-orchestrator > INFO Closing buffer {i}"
        for i in range(9000)
    ]
    context = condense(lines)
    assert "psycopg.OperationalError: connection to 10.1.2.3 failed: timeout" in context.text
    assert context.lines_in == 9002
    assert context.tokens <= 4000
    assert "Closing buffer" in context.text  # the tail of the log is still shown


def test_it_collapses_repeated_warnings_into_one_template_with_a_count():
    lines = [
        f"2024-01-01 00:00:{i % 60:02d} WARN retrying request {i} after 429 (attempt {i})" for i in range(500)
    ]
    lines.append("2024-01-01 00:01:00 ERROR sync failed: Too Many Requests")
    context = condense(lines)
    assert "[x" in context.text
    assert context.text.count("retrying request") < 20


def test_it_never_exceeds_the_token_budget_even_when_small():
    log = DEV_CORPUS / "dbt-postgres-backup-relation-exists-01" / "log.txt"
    for budget in (120, 400, 1500, 4000):
        context = condense(read_log_file(log), max_tokens=budget)
        assert count_tokens(context.text) == context.tokens <= budget


def test_a_block_larger_than_the_budget_keeps_its_head_and_tail():
    frames = [
        f'  File "/app/step_{i}.py", line {i}, in call_{i}\n    return call_{i + 1}()' for i in range(400)
    ]
    message = (
        "Task failed\nTraceback (most recent call last):\n" + "\n".join(frames) + "\nRecursionError: too deep"
    )
    context = condense([LogRecord(message, 40, source="prefect")], max_tokens=600)
    assert context.tokens <= 600
    assert "Traceback (most recent call last):" in context.text
    assert "RecursionError: too deep" in context.text
    assert "omitted" in context.text


def test_a_java_stack_trace_keeps_its_first_frames_and_caused_by_chain():
    lines = [
        '2024-01-01 00:00:00 destination > Exception in thread "main" java.lang.RuntimeException: write err'
    ]
    lines += [
        f"2024-01-01 00:00:00 destination > \tat io.airbyte.Writer.step{i}(Writer.java:{i})"
        for i in range(60)
    ]
    lines += ["2024-01-01 00:00:00 destination > Caused by: java.sql.SQLException: disk quota exceeded"]
    lines += [
        f"2024-01-01 00:00:00 destination > \tat org.postgresql.Conn.x{i}(Conn.java:{i})" for i in range(60)
    ]
    context = condense(lines)
    assert "java.lang.RuntimeException: write err" in context.text
    assert "Caused by: java.sql.SQLException: disk quota exceeded" in context.text
    assert "Writer.step0(" in context.text
    assert "Writer.step59(" not in context.text
    assert "more frames omitted" in context.text


def test_a_baseline_of_successful_runs_drops_normal_noise_and_keeps_the_error():
    noise = [f"2024-01-01 00:00:{i:02d} WARN deprecated option fail_mode={i} ignored" for i in range(40)]
    failing = [*noise, '2024-01-01 00:01:00 ERROR relation "raw.orders" does not exist']
    plain = condense(failing)
    based = condense(failing, baseline=noise)
    assert 'relation "raw.orders" does not exist' in based.text
    assert "deprecated option" in plain.text
    assert "deprecated option" not in based.text
    assert based.tokens < plain.tokens
    assert based.baseline_lines_dropped > 0


def test_the_context_is_redacted():
    lines = [
        "2024-01-01 00:00:00 ERROR could not connect to postgresql://loader:s3cr3tPass@db.internal:5432/raw",
        "2024-01-01 00:00:01 INFO retry with SNOWFLAKE_PASSWORD=hunter2hunter2",
    ]
    context = condense(lines)
    assert "s3cr3tPass" not in context.text
    assert "postgresql://loader:[REDACTED]@db.internal:5432/raw" in context.text


def test_the_header_goes_first():
    context = condense(["ERROR boom"], header="Flow etl / task load: Failed")
    assert context.text.splitlines()[1] == "Flow etl / task load: Failed"


def test_raw_lines_and_file_chunks_give_the_same_context():
    log = DEV_CORPUS / "dbt-bigquery-unrecognized-column-01" / "log.txt"
    raw = log.read_text(encoding="utf-8").splitlines(keepends=True)
    assert condense(raw).text == condense(read_log_file(log)).text == condense(records_from_lines(raw)).text


def test_read_log_stream_detects_prefect_json_csv_json_lines_and_text():
    prefect = json.loads((PREFECT_DIR / "a_logs_task.json").read_text())
    assert [r.message for r in read_log_file(PREFECT_DIR / "a_logs_task.json")] == [
        r.message for r in records_from_prefect(prefect)
    ]
    csv_records = list(read_log_file(PREFECT_DIR / "b_logs_download.csv"))
    assert csv_records[0].source == "prefect"
    assert any("Database Error in model customer_revenue" in r.message for r in csv_records)
    jsonl = b'{"level": "ERROR", "message": "boom", "timestamp": "2024-01-01T00:00:00Z"}\n{"msg": "ok"}\n'
    records = list(read_log_stream(io.BytesIO(jsonl)))
    assert (records[0].message, records[0].level, records[1].message) == ("boom", 40, "ok")
    airflow = b"[2023-09-20T12:28:48.786+0000] {taskinstance.py:1157} INFO - Dependencies all met\n"
    assert [r.message for r in read_log_stream(io.BytesIO(airflow))] == [airflow.decode().rstrip("\n")]


def test_an_airbyte_trace_error_event_becomes_a_failure_reason_block():
    event = {
        "type": "TRACE",
        "trace": {
            "type": "ERROR",
            "error": {
                "message": "Something went wrong in the connector.",
                "internal_message": "HTTP 401 Unauthorized",
                "failure_type": "config_error",
            },
        },
    }  # fmt: skip
    stream = io.BytesIO((json.dumps({"type": "LOG", "log": {"level": "INFO", "message": "hi"}}) + "\n"
                         + json.dumps(event) + "\n").encode())  # fmt: skip
    context = condense(read_log_stream(stream))
    assert "internalMessage: HTTP 401 Unauthorized" in context.error_blocks[0]


def test_token_counts_are_exact_o200k_base():
    import bpe_openai

    text = (DEV_CORPUS / "dbt-deps-keyerror-packages-01" / "log.txt").read_text(encoding="utf-8")
    assert count_tokens(text) == len(bpe_openai.get_encoding("o200k_base").encode_ordinary(text))
    context = condense(read_log_file(DEV_CORPUS / "dbt-deps-keyerror-packages-01" / "log.txt"))
    assert context.tokens_in == count_tokens(text.rstrip("\n") + "\n")


def _error_heavy_log() -> list[str]:
    """Many kinds of error block, more than the condenser keeps, each repeated with new times and
    ids; some open alike and go on differently, some differ only in a digit that matters (exit
    code 0 or 1, 0 or 1 errors, HTTP 428 or 429), some carry colour codes."""
    words = [
        "alpha",
        "bravo",
        "charlie",
        "delta",
        "echo",
        "foxtrot",
        "golf",
        "hotel",
        "india",
        "juliet",
        "kilo",
        "lima",
        "mike",
    ]
    kinds = [(first, second) for first in words for second in words[:7]]
    rows: list[str] = []
    for round_ in range(3):
        for number, (first, second) in enumerate(kinds):
            stamp = f"2024-01-0{round_ + 1} 10:{number % 60:02d}:{(number * 7 + round_) % 60:02d}"
            rows += [
                f"{stamp} ERROR task {first} failed with id {number * 31 + round_:06x}",
                "Traceback (most recent call last):",
                f'  File "/app/{first}.py", line {10 + round_}, in run',
                f"    {second}_step()",
                f"ValueError: {second} value {round_} out of range",
                f"{stamp} INFO \x1b[31mprocess exited with exit code {(number + round_) % 2}\x1b[0m",
                f"{stamp} ERROR Completed with {(number + round_) % 2} error and 0 warnings",
                f"{stamp} INFO next step {first}",
                f"rpc deadline exceeded calling {first}.{second}",
                f"    exit code {(number + round_) % 2}",
                f"    HTTP {428 + (number + round_) % 2} from {second}",
                *([f"    retrying {second}"] if round_ == 2 and number % 3 == 0 else []),
            ]
    return rows


def test_a_baseline_that_matches_nothing_changes_nothing_on_an_error_heavy_log():
    # With a baseline the scan reads every block line by line; without one it counts repeats by
    # shape and remembers ranks: both must find the same blocks and give the same context.
    rows = _error_heavy_log()
    plain = condense(rows, max_tokens=60_000)  # room for every block kept, in rank order
    based = condense(rows, max_tokens=60_000, baseline=["2024-01-01 00:00:00 INFO no failed run prints this"])
    assert plain.blocks_found == based.blocks_found > 4 * 91
    assert plain.text == based.text
    assert plain.error_blocks == based.error_blocks
