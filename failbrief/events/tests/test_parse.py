"""Every body shape Prefect really sends, and the ways a body can be wrong."""

from __future__ import annotations

import json

import pytest

from failbrief.events.parse import BadWebhook, parse_notice
from failbrief.testing.scenarios import captured

RUN = "ac6afe68-5376-428e-93cb-2c9c819464fe"


def test_it_reads_dalgos_body_from_a_real_send_notification():
    notice = parse_notice(captured("f_dalgo_webhook_failed.json")["body"].encode())
    assert (notice.shape, notice.flow_run_id, notice.state_name) == ("dalgo", RUN, "Failed")
    assert notice.starts_work


# Dalgo's handler (DDP_backend ddpui/api/webhook_api.py) reads `body` as a flow run when it is an
# object, or a string that json.loads to one whose state.state_details.flow_run_id is its id; else as
# the send-notification sentence. A flow run as Prefect's API returns it (scenario c's, captured):
C_RUN = captured("c_flow_run.json")


@pytest.mark.parametrize(
    "body",
    [{"body": json.dumps(C_RUN)}, {"body": C_RUN}, {"body": json.dumps(C_RUN, indent=2)}],
    ids=["json-encoded-flow-run", "flow-run-object", "indented-json"],
)
def test_it_reads_a_flow_run_in_dalgos_body_as_dalgos_handler_does(body):
    notice = parse_notice(json.dumps(body).encode())
    assert notice.shape == "dalgo_flow_run"
    assert (notice.flow_run_id, notice.state_name, notice.state_type) == (C_RUN["id"], "Failed", "FAILED")
    assert notice.state_timestamp is not None
    assert notice.state_timestamp.isoformat() == "2026-11-24T23:39:08.051403+00:00"
    assert notice.flow_run_name == "dalgo-manual-run-002"
    assert notice.deployment_id == C_RUN["deployment_id"]
    assert notice.tags == ["org:demo", "dalgo"]
    assert "Job 4567 failed" in notice.state_message
    assert notice.starts_work


def test_a_flow_run_whose_state_has_only_a_type_is_named_after_it():
    run = C_RUN | {"state": {k: v for k, v in C_RUN["state"].items() if k != "name"}, "state_name": None}
    notice = parse_notice(json.dumps({"body": run}).encode())
    assert (notice.state_name, notice.state_type) == ("Failed", "FAILED")


def test_a_completed_flow_run_in_dalgos_body_starts_no_work():
    state = C_RUN["state"] | {"type": "COMPLETED", "name": "Completed"}
    notice = parse_notice(json.dumps({"body": json.dumps(C_RUN | {"state": state})}).encode())
    assert not notice.starts_work


@pytest.mark.parametrize(
    "name",
    [
        "my run",
        "run_with_underscores",
        'run "quoted" <x>',
        "run with id 00000000-0000-0000-0000-000000000000 entered state Completed",
    ],
)
def test_it_takes_the_last_match_whatever_the_run_is_called(name):
    body = json.dumps({"body": f"Flow run {name} with id {RUN} entered state Crashed"}).encode()
    notice = parse_notice(body)
    assert (notice.flow_run_id, notice.state_name, notice.flow_run_name) == (RUN, "Crashed", name)


@pytest.mark.parametrize("prefix", ["a", "a2", "b", "c", "c_subflow", "d", "d2", "e_timeout"])
def test_it_reads_every_captured_robust_template_body(prefix):
    record = captured(f"{prefix}_webhook.json")
    notice = parse_notice(record["body"].encode())
    assert notice.shape == "robust"
    assert notice.flow_run_id == record["body_json"]["flow_run_id"]
    assert notice.starts_work
    assert notice.state_timestamp is not None


@pytest.mark.parametrize("prefix", ["a", "a2", "b", "c", "c_subflow", "d", "d2"])
def test_it_reads_prefects_default_notification_body_as_the_robust_template_names_the_failure(prefix):
    """The body Prefect's own send-notification template writes (the one the policy migration gives
    every migrated notification policy), through a custom-webhook block's {"body": "{{body}}"}."""
    notice = parse_notice(captured(f"{prefix}_webhook_send_notification.json")["body"].encode())
    robust = parse_notice(captured(f"{prefix}_webhook.json")["body"].encode())
    assert notice.shape == "notification"
    assert (notice.flow_run_id, notice.state_name, notice.state_timestamp) == (
        robust.flow_run_id,
        robust.state_name,
        robust.state_timestamp,
    )
    # The same failure from both automations (or the reconciler) is one event, not two.
    assert notice.dedup_key == robust.dedup_key
    assert (notice.flow_run_name, notice.deployment_id) == (robust.flow_run_name, robust.deployment_id)
    assert notice.state_message == robust.state_message
    assert notice.starts_work


