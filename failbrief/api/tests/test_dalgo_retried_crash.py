"""A Dalgo run that crashed with no task failing (the flow run itself the unit), was retried from
Prefect's UI and crashed again: everything that looks the run up by its id (Dalgo's trigger and
poll, the read API, the run page) addresses the latest crash, and the other org reaches neither."""

from __future__ import annotations

import json
import re
import uuid
from functools import partial
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from failbrief.client import FailbriefClient, FailbriefNotFound, Progress
from failbrief.events.models import FailureEvent
from failbrief.orgs.manage import add_org, create_platform_token, create_token
from failbrief.pages.models import Membership
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_prefect import FakePrefect
from failbrief.testing.fixtures import completed_summaries, post_webhook, wait_for
from failbrief.testing.scenarios import flow_run_id, robust_body

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

FIRST_CRASH = "status code: -9"
SECOND_CRASH = "status code: 3"
LATER = "2026-11-24T23:49:51.814378+00:00"  # ten minutes after scenario d's crash


@pytest.fixture
def fb(live_server: Any, transactional_db: None) -> Any:
    with FailbriefClient(live_server.url, create_platform_token("dalgo", "DDP_backend")) as client:
        yield client


def crashed_run(fake: FakePrefect, org_slug: str) -> str:
    """A fresh copy of scenario d (the process was killed: no task run failed) whose parameters
    name the org, as a Dalgo deployment's do. Returns its flow run id."""
    run_id = fake.clone_scenario("d")[flow_run_id("d")]
    run = _get(fake, f"flow_runs/{run_id}")
    fake.add_flow_run(run | {"parameters": {"config": {"org_slug": org_slug, "tasks": []}}})
    return run_id


def crash_again(fake: FakePrefect, run_id: str) -> None:
    """Retried from Prefect's UI, the run crashes again ten minutes later, with exit code 3."""
    run = _get(fake, f"flow_runs/{run_id}")
    crash = "Process exited with status code: 3. Process exited with an unexpected status code."
    run["state"] |= {"timestamp": LATER, "message": crash, "id": str(uuid.uuid4())}
    fake.add_flow_run(run | {"end_time": LATER, "run_count": 2, "state_message": crash})


def webhook(base: str, fake: FakePrefect, run_id: str) -> None:
    """The robust template's webhook for the run's current crash, processed to the end."""
    run = _get(fake, f"flow_runs/{run_id}")
    body = json.loads(robust_body("d").replace(flow_run_id("d"), run_id))
    body |= {
        "state_timestamp": run["state"]["timestamp"],
        "state_message": run["state"]["message"],
        "parameters": run["parameters"],
        "event_id": str(uuid.uuid4()),
    }
    answer = post_webhook(base, json.dumps(body)).json()
    assert answer["duplicate"] is False
    wait_for(lambda: _done(answer["event_id"]), timeout=20)


def finished(poll: Any) -> Any:
    def check() -> Progress | None:
        progress: Progress = poll()
        return progress if progress.done else None

    return check


def test_dalgos_trigger_and_poll_address_the_latest_crash_of_a_retried_run(live_server, fake_prefect, fb):
    two_orgs()
    run_id = crashed_run(fake_prefect, "org-a")
    webhook(live_server.url, fake_prefect, run_id)
    crash_again(fake_prefect, run_id)
    webhook(live_server.url, fake_prefect, run_id)

    handle = fb.trigger_flow_run_summary(run_id, run_id, org="org-a")
    done = wait_for(finished(partial(fb.poll, handle, org="org-a")), timeout=15)
    assert done.status == "completed", done.message
    assert SECOND_CRASH in str(done.result)
    assert FIRST_CRASH not in str(done.result)

    # Regenerating it makes a new version of the latest crash's summary, written from Prefect.
    again = fb.trigger_flow_run_summary(run_id, run_id, regenerate=True, org="org-a")
    assert again != handle
    done = wait_for(finished(partial(fb.poll, again, org="org-a")), timeout=15)
    assert done.status == "completed", done.message
    assert SECOND_CRASH in str(done.result)

    # The other org reaches neither the run nor the handles.
    for asked in (handle, again):
        with pytest.raises(FailbriefNotFound):
            fb.poll(asked, org="org-b")
    with pytest.raises(FailbriefNotFound):
        fb.trigger_flow_run_summary(run_id, run_id, org="org-b")
    with pytest.raises(FailbriefNotFound):
        fb.flow_run_summaries(run_id, org="org-b")
    assert not LlmSession.objects.filter(org__slug="org-b").exists()


