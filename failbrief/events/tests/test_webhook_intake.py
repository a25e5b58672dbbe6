"""POST /webhooks/v1/notification/: the status codes and JSON errors a sender sees, and what is stored."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from failbrief.events.models import FailureEvent
from failbrief.orgs.manage import add_org, rotate_webhook_key
from failbrief.orgs.models import Org
from failbrief.testing.fixtures import WEBHOOK_KEY
from failbrief.testing.scenarios import captured, robust_body

URL = "/webhooks/v1/notification/"
RUN = "ac6afe68-5376-428e-93cb-2c9c819464fe"
DALGO = json.dumps({"body": f"Flow run x with id {RUN} entered state Failed"})
# A flow run's state as Prefect's API returns it, for the run RUN (Dalgo's handler checks the id).
DALGO_STATE = captured("c_flow_run.json")["state"] | {"state_details": {"flow_run_id": RUN}}


@pytest.fixture
def keyed(settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = WEBHOOK_KEY
    return settings


def post(body: str | bytes, key: str | None = WEBHOOK_KEY, content_type: str = "application/json"):
    headers = {"X-Notification-Key": key} if key is not None else {}
    return Client().post(URL, data=body, content_type=content_type, headers=headers)


@pytest.mark.django_db
def test_it_refuses_everything_when_no_key_is_configured(settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = None
    answer = post(DALGO)
    assert answer.status_code == 503
    assert "PREFECT_NOTIFICATIONS_WEBHOOK_KEY" in answer.json()["detail"]
    assert FailureEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize(
    ("key", "body", "content_type", "status", "says"),
    [
        (None, DALGO, "application/json", 401, "missing X-Notification-Key"),
        ("wrong", DALGO, "application/json", 401, "wrong X-Notification-Key"),
        (WEBHOOK_KEY, "a=1", "application/x-www-form-urlencoded", 415, "Content-Type"),
        (WEBHOOK_KEY, "{not json", "application/json", 400, "not valid JSON"),
        (WEBHOOK_KEY, json.dumps({"x": 1}), "application/json", 400, "unknown body shape"),
        (
            WEBHOOK_KEY,
            json.dumps({"body": "Flow run x with id 42 entered state Failed"}),
            "application/json",
            400,
            "not a valid UUID",
        ),
        (WEBHOOK_KEY, json.dumps({"body": "x" * (4 * 1024 * 1024)}), "application/json", 413, "larger than"),
    ],
)
def test_a_bad_request_gets_a_json_error_and_stores_nothing(key, body, content_type, status, says):
    answer = post(body, key=key, content_type=content_type)
    assert answer.status_code == status
    assert says in answer.json()["detail"]
    assert FailureEvent.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
def test_a_failure_is_stored_and_acknowledged_with_its_event_id():
    answer = post(robust_body("a2"))
    assert answer.status_code == 202
    event = FailureEvent.objects.get()
    assert answer.json() == {"event_id": event.pk, "duplicate": False}
    assert event.flow_run_id == "168dcf82-4af3-4c87-a159-01c7d0b6341c"
    assert event.status == FailureEvent.Status.PENDING
    assert json.loads(event.raw_body)["flow_run_name"] == "rich-bobcat"


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
def test_a_repeat_is_a_duplicate_and_does_no_new_work():
    first = post(robust_body("b")).json()
    again = post(robust_body("b"))
    assert again.status_code == 202
    assert again.json() == {"event_id": first["event_id"], "duplicate": True}
    assert FailureEvent.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
def test_a_state_that_is_not_a_failure_is_stored_but_ignored():
    answer = post(json.dumps({"body": f"Flow run x with id {RUN} entered state Running"}))
    assert answer.status_code == 202
    assert answer.json()["ignored"] is True
    assert "not a failure state" in answer.json()["reason"]
    assert FailureEvent.objects.get().status == FailureEvent.Status.IGNORED


@pytest.mark.django_db
def test_an_orgs_own_key_is_accepted_and_recorded_as_the_signer(settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = None
    org = add_org("acme", webhook_key="acme-key")
    answer = post(DALGO, key="acme-key")
    assert answer.status_code == 202
    assert FailureEvent.objects.get().signed_by == org
    assert post(DALGO, key="other-key").status_code == 401


@pytest.mark.django_db
def test_after_a_key_rotation_the_old_key_works_for_the_grace_period_only(settings):
    settings.PREFECT_NOTIFICATIONS_WEBHOOK_KEY = None
    org = add_org("acme", webhook_key="acme-old-key")
    new_key = rotate_webhook_key(org, timedelta(hours=1))
    body = DALGO.replace("entered state Failed", "entered state Crashed")
    assert post(DALGO, key="acme-old-key").status_code == 202
    assert post(body, key=new_key).status_code == 202
    assert {e.signed_by for e in FailureEvent.objects.all()} == {org}
    Org.objects.filter(pk=org.pk).update(webhook_key_previous_until=timezone.now() - timedelta(seconds=1))
    assert post(DALGO, key="acme-old-key").status_code == 401
    # Rotating without a grace period retires the current key at once.
    newest = rotate_webhook_key(Org.objects.get(pk=org.pk), timedelta(0))
    assert post(DALGO, key=new_key).status_code == 401
    assert post(DALGO, key=newest).json()["duplicate"] is True


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
def test_only_post_is_allowed():
    assert Client().get(URL).status_code == 405


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
def test_secrets_in_the_state_message_are_redacted_before_they_are_stored():
    body = json.loads(robust_body("a2"))
    body["state_message"] = (
        "Flow run encountered an exception: OperationalError: could not connect to "
        "postgresql://loader:Hunter2-s3cret@db.internal:5432/warehouse (password=Hunter2-s3cret)"
    )
    assert post(json.dumps(body)).status_code == 202

    event = FailureEvent.objects.get()
    assert "Hunter2-s3cret" not in event.raw_body
    assert "Hunter2-s3cret" not in event.state_message
    assert "postgresql://loader:[REDACTED]@db.internal:5432/warehouse" in event.state_message


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize("encoded", [False, True], ids=["flow-run-object", "json-encoded-flow-run"])
def test_a_quoted_password_in_the_state_message_of_dalgos_flow_run_body_is_not_stored(encoded):
    """Dalgo's handler may send the flow run JSON-encoded inside `body`: the quotes in the state
    message are then escaped twice over in the raw body, three backslashes before each."""
    message = 'ValueError: invalid destination config {"host": "db.internal", "password": "Hunter2-s3cret"}'
    run = captured("c_flow_run.json") | {"id": RUN, "state": DALGO_STATE | {"message": message}}
    assert post(json.dumps({"body": json.dumps(run) if encoded else run})).status_code == 202

    event = FailureEvent.objects.get()
    assert "Hunter2-s3cret" not in event.state_message
    assert "Hunter2-s3cret" not in event.raw_body
    assert "db.internal" in event.raw_body


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize(
    "body",
    [
        {"body": f"Flow run x with id {RUN} entered state Failed"},
        {"body": json.dumps(captured("c_flow_run.json") | {"id": RUN, "state": DALGO_STATE})},
        {"body": captured("c_flow_run.json") | {"id": RUN, "state": DALGO_STATE}},
    ],
    ids=["sentence", "json-encoded-flow-run", "flow-run-object"],
)
def test_each_body_dalgos_handler_accepts_is_stored_for_work(body):
    answer = post(json.dumps(body))
    assert answer.status_code == 202
    event = FailureEvent.objects.get(pk=answer.json()["event_id"])
    assert (event.flow_run_id, event.state_name, event.status) == (RUN, "Failed", FailureEvent.Status.PENDING)


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
def test_prefects_default_notification_body_is_stored_for_work_and_folds_with_the_robust_one():
    """A send-notification automation with Prefect's own body template (every migrated notification
    policy has one) next to setup-prefect's call-webhook: one event for the one crash."""
    answer = post(captured("d_webhook_send_notification.json")["body"])
    assert answer.status_code == 202, answer.json()
    event = FailureEvent.objects.get(pk=answer.json()["event_id"])
    assert (event.shape, event.flow_run_id, event.state_name, event.status) == (
        "notification",
        "a7d4e6ef-1f2a-4db2-8e1c-e2a3c1382028",
        "Crashed",
        FailureEvent.Status.PENDING,
    )
    assert post(robust_body("d")).json() == {"event_id": event.pk, "duplicate": True}


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
def test_the_url_without_its_trailing_slash_is_the_webhook_too():
    """Django would answer 301 to the slash-less URL; neither of Prefect's webhook blocks follows a
    redirect, so every failure posted there was lost."""
    answer = Client().post(
        URL.rstrip("/"),
        data=DALGO,
        content_type="application/json",
        headers={"X-Notification-Key": WEBHOOK_KEY},
    )
    assert answer.status_code == 202
    assert FailureEvent.objects.get().flow_run_id == RUN


