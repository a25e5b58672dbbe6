"""Backfill against the loopback fake Prefect: the failed runs of a window without a summary are
summarized once, inline, and an interrupted backfill resumes without summarizing anything twice."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from failbrief.events.backfill import (
    BackfillStopped,
    Pacer,
    Status,
    plan,
    summarize_each,
    worker_id,
)
from failbrief.events.intake import store_notice
from failbrief.events.models import FailureEvent
from failbrief.events.process import finish_event, summarize_event
from failbrief.events.reconcile import notice_for
from failbrief.lib.http import Backoff
from failbrief.orgs.manage import add_org
from failbrief.runs.prefect import PrefectClient
from failbrief.summarize.models import LlmSession
from failbrief.testing.fake_prefect import UUID_TEXT, FakePrefect
from failbrief.testing.scenarios import captured

NOW = datetime.now(UTC).replace(microsecond=0)
SINCE = NOW - timedelta(hours=6)


def failed_run(fake, prefix: str, ended: datetime, **changes: object) -> str:
    """A copy of a captured scenario under new ids, as if its flow run had ended at `ended`."""
    mapping = fake.clone_scenario(prefix)
    text = json.dumps(captured(f"{prefix}_flow_run.json"))
    run = json.loads(UUID_TEXT.sub(lambda m: mapping.get(m.group(0), m.group(0)), text))
    run["end_time"] = run["state"]["timestamp"] = ended.isoformat().replace("+00:00", "Z")
    fake.add_flow_run(run | changes)
    return str(run["id"])


def no_wait(seconds: float) -> None:
    pass


def backfill(fake, org: str | None = None, **options):
    """One backfill pass over the window, as the CLI runs it: (plan, [(run id, outcome kind)])."""
    with PrefectClient(fake.url, timeout=5, retries=0) as client:
        found = plan(client, SINCE, NOW, org)
        done = summarize_each(client, found.todo, backoff=Backoff(1, 0.0, 0.0), sleep=no_wait, **options)
        return found, [(p.run.id, outcome.kind) for p, outcome in done]


def backfill_losing_prefect_after(fake, runs: int, done: list[tuple[str, str]]) -> None:
    """A backfill pass during which Prefect goes away once `runs` runs are done."""
    with PrefectClient(fake.url, timeout=5, retries=0) as client:
        found = plan(client, SINCE, NOW)
        for planned, outcome in summarize_each(
            client, found.todo, backoff=Backoff(1, 0.0, 0.0), sleep=no_wait
        ):
            done.append((planned.run.id, outcome.kind))
            if len(done) == runs:
                fake.set_down(True)


def summarized_by_a_worker(fake, run_id: str) -> None:
    """The run's webhook arrived and a worker summarized it, before any backfill."""
    with PrefectClient(fake.url, timeout=5) as client:
        event, _ = store_notice(b"{}", notice_for(client.flow_run(run_id)), None)
        summarize_event(event.pk, "celery-task-1", client)
    assert FailureEvent.objects.get(pk=event.pk).status == "done"


def rows_of(run_id: str) -> list[tuple[int, str, datetime]]:
    rows = LlmSession.objects.filter(runs__flow_run_id=run_id).order_by("pk")
    return [(row.pk, row.session_status, row.updated_at) for row in rows]


@pytest.fixture
def orgs(db):
    return add_org("demo", default=True), add_org("acme")


@pytest.fixture
def window(fake_prefect, service_settings, orgs):
    """Failed runs of the last hours: two new, one summarized, one in a worker's hands, one of acme;
    and one that failed before the window."""
    fake = fake_prefect
    runs = {
        "new": failed_run(fake, "a", NOW - timedelta(hours=3)),
        "new_dbt": failed_run(fake, "b", NOW - timedelta(hours=2)),
        "summarized": failed_run(fake, "a2", NOW - timedelta(hours=4)),
        "pending": failed_run(fake, "a", NOW - timedelta(minutes=50)),
        "acme": failed_run(fake, "d", NOW - timedelta(minutes=30), tags=["org:acme"]),
        "too_old": failed_run(fake, "a", SINCE - timedelta(minutes=1)),
    }
    summarized_by_a_worker(fake, runs["summarized"])
    with PrefectClient(fake.url, timeout=5) as client:
        store_notice(b"{}", notice_for(client.flow_run(runs["pending"])), None)
    return runs


