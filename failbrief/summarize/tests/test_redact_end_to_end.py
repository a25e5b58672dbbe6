"""Secrets a failing task logged reach neither the LLM request nor the stored summary, the read API
or a Slack notification: a webhook in, through the real service (Celery worker, fake Prefect, fake
LLM through the official SDK, a loopback Slack receiver)."""

from __future__ import annotations

import json
import re

import pytest
from django.forms.models import model_to_dict

from failbrief.condense.redact import REDACTED
from failbrief.condense.tests.test_secret_corpus import KINDS, leaked
from failbrief.events.models import FailureEvent
from failbrief.notify.manage import add_channel
from failbrief.notify.models import Notification
from failbrief.summarize.models import LlmSession
from failbrief.summarize.tests.test_llm_end_to_end import opt_in
from failbrief.testing.fixtures import completed_summaries, post_webhook, wait_for
from failbrief.testing.scenarios import captured, flow_run_id, robust_body

pytestmark = [
    pytest.mark.services,
    pytest.mark.usefixtures("celery_worker", "service_settings", "llm_settings"),
]

# The kinds the issue names, as the failing task of scenario a2 logs them just before it fails.
SEEDED = [
    kind
    for kind in KINDS
    if kind["kind"]
    in {
        "url-password-with-at", "aws-secret-lowercase-ini", "aws-bare-secret-beside-key-id",
        "github-oauth-token-bare", "github-classic-pat-in-clone-url", "gitlab-pat-in-url",
        "slack-bot-token", "slack-webhook-url", "discord-webhook-url", "stripe-secret-key",
        "google-api-key-bare", "openai-project-key", "shopify-access-token", "npm-token-bare",
        "telegram-bot-token", "pgpassword-env", "cli-password-flag",
        "gcp-service-account-json-private-key", "azure-sas-sig", "azure-storage-account-key",
    }
]  # fmt: skip


def seeded_log_record() -> dict[str, object]:
    """One ERROR record in the failing task's logs, between its retry and its final failure."""
    [failing] = [r for r in captured("a2_logs_task.json") if r["level"] == 40][:1]
    record: dict[str, object] = failing | {
        "id": "0d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6",
        "timestamp": "2026-11-24T23:41:05.609300Z",
        "message": "\n".join(kind["line"] for kind in SEEDED),
    }
    return record


def test_seeded_secrets_reach_neither_the_llm_nor_the_stored_summary_the_api_or_slack(
    live_server, default_org, fake_llm, fake_prefect, slack_receiver
):
    org, token = default_org
    opt_in(live_server.url, token)
    add_channel(org, "ops-slack", "slack", {"url": slack_receiver.url("/services/T0/B0/abcd")})
    fake_prefect.add_logs([seeded_log_record()])
    assert post_webhook(live_server.url, robust_body("a2")).status_code == 202

    summaries = wait_for(lambda: completed_summaries(live_server.url, token, flow_run_id("a2")), timeout=20)
    wait_for(lambda: [n for n in Notification.objects.all() if n.status == "sent"], timeout=15)

    sent_to_llm = "\n".join(request.text for request in fake_llm.requests)
    assert REDACTED in sent_to_llm  # the seeded lines were in the context, redacted
    where = {
        "llm request": sent_to_llm,
        "api": json.dumps(summaries),
        "stored summary": json.dumps([model_to_dict(s) for s in LlmSession.objects.all()], default=str),
        "slack": "\n".join(request.body.decode() for request in slack_receiver.requests),
    }
    leaks = [
        (place, kind["kind"])
        for place, text in where.items()
        for kind in SEEDED
        if any(leaked(secret, text) for secret in kind["secrets"])
    ]
    assert leaks == []