# Prefect cuts a state message at 100,000 characters in its events (TRUNCATE_STATE_MESSAGES_AT), and
# both call-webhook bodies render it with Jinja's `tojson`, which writes every non-ASCII character
# (and < > & ') as a 6-byte \uXXXX escape. A raw event carries it twice: its resource's label and its
# payload's validated state.
LONGEST_MESSAGE = "Flow run encountered an exception: " + "त्रुटि: तालिका में स्तंभ मौजूद नहीं है; " * 3000


def tojson(value: object) -> str:
    """Jinja's `tojson` filter (htmlsafe_json_dumps) as Prefect's template engine applies it."""
    text = json.dumps(value)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("'", "\\u0027")):
        text = text.replace(char, escape)
    return text


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
@pytest.mark.parametrize("shape", ["robust", "raw_event"])
def test_a_failure_with_the_longest_state_message_prefect_sends_is_stored(shape):
    message = LONGEST_MESSAGE[:100_000]
    if shape == "robust":
        body = tojson(json.loads(robust_body("a")) | {"state_message": message})
    else:
        event = json.loads(captured("a_webhook_raw_event.json")["body"])
        event["resource"]["prefect.state-message"] = message
        event["payload"]["validated_state"]["message"] = message
        body = tojson(event)
    assert len(body) > 450_000  # far over the old 256 KiB limit
    answer = post(body)
    assert answer.status_code == 202, answer.json()
    assert FailureEvent.objects.get().state_message == message


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
def test_dalgos_sentence_for_a_run_retried_and_failed_again_is_a_new_event_and_a_prompt_repeat_is_not():
    """Dalgo's sentence carries no state time. Prefect re-sends a send-notification it could not
    deliver within about 200 ms: a repeat that soon is the same failure. A run retried from
    Prefect's UI fails again minutes later with the very same sentence: a failure of its own."""
    first = post(DALGO).json()
    assert post(DALGO).json() == {"event_id": first["event_id"], "duplicate": True}

    FailureEvent.objects.filter(pk=first["event_id"]).update(
        received_at=timezone.now() - timedelta(minutes=5), status=FailureEvent.Status.DONE
    )
    again = post(DALGO).json()
    assert again["duplicate"] is False
    assert FailureEvent.objects.get(pk=again["event_id"]).status == FailureEvent.Status.PENDING
    assert post(DALGO).json() == {"event_id": again["event_id"], "duplicate": True}
    assert FailureEvent.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.usefixtures("keyed")
def test_a_body_without_a_state_time_but_with_prefects_event_id_is_told_apart_by_that_id():
    """A hand-written template may leave out the time; Prefect's event id still names the state change."""
    body = {"flow_run_id": RUN, "state_name": "Failed", "event_id": "01a20fe9-a518-7ecf-8ebf-1ff77ba6768d"}
    first = post(json.dumps(body)).json()
    assert post(json.dumps(body)).json() == {"event_id": first["event_id"], "duplicate": True}
    second = post(json.dumps(body | {"event_id": "01a20fe9-a518-7ecf-8ebf-1ff77ba6768e"})).json()
    assert second["duplicate"] is False
