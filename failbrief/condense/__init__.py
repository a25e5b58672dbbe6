"""The condenser: a failed run's logs in, the lines that matter and a rule-based brief out.

A library with no Django and nothing else of failbrief: it reads log text (files, Prefect and
Airbyte records), finds the error blocks, redacts secrets, fits the context to a token budget,
and writes the offline brief (root cause, category, calibrated confidence, what to check).
import-linter (make lint) keeps it that way.

    from failbrief.condense.condenser import condense, read_log_file
    from failbrief.condense.offline import write_brief
    from failbrief.condense.brief import FailedUnitInfo

    brief = write_brief(condense(read_log_file("run.log")), FailedUnitInfo())
"""
