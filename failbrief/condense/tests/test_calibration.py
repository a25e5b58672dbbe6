"""Calibrated confidence: a signal says `high` only when the dev corpus backs it (calibration.py),
and the committed calibration is what the dev corpus measures with today's rules."""

from __future__ import annotations

import json

import pytest

from failbrief.condense.brief import FailedUnitInfo
from failbrief.condense.calibration import (
    CERTAIN_BY_DEFINITION,
    HIGH_SIGNALS,
    MIN_PRECISION,
    MIN_SUPPORT,
    RECORDS,
    Record,
    grants_high,
    measure,
    table_json,
)
from failbrief.condense.condenser import condense, read_log_file
from failbrief.condense.evidence import BY_NAME
from failbrief.condense.offline import offline_decision, write_brief
from failbrief.condense.tests.conftest import REPO

# The dev part, as bench/brief_quality.py reads it: every testdata/corpus* directory (never heldout/).
DEV_CASES = sorted(p.parent for p in (REPO / "testdata").glob("corpus*/*/case.json"))


def _dev_outcomes() -> list[tuple[str, bool, str]]:
    """(signal that decided alone, category right, confidence given) for each dev case it did so."""
    out = []
    for case_dir in DEV_CASES:
        label = json.loads((case_dir / "case.json").read_text())["category"]
        decision = offline_decision(condense(read_log_file(case_dir / "log.txt")), FailedUnitInfo())
        if decision.eligible:
            out.append((decision.rule, decision.category == label, decision.confidence))
    return out


def test_the_committed_calibration_is_what_the_dev_corpus_measures_with_the_current_rules():
    outcomes = _dev_outcomes()
    measured = measure((name, right) for name, right, _ in outcomes)
    # On failure: run `bench/brief_quality.py --calibrate` and commit the calibration_records.json it writes
    assert measured == RECORDS, table_json(measured)
    for name, _, confidence in outcomes:
        assert confidence == ("high" if name in HIGH_SIGNALS else "medium"), name


def test_every_high_dev_brief_comes_from_a_signal_the_calibration_grants():
    assert all(confidence == "medium" for name, _, confidence in _dev_outcomes() if name not in HIGH_SIGNALS)
    assert set(BY_NAME) >= HIGH_SIGNALS
    assert all(BY_NAME[name].specific for name in HIGH_SIGNALS | CERTAIN_BY_DEFINITION)


@pytest.mark.parametrize(
    ("name", "record", "granted"),
    [
        ("undefined-object", Record(MIN_SUPPORT, MIN_SUPPORT), True),  # 3/3: enough support
        ("undefined-object", Record(MIN_SUPPORT - 1, MIN_SUPPORT - 1), False),  # 2/2: too few cases
        ("undefined-object", Record(20, 19), True),  # 95%
        ("undefined-object", Record(20, 18), False),  # 90%: one wrong brief in ten is not high
        ("undefined-object", None, False),  # never seen deciding a dev brief
        ("http-429", Record(1, 1), True),  # certain by definition: one case is enough...
        ("http-429", Record(6, 5), False),  # ...unless the dev corpus contradicts it
    ],
)
def test_the_rule_grants_high_on_dev_precision_with_support_or_on_a_code_certain_by_definition(
    name, record, granted
):
    assert grants_high(name, record) is granted
    assert MIN_PRECISION >= 0.95


def test_a_specific_signal_the_dev_corpus_does_not_back_says_medium_and_hedges_its_fix():
    assert "tls" not in HIGH_SIGNALS
    brief = write_brief(
        condense(
            [
                "2024-05-02 10:00:00 ERROR - requests.exceptions.SSLError: "
                "HTTPSConnectionPool(host='api.x.io', port=443): Max retries exceeded "
                "(Caused by SSLError(SSLCertVerificationError(1, "
                "'[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed')))"
            ]
        ),
        FailedUnitInfo(),
    )
    assert (brief.category, brief.confidence) == ("network", "medium")
    assert brief.suggested_fix.startswith("Likely, not certain")
    assert BY_NAME["tls"].check in brief.suggested_fix


def test_a_code_certain_by_definition_says_high_with_its_own_check():
    assert "http-429" in HIGH_SIGNALS
    brief = write_brief(
        condense(["2024-05-02 10:00:03 ERROR source > Stream events: 429 Too Many Requests"]),
        FailedUnitInfo(),
    )
    assert (brief.category, brief.confidence) == ("rate_limit", "high")
    assert brief.suggested_fix == BY_NAME["http-429"].check
