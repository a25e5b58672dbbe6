"""An Airbyte attempt summarized on Dalgo's request is listed at the time it failed in Airbyte, not at
the time someone asked: an old sync failure asked about today is not shown as today's failure."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from failbrief.orgs.manage import add_org, create_token, set_airbyte
from failbrief.pages.models import Membership
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_airbyte import C_CONNECTION, FakeAirbyte, FakeAttempt, FakeJob, c_attempt_lines
from failbrief.testing.fixtures import AIRBYTE_TOKEN, wait_for

pytestmark = [pytest.mark.services, pytest.mark.usefixtures("celery_worker", "service_settings")]

OLD, NEWER = 3001, 3002
OLD_CREATED = datetime(2026, 10, 20, 8, 0, tzinfo=UTC)
NEWER_CREATED = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def other_airbyte() -> Any:
    with FakeAirbyte(token=AIRBYTE_TOKEN) as fake:
        yield fake


@pytest.fixture
def orgs(transactional_db: None, fake_airbyte: FakeAirbyte, other_airbyte: FakeAirbyte) -> tuple[Any, Any]:
    """Org A on its own Airbyte (the fake with the jobs), org B on another that has none of them."""
    org_a, org_b = add_org("org-a"), add_org("org-b")
    set_airbyte(org_a, url=fake_airbyte.url, token=AIRBYTE_TOKEN)
    set_airbyte(org_b, url=other_airbyte.url, token=AIRBYTE_TOKEN)
    return org_a, org_b


def failed_job(job_id: int, created: datetime, attempts: int = 1, withheld: tuple[str, ...] = ()) -> FakeJob:
    tried = [FakeAttempt("failed", c_attempt_lines(job_id, n)) for n in range(attempts)]
    return FakeJob(job_id, C_CONNECTION, "failed", created, tried, withheld=withheld)


def ask(base: str, token: str, job_id: int, **params: int) -> dict[str, Any]:
    """Dalgo's Airbyte trigger, polled until the summary is done; the summary as the read API shows it."""
    answer = httpx.get(
        f"{base}/api/airbyte/v1/connections/{C_CONNECTION}/logsummary",
        params={"job_id": job_id} | params,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    handle = answer.json()["task_id"]
    wait_for(lambda: _done(base, token, handle), timeout=15)
    row = LlmSession.objects.get(request_uuid=handle)
    summary: dict[str, Any] = httpx.get(
        f"{base}/api/v1/summaries/{row.pk}", headers={"Authorization": f"Bearer {token}"}, timeout=5
    ).json()
    return summary


def test_an_old_sync_failure_asked_about_now_is_listed_at_its_own_time(live_server, orgs, fake_airbyte):
    org_a, org_b = orgs
    token = create_token(org_a)
    fake_airbyte.add_job(failed_job(OLD, OLD_CREATED, attempts=2))
    fake_airbyte.add_job(failed_job(NEWER, NEWER_CREATED))

    newer = ask(live_server.url, token, NEWER)
    old = ask(live_server.url, token, OLD, attempt_number=0)  # asked last, failed first

    # Each attempt's own end in Airbyte (the fake's attempt n ends 60 n + 50 s after the job began).
    assert _time(newer["failed_at"]) == NEWER_CREATED + timedelta(seconds=50)
    assert _time(old["failed_at"]) == OLD_CREATED + timedelta(seconds=50)
    later = ask(live_server.url, token, OLD, attempt_number=1)
    assert _time(later["failed_at"]) == OLD_CREATED + timedelta(seconds=110)
    # The failures list, newest failure first, shows them in the order they failed.
    page = _member(org_a).get(reverse("pages:failures", args=["org-a"])).content.decode()
    listed = re.findall(r"\b2026-1[01]-\d\d \d\d:\d\d\b", re.sub(r"<[^>]+>", "", page))
    assert listed == ["2026-11-02 08:00", "2026-10-20 08:01", "2026-10-20 08:00"]

    # Org B's Airbyte has no such job: a 404, nothing stored, nothing listed.
    stranger = httpx.get(
        f"{live_server.url}/api/airbyte/v1/connections/{C_CONNECTION}/logsummary",
        params={"job_id": OLD},
        headers={"Authorization": f"Bearer {create_token(org_b)}"},
        timeout=10,
    )
    assert stranger.status_code == 404
    assert not LlmSession.objects.filter(org=org_b).exists()
    page_b = _member(org_b).get(reverse("pages:failures", args=["org-b"])).content.decode()
    assert "2026-10-20" not in page_b


def test_without_an_end_time_the_attempts_last_update_is_its_failure_time(live_server, orgs, fake_airbyte):
    org_a, _ = orgs
    fake_airbyte.add_job(failed_job(OLD, OLD_CREATED, withheld=("endedAt",)))

    old = ask(live_server.url, create_token(org_a), OLD)

    assert _time(old["failed_at"]) == OLD_CREATED + timedelta(seconds=50)


def test_an_airbyte_that_gives_no_time_leaves_the_time_it_was_asked_for(live_server, orgs, fake_airbyte):
    org_a, _ = orgs
    fake_airbyte.add_job(failed_job(OLD, OLD_CREATED, withheld=("endedAt", "updatedAt")))

    asked_from = datetime.now(UTC)
    old = ask(live_server.url, create_token(org_a), OLD)

    assert asked_from <= _time(old["failed_at"]) <= datetime.now(UTC)


def _done(base: str, token: str, handle: str) -> bool:
    answer = httpx.get(
        f"{base}/api/tasks/stp/{handle}", headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    return bool(answer.json()["progress"][-1]["status"] != "running")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _member(org: Any) -> Client:
    email = f"member@{org.slug}.test"
    user = User.objects.create_user(email, email, "pw-not-used-here")
    Membership.objects.create(user=user, org=org, role="member")
    client = Client()
    client.force_login(user)
    return client
