"""failbrief events prints names and reasons as they are: a Prefect flow run may be named anything,
and a reason quotes whatever error came back, brackets included."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from failbrief.cli import main
from failbrief.events.models import FailureEvent

pytestmark = pytest.mark.django_db


def test_brackets_in_a_run_name_or_a_reason_are_printed_not_read_as_markup():
    FailureEvent.objects.create(
        raw_body="{}",
        shape="dalgo",
        flow_run_id="0b59dfe2-2741-41e2-8685-dbc036b23e5d",
        flow_run_name="nightly [/] [red]x",
        state_name="Failed",
        status=FailureEvent.Status.FAILED,
        status_reason="KeyError: '[bold]orders[/bold]'",
    )

    done = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["events"])

    assert done.exit_code == 0, done.output
    assert "nightly [/] [red]x" in done.output
    assert "KeyError: '[bold]orders[/bold]'" in done.output
