"""The Prefect automation failbrief installs: its JSON, and create-or-update against a loopback fake
of Prefect's block and automation routes (the real server: tests/prefect/)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from failbrief.lib.http import JsonApi
from failbrief.runs.automation import (
    PAYLOAD_TEMPLATE,
    HookSpec,
    automation_name,
    check,
    dry_run,
    install,
    prefect_http,
    trigger,
)
from failbrief.testing.fake_automations import FakeAutomations

SPEC = HookSpec("https://failbrief.example.org/", "key-1")


@pytest.fixture
def prefect():
    with FakeAutomations() as fake:
        yield fake


def http(fake: FakeAutomations) -> JsonApi:
    return prefect_http(fake.url, None, 5)


def test_the_trigger_fires_on_every_failure_state_of_each_run_without_a_window():
    fired = trigger(SPEC)
    assert fired["within"] == 0
    assert fired["posture"] == "Reactive"
    assert fired["for_each"] == ["prefect.resource.id"]
    assert set(fired["expect"]) >= {
        "prefect.flow-run.Failed",
        "prefect.flow-run.Crashed",
        "prefect.flow-run.TimedOut",
    }
    assert fired["match_related"] == {}


def test_every_uuid_in_the_payload_goes_through_string_before_tojson():
    # A bare `| tojson` on a UUID fails the action once a deployed run fails (docs/prefect-behaviour.md §2.2).
    for name in ("event.id", "flow_run.id", "flow_run.flow_id", "flow_run.deployment_id"):
        uses = re.findall(rf"{re.escape(name)}\b[^}}]*", PAYLOAD_TEMPLATE)
        assert uses, name
        assert all("| string" in use or " else " in use or "if " in use for use in uses), uses


def test_deployed_only_and_tags_narrow_the_trigger():
    only_deployed = trigger(HookSpec("http://x", "k", deployed_only=True))
    assert only_deployed["match_related"] == {"prefect.resource.role": "deployment"}
    tagged = trigger(HookSpec("http://x", "k", tags=("dalgo", "org:acme")))
    assert tagged["match_related"] == {
        "prefect.resource.role": "tag",
        "prefect.resource.id": ["prefect.tag.dalgo", "prefect.tag.org:acme"],
    }
    both = trigger(HookSpec("http://x", "k", deployed_only=True, tags=("dalgo",)))
    assert len(both["match_related"]) == 2


def test_the_dry_run_shows_the_webhook_url_but_not_the_key():
    shown = dry_run(SPEC)
    headers = shown["block_document"]["data"]["headers"]
    assert shown["block_document"]["data"]["url"] == "https://failbrief.example.org/webhooks/v1/notification/"
    assert headers["X-Notification-Key"] == "<webhook key>"
    assert "key-1" not in str(shown)


def test_an_org_gets_its_own_block_and_automation_name():
    assert automation_name(None) == "failbrief"
    assert automation_name("Acme_Data") == "failbrief-acme-data"


def test_installing_twice_leaves_one_block_and_one_automation(prefect):
    first = install(http(prefect), SPEC)
    second = install(http(prefect), HookSpec("https://new.example.org", "key-2"))

    assert (first.block, first.automation) == ("created", "created")
    assert (second.block, second.automation) == ("updated", "updated")
    assert (second.block_id, second.automation_id) == (first.block_id, first.automation_id)
    assert len(prefect.blocks) == 1
    assert len(prefect.automations) == 1
    data = prefect.block_data("failbrief")
    assert data["url"] == "https://new.example.org/webhooks/v1/notification/"
    assert data["headers"]["X-Notification-Key"] == "key-2"
    (automation,) = prefect.automations.values()
    assert automation["actions"][0]["block_document_id"] == first.block_id


def test_duplicate_automations_of_the_same_name_are_removed(prefect):
    install(http(prefect), SPEC)
    extra = dict(next(iter(prefect.automations.values())))
    prefect.automations["00000000-0000-0000-0000-000000000001"] = extra | {
        "id": "00000000-0000-0000-0000-000000000001",
        "created": "2026-11-26T09:00:00Z",
    }

    done = install(http(prefect), SPEC)

    assert done.removed_duplicates == ["00000000-0000-0000-0000-000000000001"]
    assert list(prefect.automations) == [done.automation_id]


def test_check_finds_the_automation_and_where_it_posts(prefect):
    install(http(prefect), SPEC)

    health = check(http(prefect), "failbrief")

    assert (health.reachable, health.version, health.enabled) == (True, "3.9.1", True)
    assert health.webhook_url == "https://failbrief.example.org/webhooks/v1/notification/"
    assert health.problems == []


def test_check_reports_failed_webhook_calls(prefect):
    done = install(http(prefect), SPEC)
    prefect.failures.append(
        {
            "occurred": "2026-11-26T06:18:10.641585Z",
            "event": "prefect.automation.action.failed",
            "resource": {"prefect.resource.id": f"prefect.automation.{done.automation_id}"},
            "payload": {"reason": "Webhook call failed: ConnectError('All connection attempts failed')"},
        }
    )

    health = check(http(prefect), "failbrief", since=timedelta(hours=1))

    assert [f.reason for f in health.failures] == [
        "Webhook call failed: ConnectError('All connection attempts failed')"
    ]
    assert health.problems == ["1 webhook call(s) failed in the last 1 h"]


def test_check_reports_a_missing_or_disabled_automation(prefect):
    assert check(http(prefect), "failbrief").problems == [
        "no automation named 'failbrief': run 'failbrief setup-prefect'"
    ]
    install(http(prefect), SPEC)
    next(iter(prefect.automations.values()))["enabled"] = False
    assert check(http(prefect), "failbrief").problems == ["automation 'failbrief' is disabled"]


def test_check_of_a_prefect_that_does_not_answer_says_so():
    with FakeAutomations() as gone:
        url = gone.url
    health = check(prefect_http(url, None, 2), "failbrief")
    assert not health.reachable
    assert health.problems[0].startswith("Prefect API did not answer")


def test_check_reports_webhook_calls_failbrief_refused(prefect):
    # Prefect's call-webhook never fails on an HTTP status: a 401 after a key rotation, a 413 or a 500
    # is an `action.executed` event carrying the status. Every failure it stood for was lost.
    done = install(http(prefect), SPEC)
    resource = {"prefect.resource.id": f"prefect.automation.{done.automation_id}"}
    for occurred, status, body in (
        ("2026-11-26T06:18:10.641585Z", 401, '{"detail": "wrong or missing X-Notification-Key"}'),
        ("2026-11-26T06:17:10.641585Z", 202, '{"event_id": 12, "duplicate": false}'),
    ):
        prefect.failures.append(
            {
                "occurred": occurred,
                "event": "prefect.automation.action.executed",
                "resource": resource,
                "payload": {"action_type": "call-webhook", "status_code": status, "response_body": body},
            }
        )

    health = check(http(prefect), "failbrief", since=timedelta(hours=1))

    assert [f.reason for f in health.failures] == [
        'the webhook answered HTTP 401: {"detail": "wrong or missing X-Notification-Key"}'
    ]
    assert health.problems == ["1 webhook call(s) failed in the last 1 h"]