@pytest.mark.parametrize("opted_in", [True, False], ids=["llm", "offline"])
def test_the_stored_context_is_the_redacted_text_the_brief_was_written_from(
    live_server, default_org, fake_llm, fake_prefect, opted_in
):
    _, token = default_org
    if opted_in:
        opt_in(live_server.url, token)
    fake_prefect.add_logs([seeded_log_record()])
    assert post_webhook(live_server.url, robust_body("a2")).status_code == 202
    wait_for(lambda: completed_summaries(live_server.url, token, flow_run_id("a2")), timeout=20)

    root = LlmSession.objects.get(flow_run_id=flow_run_id("a2"), position=0)
    assert "ValueError: Cannot convert order 0" in root.context  # the failure the brief explains
    assert REDACTED in root.context  # the seeded lines are there, redacted
    assert [keep for kind in SEEDED for keep in kind["keep"] if keep not in root.context] == []
    leaks = [kind["kind"] for kind in SEEDED if any(leaked(s, root.context) for s in kind["secrets"])]
    assert leaks == []
    assert root.evidence
    assert [line for line in root.evidence if line not in root.context] == []
    if opted_in:
        [request] = fake_llm.requests
        logs = re.search(r"<<<LOGS\n(.*?)\nLOGS>>>", request.text, re.DOTALL)
        assert logs is not None
        assert logs.group(1) == root.context  # exactly what the model read
    else:
        assert fake_llm.requests == []


def test_a_secret_in_the_state_message_of_a_run_whose_logs_show_no_error_is_redacted_everywhere(
    live_server, default_org, fake_prefect, slack_receiver
):
    """A crash whose logs just stop: the brief is read from the run's state message, which Prefect
    gives unredacted (here a connection string the failing driver put in its exception)."""
    org, token = default_org
    add_channel(org, "ops-slack", "slack", {"url": slack_receiver.url("/services/T0/B0/abcd")})
    run = captured("d_flow_run.json")
    message = (
        "Crash detected! Execution was interrupted by an unexpected exception: OperationalError: "
        "could not connect to postgresql://etl_loader:Wh1teRabbit-88@warehouse.internal:5432/analytics"
    )
    fake_prefect.add_flow_run(run | {"state": run["state"] | {"message": message}})
    assert post_webhook(live_server.url, robust_body("d")).status_code == 202

    summaries = wait_for(lambda: completed_summaries(live_server.url, token, run["id"]), timeout=20)
    wait_for(lambda: [n for n in Notification.objects.all() if n.status == "sent"], timeout=15)

    where = {
        "api": json.dumps(summaries),
        "stored summary": json.dumps([model_to_dict(s) for s in LlmSession.objects.all()], default=str),
        "slack": "\n".join(request.body.decode() for request in slack_receiver.requests),
    }
    assert "warehouse.internal" in where["api"]  # the message is shown, only its password hidden
    assert [place for place, text in where.items() if leaked("Wh1teRabbit-88", text)] == []


def test_a_secret_in_the_run_and_task_names_is_redacted_everywhere(
    live_server, default_org, fake_prefect, slack_receiver
):
    """Prefect names runs and tasks from templates over their parameters (`flow_run_name="backfill-
    {source}"`), so a connection string passed as a parameter becomes part of the names."""
    org, token = default_org
    add_channel(org, "ops-slack", "slack", {"url": slack_receiver.url("/services/T0/B0/abcd")})
    dsn = "postgresql://etl_loader:Wh1teRabbit-88@warehouse.internal:5432/analytics"
    run = captured("a2_flow_run.json")
    fake_prefect.add_flow_run(run | {"name": f"backfill-{dsn}"})
    tasks = captured("a2_task_runs.json")
    fake_prefect.add_task_runs([t | {"name": f"copy-orders-{dsn}"} for t in tasks])
    body = json.loads(robust_body("a2")) | {"flow_run_name": f"backfill-{dsn}"}
    assert post_webhook(live_server.url, json.dumps(body)).status_code == 202

    summaries = wait_for(lambda: completed_summaries(live_server.url, token, run["id"]), timeout=20)
    wait_for(lambda: [n for n in Notification.objects.all() if n.status == "sent"], timeout=15)

    where = {
        "api": json.dumps(summaries),
        "stored summary": json.dumps([model_to_dict(s) for s in LlmSession.objects.all()], default=str),
        "stored event": json.dumps([model_to_dict(e) for e in FailureEvent.objects.all()], default=str),
        "notification": json.dumps([n.payload for n in Notification.objects.all()]),
        "slack": "\n".join(request.body.decode() for request in slack_receiver.requests),
    }
    assert [place for place, text in where.items() if "warehouse.internal" not in text] == []
    assert [place for place, text in where.items() if leaked("Wh1teRabbit-88", text)] == []