# Prefect 2's default policy message, as the 3.4 migration rewrites a policy that spelled it out.
LEGACY_DEFAULT = (
    "Flow run orders-etl/fine-cobra entered state `TimedOut` at 2026-11-24 23:35:00.121019+00:00.\n\n"
    "Flow ID: a6f2f1b6-5a0e-4d0e-9d4c-2f1c3b1e9a11\nFlow run ID: {run}\nFlow run URL: None\n"
    "State message: Flow run exceeded timeout of 1.0 second(s)\n"
    "Flow run ID: 00000000-0000-0000-0000-000000000000"
)


def test_it_reads_prefect_2s_default_policy_message_too():
    notice = parse_notice(json.dumps({"subject": "x", "body": LEGACY_DEFAULT.format(run=RUN)}).encode())
    assert (notice.shape, notice.flow_run_id, notice.state_name) == ("notification", RUN, "TimedOut")
    assert notice.flow_run_name == "fine-cobra"
    # The state message is the sender's free text: an id quoted in it is not the run's.
    assert notice.state_message.startswith("Flow run exceeded timeout")
    assert notice.starts_work


@pytest.mark.parametrize("prefix", ["a", "a2", "b", "c", "c_subflow", "d", "d2"])
def test_it_reads_every_captured_raw_event(prefix):
    record = captured(f"{prefix}_webhook_raw_event.json")
    notice = parse_notice(record["body"].encode())
    assert notice.shape == "raw_event"
    assert notice.flow_run_id == record["body_json"]["resource"]["prefect.resource.id"].removeprefix(
        "prefect.flow-run."
    )
    assert notice.prefect_event_id == record["body_json"]["id"]


def test_a_subflow_raw_event_names_its_parent_task_run():
    notice = parse_notice(captured("c_subflow_webhook_raw_event.json")["body"].encode())
    assert notice.parent_task_run_id == captured("c_subflow_flow_run.json")["parent_task_run_id"]


@pytest.mark.parametrize(
    ("state_type", "state_name", "works"),
    [
        ("FAILED", "Failed", True),
        ("CRASHED", "Crashed", True),
        ("FAILED", "TimedOut", True),
        ("COMPLETED", "DBT_TEST_FAILED", True),
        ("COMPLETED", "Completed", False),
        ("RUNNING", "Running", False),
        ("CANCELLED", "Cancelled", False),
    ],
)
def test_only_failure_states_start_work(state_type, state_name, works):
    body = json.dumps({"flow_run_id": RUN, "state_type": state_type, "state_name": state_name}).encode()
    assert parse_notice(body).starts_work is works


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"not json", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"hello": "world"}', "unknown body shape"),
        (b'{"body": "Flow run x entered state Failed"}', "with id"),
        (b'{"body": "Flow run x with id not-a-uuid entered state Failed"}', "not a valid UUID"),
        (b'{"flow_run_id": "123", "state_name": "Failed"}', "not a valid UUID"),
        (json.dumps({"flow_run_id": RUN}).encode(), "state_name"),
        (
            json.dumps({"flow_run_id": RUN, "state_name": "Failed", "state_timestamp": "yesterday"}).encode(),
            "ISO 8601",
        ),
        (json.dumps({"flow_run_id": RUN, "state_name": "Failed", "tags": "x"}).encode(), "tags"),
        (json.dumps({"flow_run_id": RUN, "state_name": {"a": 1}}).encode(), "state_name"),
        (b'{"resource": {"prefect.resource.id": "prefect.task-run.x"}}', "not about a flow run"),
        (b"\xff\xfe", "not UTF-8"),
        (b'{"body": 5}', "'body' must be a string or a Prefect flow run object"),
        (b'{"body": {"hello": "world"}}', "not a Prefect flow run"),
        (json.dumps({"body": '{"id": "x", '}).encode(), "'body' is not valid JSON"),
        (json.dumps({"body": json.dumps({"id": RUN, "state": {}})}).encode(), "not a Prefect flow run"),
        (
            json.dumps({"body": C_RUN | {"id": RUN}}).encode(),
            "state_details.flow_run_id is not its own id",
        ),
        (
            json.dumps({"body": json.dumps(C_RUN | {"name": "x\x00y"})}).encode(),
            "'body' cannot be stored",
        ),
        (
            json.dumps({"body": {"id": RUN, "state": {"state_details": {"flow_run_id": RUN}}}}).encode(),
            "neither a name nor a type",
        ),
        (
            json.dumps({"body": "Flow run f/r observed in state `Failed` at 2026-11-24 23:35:00Z."}).encode(),
            "Flow run ID",
        ),
        (
            json.dumps({"body": "Flow run f/r observed in state `Failed` at x.\nFlow run ID: 42"}).encode(),
            "not a valid UUID",
        ),
    ],
)
def test_it_says_what_is_wrong_with_a_bad_body(body, says):
    with pytest.raises(BadWebhook, match=says):
        parse_notice(body)


def test_two_deliveries_of_one_state_change_share_a_dedup_key():
    body = captured("a2_webhook.json")["body"].encode()
    assert parse_notice(body).dedup_key == parse_notice(body).dedup_key
