"""`failbrief condense` and `failbrief summarize` on corpus files, with no server and no Django."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from failbrief.cli.logs import condense_command, summarize_command
from failbrief.summarize.tests.conftest import DEV_CORPUS, PREFECT_DIR, REPO

LOG = DEV_CORPUS / "dbt-postgres-source-tables-missing-01" / "log.txt"


def test_condense_prints_the_context_and_its_stats():
    result = CliRunner().invoke(condense_command, [str(LOG), "--max-tokens", "1500"])
    assert result.exit_code == 0, result.output
    assert 'relation "netflix_data.genome_tags" does not exist' in result.stdout
    assert "tokens out" in result.stderr


def test_condense_json_reports_tokens_within_the_budget():
    result = CliRunner().invoke(condense_command, [str(LOG), "--json", "--max-tokens", "800"])
    data = json.loads(result.stdout)
    assert data["tokens"] <= 800
    assert data["lines_in"] == len(LOG.read_text().splitlines())
    assert data["error_blocks"][0] in data["text"]


def test_condense_accepts_a_baseline_and_reads_stdin():
    baseline = PREFECT_DIR / "a_logs_task.json"
    text = (PREFECT_DIR / "a2_logs_task.json").read_bytes()
    result = CliRunner().invoke(condense_command, ["-", "--baseline", str(baseline), "--json"], input=text)
    data = json.loads(result.stdout)
    assert "ValueError: Cannot convert order 0" in data["text"]
    assert data["baseline_lines_dropped"] > 0


def test_summarize_json_gives_the_brief_fields():
    result = CliRunner().invoke(summarize_command, [str(LOG), "--json"])
    data = json.loads(result.stdout)
    assert data["category"] == "config_error"
    assert data["failing_step"] == "model src.genome_tags"
    assert 'relation "netflix_data.genome_tags" does not exist' in data["root_cause"]
    assert set(data) >= {"evidence", "suggested_fix", "explanation", "confidence", "stats"}


def test_summarize_prints_a_readable_brief():
    result = CliRunner().invoke(summarize_command, [str(PREFECT_DIR / "b_logs_task_dbt_test.json")])
    assert "category: data_quality_test" in result.stdout
    assert "Got 1 result" in result.stdout


def test_the_installed_command_runs_without_django_settings():
    code = (
        "import sys\nfrom failbrief.cli import main\n"
        "try:\n    main(['condense', sys.argv[1], '--json'])\nexcept SystemExit:\n    pass\n"
        "assert not [m for m in sys.modules if m.startswith('django.db')]\n"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", code, str(LOG)], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["tokens"] <= 4000


def test_the_log_commands_import_no_django():
    code = (
        "import sys, failbrief.cli.logs\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert done.stdout.strip() == "[]"


def test_a_log_file_that_does_not_exist_is_one_clear_line_not_a_traceback(tmp_path):
    missing = tmp_path / "nightly.log"
    for command in (summarize_command, condense_command):
        result = CliRunner().invoke(command, [str(missing)])
        assert result.exit_code == 2
        assert "does not exist" in result.stderr
        assert str(missing) in result.stderr
        assert "Traceback" not in result.output + result.stderr


def test_summarize_prints_no_secret_of_the_task_name_in_the_log_or_of_the_state_message(tmp_path):
    """Prefect's own lines name the task run, and a templated name can hold a connection string;
    the failing step and the explanation are read from them, and the state message is quoted."""
    dsn = "postgresql://etl_loader:Wh1teRabbit-88@warehouse.internal/analytics"
    task = f"Task run 'copy_orders-{dsn}-0'"
    log = tmp_path / "task.log"
    log.write_text(
        f"12:00:01.000 | INFO    | {task} - Created task run\n"
        f"12:00:02.000 | ERROR   | {task} - Task run failed with exception: ValueError('boom')\n"
        "Traceback (most recent call last):\n"
        '  File "/app/flows/etl.py", line 12, in copy_orders\n'
        "    raise ValueError('boom')\n"
        "ValueError: boom\n"
        f"12:00:02.100 | ERROR   | {task} - Finished in state Failed('Task run encountered an exception')\n"
    )
    for extra in ([], ["--json"], ["--state-message", f"could not connect to {dsn}"]):
        result = CliRunner().invoke(summarize_command, [str(log), *extra])
        assert result.exit_code == 0, result.output
        assert "warehouse.internal" in result.stdout
        assert "Wh1teRabbit-88" not in result.stdout