def test_the_plan_marks_every_failed_run_of_the_window_and_writes_nothing(fake_prefect, window):
    events, rows = FailureEvent.objects.count(), LlmSession.objects.count()
    with PrefectClient(fake_prefect.url, timeout=5) as client:
        found = plan(client, SINCE, NOW)

    marked = {p.run.id: (p.status, p.org) for p in found.runs}
    assert marked == {
        window["new"]: (Status.TO_SUMMARIZE, "demo"),
        window["new_dbt"]: (Status.TO_SUMMARIZE, "demo"),
        window["summarized"]: (Status.SUMMARIZED, "demo"),
        window["pending"]: (Status.IN_PROGRESS, None),
        window["acme"]: (Status.TO_SUMMARIZE, "acme"),
    }
    assert found.complete
    assert (FailureEvent.objects.count(), LlmSession.objects.count()) == (events, rows)


def test_a_backfill_summarizes_exactly_the_runs_without_a_summary(fake_prefect, window):
    before = rows_of(window["summarized"])

    _, done = backfill(fake_prefect)

    assert sorted(done) == sorted((window[name], "summarized") for name in ("new", "new_dbt", "acme"))
    for name in ("new", "new_dbt", "acme"):
        assert {status for _, status, _ in rows_of(window[name])} == {"completed"}
        event = FailureEvent.objects.get(flow_run_id=window[name])
        assert (event.shape, event.status, event.worker_task_id) == (
            "backfill",
            "done",
            worker_id(window[name]),
        )
    assert rows_of(window["summarized"]) == before  # not summarized again
    assert not LlmSession.objects.filter(flow_run_id=window["pending"]).exists()  # the worker's
    assert FailureEvent.objects.get(flow_run_id=window["pending"]).status == "pending"
    assert not FailureEvent.objects.filter(flow_run_id=window["too_old"]).exists()
    assert LlmSession.objects.get(flow_run_id=window["acme"]).org.slug == "acme"
    for name in ("new", "new_dbt"):
        root = LlmSession.objects.get(flow_run_id=window[name], position=0, version=1)
        # Listed on the pages at the time its unit failed in Prefect, not when the backfill stored it.
        assert root.unit_ended_at is not None
        assert root.failed_at == root.unit_ended_at < root.created_at


def test_with_an_org_only_its_runs_are_summarized(fake_prefect, window):
    found, done = backfill(fake_prefect, org="acme")

    assert done == [(window["acme"], "summarized")]
    counts = found.counts()
    assert (counts[Status.OTHER_ORG], counts[Status.TO_SUMMARIZE]) == (4, 1)
    assert not LlmSession.objects.filter(flow_run_id__in=[window["new"], window["new_dbt"]]).exists()


def test_a_second_backfill_finds_nothing_left_to_do(fake_prefect, window):
    backfill(fake_prefect)
    rows = {name: rows_of(run_id) for name, run_id in window.items()}

    found, done = backfill(fake_prefect)

    assert done == []
    assert found.counts()[Status.SUMMARIZED] == 4
    assert {name: rows_of(run_id) for name, run_id in window.items()} == rows


