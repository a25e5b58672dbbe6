"""Secrets never leave the process: known patterns are redacted, diagnostic text is not touched."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from failbrief.condense.condenser import condense, read_log_file
from failbrief.condense.redact import REDACTED, redact
from failbrief.condense.tests.conftest import CORPUS_DIR

# (line as a tool would log it, the secret in it)
SAMPLES = [
    (
        "sqlalchemy.exc.OperationalError: postgresql://etl_user:Pa55w0rd!x@10.0.0.5:5432/warehouse",
        "Pa55w0rd!x",
    ),
    ("Connecting to mysql+pymysql://root:toor-secret@mysql:3306/app", "toor-secret"),
    (
        "DEBUG send: b'GET /v2/tickets HTTP/1.1\\r\\nAuthorization: Bearer ya29.a0AfH6SMBx-3kq9ZzR0'",
        "ya29.a0AfH6SMBx-3kq9ZzR0",
    ),
    ("headers={'Authorization': 'Basic dXNlcjpwYXNzd29yZA=='}", "dXNlcjpwYXNzd29yZA=="),
    ("using aws_access_key_id AKIAIOSFODNN7EXAMPLE for s3://bucket", "AKIAIOSFODNN7EXAMPLE"),
    (
        "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ),
    (
        "export GITHUB_TOKEN=ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
    ),
    ("SNOWFLAKE_PASSWORD: 'correct-horse-battery'", "correct-horse-battery"),
    ("config: {'host': 'db', 'password': 'hunter22', 'port': 5432}", "hunter22"),
    ('{"client_secret": "9f8e7d6c5b4a39281706", "client_id": "abc"}', "9f8e7d6c5b4a39281706"),
    ("GET https://api.example.com/v1/items?api_key=sk_live_51Habc123XYZ&page=2", "sk_live_51Habc123XYZ"),
    ("dsn=host=db user=etl password=s3cret! dbname=raw", "s3cret!"),
    (
        "token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
    ),
    ("secret=abc123def456", "abc123def456"),
]
KEY_BODY = "MIIEowIBAAKCAQEA7bq3Xc8Kx1vQ2kPz9nL4mW8sT6yR3uJ0aB5cD7eF9gH1iJ2kL3mN"
PRIVATE_KEY = (
    f"-----BEGIN RSA PRIVATE KEY-----\n{KEY_BODY}\nq9ZzR0ExampleKeyBody==\n-----END RSA PRIVATE KEY-----"
)
# Anything matching these after redaction is a leaked secret.
LEAK_PATTERNS = [
    re.compile(p) for p in (r"://[^\s:/@]+:(?!\[REDACTED\])[^\s@/]+@", r"AKIA[A-Z0-9]{16}", r"eyJ\w{8,}\.eyJ")
]


@pytest.mark.parametrize(("line", "secret"), SAMPLES)
def test_each_known_secret_pattern_is_redacted(line, secret):
    assert secret not in redact(line)
    assert REDACTED in redact(line)


def test_a_private_key_block_is_redacted_whole():
    text = f"loading key\n{PRIVATE_KEY}\nnext line"
    out = redact(text)
    assert KEY_BODY not in out
    assert out.startswith("loading key\n")
    assert out.endswith("next line")


def test_redaction_keeps_user_host_and_key_names_for_diagnosis():
    out = redact("could not connect to postgresql://etl_user:Pa55w0rd@db.internal:5432/raw")
    assert out == "could not connect to postgresql://etl_user:[REDACTED]@db.internal:5432/raw"
    assert redact("DB_PASSWORD=x1y2z3") == "DB_PASSWORD=[REDACTED]"


def test_redaction_is_idempotent():
    for line, _secret in SAMPLES:
        assert redact(redact(line)) == redact(line)


def test_error_messages_about_passwords_are_not_altered():
    for line in (
        'FATAL:  password authentication failed for user "etl"',
        "Invalid credentials: check the token in the connection settings",
        "exceptionCaught(ClientSessionImpl[airbyte@bastion.ec2.test.com/x.x.x.x:22])",
        "Unexpected token ')' at line 3",
    ):
        assert redact(line) == line


def _cases() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*/case.json"))


def test_redaction_never_alters_a_corpus_must_keep_string():
    for case_file in _cases():
        for must_keep in json.loads(case_file.read_text())["must_keep"]:
            assert redact(must_keep) == must_keep, case_file.parent.name


def test_no_known_secret_survives_in_any_corpus_context(tmp_path):
    injected = "\n".join(line for line, _secret in SAMPLES) + "\n" + PRIVATE_KEY + "\n"
    for case_file in _cases():
        log = (case_file.parent / "log.txt").read_text(encoding="utf-8", errors="replace")
        lines = log.splitlines(keepends=True)
        middle = len(lines) // 2
        polluted = tmp_path / f"{case_file.parent.name}.log"
        polluted.write_text("".join(lines[:middle]) + "ERROR " + injected + "".join(lines[middle:]))
        context = condense(read_log_file(polluted), max_tokens=8000)
        leaked = [s for _l, s in SAMPLES if s in context.text] + [
            p.pattern for p in LEAK_PATTERNS if p.search(context.text)
        ]
        assert leaked == [], case_file.parent.name
        assert KEY_BODY not in context.text


def test_a_padded_line_is_redacted_in_one_pass_however_long_its_run_of_spaces():
    # detect-secrets' assignment patterns backtrack cubically on spaces that end in no value: the
    # second line took hours before redact_detectors.py compiled them in their linear form.
    key = "A1b2C3d4E5" * 4 + "f6G7"  # an IBM Cloud IAM key shape: 44 characters
    padded = "| ibm_api_key" + " " * 2000 + key + " |"
    assert redact(padded) == "| ibm_api_key" + " " * 2000 + REDACTED + " |"
    no_value = "| api_key" + " " * 2000 + "|"
    assert redact(no_value) == no_value