def test_a_crash_prefect_reports_before_its_webhook_is_summarized_on_trigger_and_the_webhook_reuses_it(
    live_server, fake_prefect, fb
):
    two_orgs()
    run_id = crashed_run(fake_prefect, "org-a")
    webhook(live_server.url, fake_prefect, run_id)
    crash_again(fake_prefect, run_id)  # Dalgo's user asks before failbrief's webhook is processed

    handle = fb.trigger_flow_run_summary(run_id, run_id, org="org-a")
    done = wait_for(finished(partial(fb.poll, handle, org="org-a")), timeout=15)
    assert done.status == "completed", done.message
    assert SECOND_CRASH in str(done.result)

    webhook(live_server.url, fake_prefect, run_id)
    firsts = LlmSession.objects.filter(flow_run_id=run_id, version=1)
    assert firsts.count() == 2  # one summary per crash: the webhook found the trigger's
    assert fb.trigger_flow_run_summary(run_id, run_id, org="org-a") == handle
    with pytest.raises(FailbriefNotFound):
        fb.trigger_flow_run_summary(run_id, run_id, org="org-b")


def test_a_crash_first_summarized_on_trigger_still_gets_a_summary_of_the_next_crash(
    live_server, fake_prefect, fb
):
    two_orgs()
    run_id = crashed_run(fake_prefect, "org-a")
    first = fb.trigger_flow_run_summary(run_id, run_id, org="org-a")  # no webhook for the first crash
    wait_for(finished(partial(fb.poll, first, org="org-a")), timeout=15)
    crash_again(fake_prefect, run_id)

    webhook(live_server.url, fake_prefect, run_id)

    shown = fb.flow_run_summaries(run_id, org="org-a").summaries
    assert [SECOND_CRASH in json.dumps(s) for s in shown] == [True, False]
    handle = fb.trigger_flow_run_summary(run_id, run_id, org="org-a")
    done = wait_for(finished(partial(fb.poll, handle, org="org-a")), timeout=15)
    assert SECOND_CRASH in str(done.result)


def test_the_read_api_and_the_run_page_show_the_latest_crash_first(live_server, fake_prefect):
    org_a, org_b = two_orgs()
    run_id = crashed_run(fake_prefect, "org-a")
    webhook(live_server.url, fake_prefect, run_id)
    crash_again(fake_prefect, run_id)
    webhook(live_server.url, fake_prefect, run_id)

    shown = wait_for(lambda: completed_summaries(live_server.url, create_token(org_a), run_id), timeout=10)
    assert [SECOND_CRASH in json.dumps(s) for s in shown] == [True, False]
    assert [s["failed_at"][:19] for s in shown] == ["2026-11-24T23:49:51", "2026-11-24T23:39:51"]
    stranger = httpx.get(
        f"{live_server.url}/api/v1/flow-runs/{run_id}/summaries",
        headers={"Authorization": f"Bearer {create_token(org_b)}"},
        timeout=5,
    )
    assert stranger.status_code == 404

    page = _member(org_a).get(reverse("pages:run", args=["org-a", run_id]))
    assert page.status_code == 200
    text = re.sub(r"<[^>]+>", "", page.content.decode())
    assert "Failed at 2026-11-24 23:49" in text
    assert text.index(SECOND_CRASH) < text.index(FIRST_CRASH)
    assert _member(org_b).get(reverse("pages:run", args=["org-b", run_id])).status_code == 404


def test_regenerating_the_earlier_crash_says_why_rather_than_describe_the_later_one(
    live_server, fake_prefect
):
    org_a, org_b = two_orgs()
    run_id = crashed_run(fake_prefect, "org-a")
    webhook(live_server.url, fake_prefect, run_id)
    crash_again(fake_prefect, run_id)
    webhook(live_server.url, fake_prefect, run_id)
    earlier = LlmSession.objects.get(flow_run_id=run_id, task_id=run_id)
    token = create_token(org_a)

    asked = _api(live_server.url, token, "POST", f"summaries/{earlier.pk}/regenerate")
    assert asked.status_code == 202
    fresh = asked.json()["id"]
    ended = wait_for(lambda: _settled(live_server.url, token, fresh), timeout=15)
    assert ended["status"] == "failed"
    assert "failed again" in ended["error_reason"]
    assert SECOND_CRASH not in json.dumps(ended)
    stranger = _api(live_server.url, create_token(org_b), "POST", f"summaries/{earlier.pk}/regenerate")
    assert stranger.status_code == 404


def _api(base: str, token: str, method: str, path: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"}
    return httpx.request(method, f"{base}/api/v1/{path}", headers=headers, timeout=5)


def _settled(base: str, token: str, summary_id: int) -> dict[str, Any] | None:
    found: dict[str, Any] = _api(base, token, "GET", f"summaries/{summary_id}").json()
    return found if found["status"] != "running" else None


def two_orgs() -> tuple[Any, Any]:
    """No default org: the run names its own (org-a), org-b is the other org."""
    return add_org("org-a"), add_org("org-b")


def _member(org: Any) -> Client:
    user = User.objects.create_user(f"member@{org.slug}.test", f"member@{org.slug}.test", "pw-not-used-here")
    Membership.objects.create(user=user, org=org, role="member")
    client = Client()
    client.force_login(user)
    return client


def _done(event_id: int) -> bool:
    return FailureEvent.objects.get(pk=event_id).status == FailureEvent.Status.DONE


def _get(fake: FakePrefect, path: str) -> dict[str, Any]:
    record: dict[str, Any] = httpx.get(f"{fake.url}/{path}", timeout=5).json()
    return record
