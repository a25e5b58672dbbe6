"""The failures list is a timeline of when runs failed, not of when failbrief stored their briefs:
after `failbrief backfill --since 7d` last week's failures are listed, shown and found by date as
last week's, below the live failures that came after them."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from failbrief.pages.tests.conftest import Side, store_failure
from failbrief.summarize.models import LlmSession

CAUSE = re.compile(r"cause [a-z]+(?:-\d)?")


def shown(client: Client, slug: str = "org-a", **params: str) -> str:
    answer = client.get(reverse("pages:failures", args=[slug]), params)
    assert answer.status_code == 200
    return answer.content.decode()


def causes(client: Client, slug: str = "org-a", **params: str) -> list[str]:
    """The root causes listed, in the list's order, following every "Older →" link."""
    found: list[str] = []
    url = reverse("pages:failures", args=[slug])
    query: dict[str, str] | None = params
    for _ in range(20):
        page = client.get(url, query).content.decode()
        found += CAUSE.findall(page)
        more = re.search(r'href="\?([^"]*)" rel="next"', page)
        if not more:
            return found
        url, query = reverse("pages:failures", args=[slug]) + "?" + more.group(1).replace("&amp;", "&"), None
    raise AssertionError("the list never ended")


def day(moment: datetime) -> str:
    return moment.date().isoformat()


def stamp(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def test_a_backfilled_old_failure_is_listed_after_a_newer_live_one_at_its_own_time(sides: tuple[Side, Side]):
    a, _ = sides
    now = timezone.now()
    live_at = (now - timedelta(hours=1)).replace(second=0, microsecond=0)
    store_failure(a.org, root_cause="cause live", unit_ended_at=live_at, state_timestamp=live_at)
    # Then `failbrief backfill --since 7d`: stored now, failed five days ago.
    old_at = (now - timedelta(days=5)).replace(hour=9, minute=30, second=0, microsecond=0)
    store_failure(
        a.org, root_cause="cause backfilled", shape="backfill", unit_ended_at=old_at, state_timestamp=old_at
    )
    client = a.client()

    assert causes(client) == ["cause live", "cause backfilled"]
    text = re.sub(r"<[^>]+>", "", shown(client))
    assert ">Failed at</th>" in shown(client)  # the column says which time it is
    assert stamp(old_at) in text
    assert stamp(live_at) in text
    # "The failures of that day" finds it, and the day it was stored does not.
    assert causes(client, since=day(old_at), until=day(old_at)) == ["cause backfilled"]
    assert causes(client, since=day(live_at), until=day(live_at)) == ["cause live"]
    assert causes(client, until=day(old_at + timedelta(days=1))) == ["cause backfilled"]


def test_without_prefects_end_time_the_webhooks_state_time_is_the_failure_time(sides: tuple[Side, Side]):
    a, _ = sides
    failed = datetime(2024, 5, 1, 3, 4, tzinfo=UTC)
    store_failure(a.org, root_cause="cause stated", state_timestamp=failed)
    store_failure(a.org, root_cause="cause received")  # no time at all: when it was stored
    client = a.client()
    assert causes(client) == ["cause received", "cause stated"]
    assert stamp(failed) in re.sub(r"<[^>]+>", "", shown(client))
    assert causes(client, since="2024-05-01", until="2024-05-01") == ["cause stated"]


def test_ordering_date_filters_and_pages_stay_within_the_org(sides: tuple[Side, Side], settings):
    settings.PAGE_SIZE = 2
    a, b = sides
    noon = (timezone.now() - timedelta(days=3)).replace(hour=12, minute=0, second=0, microsecond=0)
    # Interleaved in time, and org B's stored last: none of it may show in, or move, org A's list.
    for n in range(3):
        store_failure(a.org, root_cause=f"cause apple-{n}", unit_ended_at=noon + timedelta(minutes=2 * n))
    for n in range(3):
        store_failure(b.org, root_cause=f"cause berry-{n}", unit_ended_at=noon + timedelta(minutes=2 * n + 1))
    store_failure(b.org, root_cause="cause berry-9", unit_ended_at=noon - timedelta(days=1))
    apples = ["cause apple-2", "cause apple-1", "cause apple-0"]
    berries = ["cause berry-2", "cause berry-1", "cause berry-0"]

    assert causes(a.client()) == apples
    assert causes(a.client(), since=day(noon), until=day(noon)) == apples
    assert causes(b.client(), "org-b", since=day(noon), until=day(noon)) == berries
    assert causes(b.client(), "org-b") == [*berries, "cause berry-9"]
    assert causes(a.client(), until=day(noon - timedelta(days=1))) == []
    # An "Older →" link of org A's list, opened on org B's, still lists only org B's rows.
    older = re.search(r'href="\?([^"]*)" rel="next"', shown(a.client()))
    assert older is not None
    link = older.group(1).replace("&amp;", "&")
    answer = b.client().get(reverse("pages:failures", args=["org-b"]) + "?" + link)
    assert answer.status_code == 200
    assert set(CAUSE.findall(answer.content.decode())) <= set(berries) | {"cause berry-9"}


def test_a_recurring_failure_says_since_when_it_failed_and_lists_its_runs_by_failure_time(
    sides: tuple[Side, Side],
):
    a, _ = sides
    signature = "b" * 64
    live_at = (timezone.now() - timedelta(hours=1)).replace(second=0, microsecond=0)
    store_failure(a.org, signature=signature, deployment="dep-live", unit_ended_at=live_at)
    old_at = datetime(2024, 5, 1, 3, 4, tzinfo=UTC)
    # A backfill's event names no deployment; the row is given one here to be found by.
    store_failure(
        a.org, signature=signature, deployment_name="dep-backfilled", shape="backfill", unit_ended_at=old_at
    )
    page = a.client().get(reverse("pages:signature", args=["org-a", signature])).content.decode()
    assert "Seen 2 times since 2024-05-01" in page
    assert page.index("dep-live") < page.index("dep-backfilled")
    assert stamp(old_at) in re.sub(r"<[^>]+>", "", page)


def test_a_new_version_keeps_the_failure_time(sides: tuple[Side, Side]):
    a, _ = sides
    old_at = datetime(2024, 5, 1, 3, 4, tzinfo=UTC)
    row = store_failure(a.org, unit_ended_at=old_at)
    a.client("admin").post(reverse("pages:regenerate", args=["org-a", row.pk]))
    versions = LlmSession.objects.filter(flow_run_id=row.flow_run_id).values_list("version", "failed_at")
    assert sorted(versions) == [(1, old_at), (2, old_at)]