def test_an_interrupted_backfill_resumes_and_summarizes_each_run_once(fake_prefect, service_settings, orgs):
    runs = [failed_run(fake_prefect, "a2", NOW - timedelta(minutes=60 - i)) for i in range(5)]
    first_pass: list[tuple[str, str]] = []
    with pytest.raises(BackfillStopped, match="Prefect did not answer"):
        backfill_losing_prefect_after(fake_prefect, 2, first_pass)
    assert first_pass == [(runs[0], "summarized"), (runs[1], "summarized")]
    halfway = FailureEvent.objects.get(flow_run_id=runs[2])
    assert (halfway.status, halfway.worker_task_id) == ("processing", worker_id(runs[2]))
    done_before = {run_id: rows_of(run_id) for run_id in runs[:2]}

    fake_prefect.set_down(False)
    found, done = backfill(fake_prefect)

    assert found.todo[0].note == f"resume event {halfway.pk}"
    assert done == [(run_id, "summarized") for run_id in runs[2:]]
    for run_id in runs:
        assert FailureEvent.objects.filter(flow_run_id=run_id).count() == 1
        assert [status for _, status, _ in rows_of(run_id)] == ["completed", "completed"]
    assert {run_id: rows_of(run_id) for run_id in runs[:2]} == done_before


def test_a_run_whose_event_failed_earlier_is_retried_quietly(fake_prefect, service_settings, orgs):
    run_id = failed_run(fake_prefect, "a", NOW - timedelta(minutes=20))
    with PrefectClient(fake_prefect.url, timeout=5) as client:
        notice = notice_for(client.flow_run(run_id))
    event, _ = store_notice(b"{}", notice, None)
    finish_event(event, FailureEvent.Status.FAILED, "Prefect unavailable until the retry deadline")

    found, done = backfill(fake_prefect)

    assert found.todo[0].note.startswith(f"retry: event {event.pk} failed: Prefect unavailable")
    assert done == [(run_id, "summarized")]
    event.refresh_from_db()
    assert (event.status, event.shape) == ("done", "backfill")  # the same event, and it does not notify
    assert {status for _, status, _ in rows_of(run_id)} == {"completed"}


def scenario_c_in_the_window(fake_prefect: FakePrefect) -> tuple[str, str]:
    """A fresh copy of scenario c (a parent whose subflow failed), ended ten and eleven minutes ago:
    the parent's and the subflow's run ids."""
    mapping = fake_prefect.clone_scenario("c")
    parent, subflow = (mapping[captured(f"{p}_flow_run.json")["id"]] for p in ("c", "c_subflow"))
    with PrefectClient(fake_prefect.url, timeout=5) as client:
        for run_id, minutes in ((subflow, 11), (parent, 10)):
            run = client.flow_run(run_id).model_dump(mode="json")
            run["end_time"] = run["state"]["timestamp"] = (NOW - timedelta(minutes=minutes)).isoformat()
            fake_prefect.add_flow_run(run)
    return parent, subflow


def test_a_subflow_is_summarized_with_its_parent_not_apart(fake_prefect, service_settings, orgs):
    parent, subflow = scenario_c_in_the_window(fake_prefect)

    found, done = backfill(fake_prefect)

    assert [(p.run.id, p.note) for p in found.todo] == [(parent, ""), (subflow, f"with its parent {parent}")]
    assert done == [(parent, "summarized"), (subflow, "skipped")]
    assert not FailureEvent.objects.filter(flow_run_id=subflow).exists()
    subflow_rows = rows_of(subflow)
    assert subflow_rows
    assert set(subflow_rows) <= set(rows_of(parent))
    assert {status for _, status, _ in subflow_rows} == {"completed"}


def test_max_per_minute_spaces_the_starts():
    waits: list[float] = []
    starts = iter([0.0, 3.0, 25.0, 26.0])  # the clock as each run is about to start
    pacer = Pacer(6, sleep=waits.append, clock=lambda: next(starts))

    for _ in range(4):
        pacer.wait()

    assert waits == [7.0, 9.0]  # 10 s apart; a run that took longer needs no wait after it


