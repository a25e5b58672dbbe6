"""A run page asked for before its brief exists (a link shared as soon as the run failed, while
Prefect does not answer) says what failbrief is doing and when to come back, as the API does,
instead of a bare "Not Found"; a run failbrief never heard of says so, in the pages' own frame."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from failbrief.events.models import FailureEvent, signer_of
from failbrief.pages.tests.conftest import Side


def test_a_run_waiting_for_prefect_says_why_and_when_it_tries_again(sides: tuple[Side, Side]):
    a, b = sides
    run = str(uuid.uuid4())
    FailureEvent.objects.create(
        raw_body="{}",
        shape="robust",
        flow_run_id=run,
        state_name="Failed",
        dedup_key=f"{run}|Failed",
        signed_by=a.org,
        signer=signer_of(a.org),
        retry_reason="Prefect at http://prefect:4200/api refused the connection",
        next_try_at=timezone.now() + timedelta(seconds=30),
    )
    answer = a.client().get(reverse("pages:run", args=["org-a", run]))
    assert answer.status_code == 200
    page = answer.content.decode()
    assert "refused the connection" in page
    assert "giving up at" in page
    assert "reload" in page.lower()
    # Another org knows nothing of it.
    other = b.client().get(reverse("pages:run", args=["org-b", run]))
    assert other.status_code == 404
    assert "refused the connection" not in other.content.decode()


def test_a_run_failbrief_never_heard_of_is_a_404_that_says_so(sides: tuple[Side, Side]):
    a, _ = sides
    answer = a.client("admin").get(reverse("pages:run", args=["org-a", "0b59dfe2-no-such-run"]))
    assert answer.status_code == 404
    page = answer.content.decode()
    assert "has not heard of" in page
    assert reverse("pages:failures", args=["org-a"]) in page  # a way back
