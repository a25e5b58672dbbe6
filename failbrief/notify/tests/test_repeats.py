"""The same failure of the same pipeline again: held within the window, then one "failing again
(N×)" message; a different failure or pipeline is its own message; nothing is planned twice."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from failbrief.events.models import FailureEvent
from failbrief.notify.compose import compose, message_of
from failbrief.notify.message import Message
from failbrief.notify.models import Notification, NotifyChannel
from failbrief.notify.plan import flush_held, plan_notifications
from failbrief.notify.trigger import notify_summaries
from failbrief.orgs.manage import add_org
from failbrief.orgs.models import Org
from failbrief.orgs.vault import seal
from failbrief.runs.prefect import FlowRun, PrefectClient
from failbrief.summarize.models import LlmSession

pytestmark = pytest.mark.django_db
FAILED_AT = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


@pytest.fixture
def org():
    return add_org("acme")


@pytest.fixture
def channel(org):
    return _channel(org, "ops")


def _channel(org: Org, name: str, enabled: bool = True) -> NotifyChannel:
    config = seal(json.dumps({"url": "http://127.0.0.1:9/hook"}))
    return NotifyChannel.objects.create(
        org=org, name=name, kind="slack", config_sealed=config, enabled=enabled
    )


_runs = iter(range(1, 10_000))


def failure(
    org: Org, signature: str = "sig-disk-full", when: datetime = FAILED_AT
) -> tuple[LlmSession, Message]:
    """A completed summary of a new run, and what the channel would be told."""
    n = next(_runs)
    row = LlmSession.objects.create(
        org=org,
        flow_run_id=f"run-{n}",
        task_id=f"task-{n}",
        session_status="completed",
        category="resource",
        root_cause="OSError: [Errno 28] No space left on device",
        failing_step="load_orders",
        suggested_fix="Free disk space on the worker.",
        signature=signature,
    )
    return row, compose(row, flow_run_name=f"nightly-{n}", deployment="orders-nightly", failed_at=when)


def plan(
    org: Org, signature: str = "sig-disk-full", pipeline: str = "orders-nightly", when: datetime = FAILED_AT
) -> tuple[LlmSession, list[int]]:
    row, message = failure(org, signature, when)
    return row, plan_notifications(row, message, pipeline)


def statuses(channel: NotifyChannel) -> list[str]:
    return [n.status for n in Notification.objects.filter(channel=channel).order_by("pk")]


def test_a_first_failure_is_one_pending_message_per_enabled_channel(org, channel):
    _channel(org, "off", enabled=False)
    row, due = plan(org)
    assert len(due) == 1
    sent = Notification.objects.get(pk=due[0])
    assert (sent.channel, sent.summary, sent.repeat_count) == (channel, row, 1)
    message = message_of(sent)
    assert message.root_cause == "OSError: [Errno 28] No space left on device"
    assert message.title == "orders-nightly failed"


def test_planning_the_same_summary_again_plans_nothing(org, channel):
    row, message = failure(org)
    assert len(plan_notifications(row, message, "orders-nightly")) == 1
    assert plan_notifications(row, message, "orders-nightly") == []
    assert Notification.objects.count() == 1


def test_repeats_within_the_window_are_held_then_sent_as_one_failing_again_message(org, channel, settings):
    settings.NOTIFY_REPEAT_WINDOW_SECONDS = 3600
    plan(org)
    for _ in range(4):
        _, due = plan(org)
        assert due == []  # no flood
    assert statuses(channel) == ["pending", "held", "held", "held", "held"]

    assert flush_held() == []  # the window is still open

    later = timezone.now() + timedelta(hours=1, seconds=1)
    due = flush_held(now=later)
    assert len(due) == 1
    repeat = Notification.objects.get(pk=due[0])
    assert repeat.repeat_count == 5
    assert statuses(channel) == ["pending", "folded", "folded", "folded", "pending"]
    message = message_of(repeat)
    assert message.title == "orders-nightly failing again (5×)"
    assert message.first_failed_at == FAILED_AT
    assert flush_held(now=later) == []  # flushed once


def test_the_count_runs_on_across_windows(org, channel, settings):
    settings.NOTIFY_REPEAT_WINDOW_SECONDS = 3600
    plan(org)
    plan(org)
    first_flush = timezone.now() + timedelta(hours=1, seconds=1)
    [repeat] = flush_held(now=first_flush)
    Notification.objects.filter(pk=repeat).update(opened_at=first_flush)
    plan(org)
    plan(org)
    [again] = flush_held(now=first_flush + timedelta(hours=1, seconds=1))
    assert Notification.objects.get(pk=again).repeat_count == 4


def test_a_repeat_after_the_window_closed_takes_the_held_ones_into_its_own_message(org, channel, settings):
    settings.NOTIFY_REPEAT_WINDOW_SECONDS = 3600
    _, [first] = plan(org)
    plan(org)
    Notification.objects.filter(pk=first).update(opened_at=timezone.now() - timedelta(hours=2))
    _, due = plan(org)
    assert len(due) == 1
    assert Notification.objects.get(pk=due[0]).repeat_count == 3
    assert statuses(channel) == ["pending", "folded", "pending"]


def test_another_failure_or_another_pipeline_is_its_own_message(org, channel):
    plan(org)
    assert len(plan(org, signature="sig-auth")[1]) == 1
    assert len(plan(org, pipeline="customers-hourly")[1]) == 1


def test_a_zero_window_sends_every_failure(org, channel, settings):
    settings.NOTIFY_REPEAT_WINDOW_SECONDS = 0
    assert [len(plan(org)[1]) for _ in range(3)] == [1, 1, 1]


def test_a_failure_without_a_signature_still_folds_by_category_and_step(org, channel):
    plan(org, signature="")
    assert plan(org, signature="")[1] == []


def test_runs_of_one_flow_without_a_deployment_fold_though_each_run_has_its_own_name(org, channel):
    # Prefect names every run anew ("crimson-fox", "brave-owl"); a flow served or run from a script
    # has no deployment, so the flow is what its repeats have in common.
    flow_id = "6f1c2a9e-2f0b-4c44-9d1e-0c6bb1e2a001"
    planned = []
    with PrefectClient("http://127.0.0.1:9/api") as client:  # no deployment: never called
        for name in ("crimson-fox", "brave-owl", "quiet-heron"):
            row, _ = failure(org)
            event = FailureEvent.objects.create(
                raw_body="{}", shape="robust", flow_run_id=row.flow_run_id, flow_run_name=name,
                state_name="Failed", dedup_key=row.flow_run_id,
            )  # fmt: skip
            top = FlowRun.model_validate({"id": row.flow_run_id, "name": name, "flow_id": flow_id})
            planned.append(notify_summaries(event, top, [row], client))
    assert [len(ids) for ids in planned] == [1, 0, 0]
    assert statuses(channel) == ["pending", "held", "held"]
    another_flow = FlowRun.model_validate({"id": "run-x", "name": "crimson-fox", "flow_id": "other"})
    row, _ = failure(org)
    event = FailureEvent.objects.create(raw_body="{}", shape="robust", flow_run_id="run-x", dedup_key="x")
    with PrefectClient("http://127.0.0.1:9/api") as client:
        assert len(notify_summaries(event, another_flow, [row], client)) == 1
