"""failbrief.client played as Dalgo's DDP_backend would use it: one platform token for every org,
the org named per call, against a real failbrief server and a real Celery worker. Each org's
Prefect run (named by its `parameters.config.org_slug`, as Dalgo's deployments do) and Airbyte job
is triggered, polled to completion, and never visible to the other org."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import pytest

from failbrief.client import FailbriefClient, FailbriefNotFound, Progress
from failbrief.orgs.manage import add_org, create_platform_token, set_airbyte
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_airbyte import C_CONNECTION, C_JOB, FakeAirbyte, c_scenario
from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.fixtures import AIRBYTE_TOKEN, wait_for
from failbrief.testing.scenarios import flow_run_id

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

B_DBT_RUN = "01a20fec-41a7-7e01-9e03-dc6641808cf4"  # scenario b's failed dbt task
B_CAUSE = "column o.amount_usd does not exist"
PSQL_REFUSED = "PSQLException: Connection to 10.0.3.7:5432 refused"


def dalgo_run(fake: FakePrefect, org_slug: str) -> tuple[str, str]:
    """A fresh copy of scenario b whose parameters name the org, as a Dalgo deployment's do.
    Returns (flow run id, failed dbt task id)."""
    ids = fake.clone_scenario("b")
    run_id = ids[flow_run_id("b")]
    run = httpx.get(f"{fake.url}/flow_runs/{run_id}", timeout=5).json()
    fake.add_flow_run(run | {"parameters": {"config": {"org_slug": org_slug, "tasks": []}}})
    return run_id, ids[B_DBT_RUN]


def finished(poll: Callable[[], Progress]) -> Callable[[], Progress | None]:
    def check() -> Progress | None:
        progress = poll()
        return progress if progress.done else None

    return check


@pytest.fixture
def other_airbyte() -> Any:
    with FakeAirbyte(token=AIRBYTE_TOKEN) as fake:
        yield fake


def test_one_platform_token_triggers_and_polls_two_orgs_and_never_crosses(
    live_server, fake_prefect, fake_airbyte, other_airbyte
):
    org_a, org_b = add_org("org-a"), add_org("org-b")  # no default org: each run names its own
    c_scenario(fake_airbyte)  # org A's Airbyte has job 4567; org B's has no such job
    set_airbyte(org_a, url=fake_airbyte.url, token=AIRBYTE_TOKEN)
    set_airbyte(org_b, url=other_airbyte.url, token=AIRBYTE_TOKEN)
    runs = {"org-a": dalgo_run(fake_prefect, "org-a"), "org-b": dalgo_run(fake_prefect, "org-b")}
    fb = FailbriefClient(live_server.url, create_platform_token("dalgo", "DDP_backend"))

    # DDP_backend's Prefect trigger view, then its poll view, for each org's user.
    handles = {org: fb.trigger_flow_run_summary(run, task, org=org) for org, (run, task) in runs.items()}
    for org, handle in handles.items():
        done = wait_for(finished(partial(fb.poll, handle, org=org)), timeout=15)
        assert done.status == "completed", done.message
        assert B_CAUSE in str(done.result)
        (summary,) = fb.flow_run_summaries(runs[org][0], org=org).summaries
        assert str(summary["request_uuid"]) == handle

    # DDP_backend's Airbyte trigger view, for org A's connection.
    airbyte_handle = fb.trigger_airbyte_summary(C_CONNECTION, C_JOB, org="org-a")
    done = wait_for(finished(partial(fb.poll, airbyte_handle, org="org-a")), timeout=15)
    assert done.status == "completed", done.message
    assert PSQL_REFUSED in str(done.result)

    # Nothing of one org is reachable while acting for the other: not its runs, not its handles.
    for me, other in (("org-a", "org-b"), ("org-b", "org-a")):
        other_run, other_task = runs[other]
        with pytest.raises(FailbriefNotFound):
            fb.poll(handles[other], org=me)
        with pytest.raises(FailbriefNotFound):
            fb.flow_run_summaries(other_run, org=me)
        with pytest.raises(FailbriefNotFound):
            fb.trigger_flow_run_summary(other_run, other_task, org=me)
    with pytest.raises(FailbriefNotFound):
        fb.poll(airbyte_handle, org="org-b")
    with pytest.raises(FailbriefNotFound):
        fb.trigger_airbyte_summary(C_CONNECTION, C_JOB, org="org-b")
    fb.close()

    rows = {
        org: set(LlmSession.objects.filter(org=o).values_list("request_uuid", flat=True))
        for org, o in (("org-a", org_a), ("org-b", org_b))
    }
    assert {str(u) for u in rows["org-a"]} == {handles["org-a"], airbyte_handle}
    assert {str(u) for u in rows["org-b"]} == {handles["org-b"]}