def test_backfilled_summaries_send_no_notifications(fake_prefect, service_settings, orgs):
    from failbrief.notify.manage import add_channel
    from failbrief.notify.models import Notification

    demo, _ = orgs
    add_channel(demo, "ops-slack", "slack", {"url": "https://hooks.slack.com/services/T0/B0/abcd"})
    live = failed_run(fake_prefect, "a", NOW - timedelta(minutes=40))
    summarized_by_a_worker(fake_prefect, live)  # a live failure: announced
    announced = Notification.objects.count()
    assert announced >= 1
    past = failed_run(fake_prefect, "a", NOW - timedelta(minutes=20))

    _, done = backfill(fake_prefect)

    assert done == [(past, "summarized")]
    assert Notification.objects.count() == announced


def test_a_window_of_runs_whose_times_carry_no_time_zone_is_read_whole(fake_prefect, service_settings, orgs):
    # A Prefect that writes its times without an offset (they are UTC) and more failed runs than one
    # page: the backfill pages back by end time and must not stop on a naive end time.
    ids = []
    for i in range(205):
        run_id = failed_run(fake_prefect, "a", NOW - timedelta(minutes=30) + timedelta(seconds=i))
        with PrefectClient(fake_prefect.url, timeout=5) as client:
            run = client.flow_run(run_id).model_dump(mode="json")
        naive = run["end_time"].replace("Z", "").replace("+00:00", "")
        run["end_time"] = run["state"]["timestamp"] = naive
        fake_prefect.add_flow_run(run)
        ids.append(run_id)

    with PrefectClient(fake_prefect.url, timeout=5) as client:
        found = plan(client, SINCE, NOW)

    assert found.complete
    assert {p.run.id for p in found.runs} == set(ids)
    assert all(p.run.end_time and p.run.end_time.tzinfo for p in found.runs)
    assert found.runs[0].run.end_time == NOW - timedelta(minutes=30)


def test_a_run_retried_to_completed_after_the_plan_is_not_summarized(fake_prefect, service_settings, orgs):
    failing = failed_run(fake_prefect, "a", NOW - timedelta(minutes=30))
    recovered = failed_run(fake_prefect, "a", NOW - timedelta(minutes=20))
    with PrefectClient(fake_prefect.url, timeout=5, retries=0) as client:
        found = plan(client, SINCE, NOW)
        assert [p.run.id for p in found.todo] == [failing, recovered]
        # Someone retries it while the backfill works through the window: it ends Completed. The
        # first attempt's failed task runs stay in Prefect, as they do after a retry.
        run = client.flow_run(recovered).model_dump(mode="json")
        run["state_type"] = run["state"]["type"] = "COMPLETED"
        run["state_name"] = run["state"]["name"] = "Completed"
        run["state"]["message"] = "All states completed."
        fake_prefect.add_flow_run(run)
        done = {
            p.run.id: outcome.kind
            for p, outcome in summarize_each(client, found.todo, backoff=Backoff(1, 0.0, 0.0), sleep=no_wait)
        }

    assert done == {failing: "summarized", recovered: "skipped"}
    assert not LlmSession.objects.filter(runs__flow_run_id=recovered).exists()
    event = FailureEvent.objects.get(flow_run_id=recovered)
    assert (event.status, event.status_reason) == (
        "ignored",
        "the run is no longer failed: Prefect now has it in state 'Completed'; nothing was summarized",
    )


def test_a_parent_whose_subflow_alone_was_summarized_still_gets_its_own_failure_summarized(
    fake_prefect, service_settings, orgs
):
    parent, subflow = scenario_c_in_the_window(fake_prefect)
    with PrefectClient(fake_prefect.url, timeout=5) as client:
        own = client.task_runs(parent)[0].model_dump(mode="json")  # a failed task of the parent's own
    own |= {"id": str(uuid.uuid4()), "name": "notify_team-0", "task_key": "notify_team", "task_inputs": {}}
    fake_prefect.add_task_runs([own])
    summarized_by_a_worker(fake_prefect, subflow)  # the subflow's webhook came; the parent's was lost

    with PrefectClient(fake_prefect.url, timeout=5) as client:
        found = plan(client, SINCE, NOW)

    assert {p.run.id: p.status for p in found.runs}[parent] is Status.TO_SUMMARIZE
