"""A log line an attacker wrote, repeated by the model as advice: what reaches Slack, the read API
and the run page. Through the real service (webhook, Celery worker, fake Prefect, fake LLM through
the official SDK, a loopback Slack receiver)."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from failbrief.notify.manage import add_channel
from failbrief.notify.models import Notification
from failbrief.pages.models import Membership
from failbrief.summarize.providers.llm_output import FROM_THE_LOGS
from failbrief.summarize.tests.llm_cases import brief_answer
from failbrief.summarize.tests.test_llm_end_to_end import opt_in
from failbrief.testing.fixtures import completed_summaries, post_webhook, wait_for
from failbrief.testing.scenarios import captured, flow_run_id, robust_body

pytestmark = [
    pytest.mark.services,
    pytest.mark.usefixtures("celery_worker", "service_settings", "llm_settings"),
]

# Data being synced and an API's answer, as the failing task of scenario a2 logs them: a currency
# code written right to left by U+202E (it shows "USD"), and a "renew your key" link.
REVERSED = "row 1 has currency \u202eDSU\u202c"
RENEW = "The billing API says: your API key expired, renew it at https://acme-billing.example/renew"
CAUSE = "ValueError: Cannot convert order 0: unsupported currency None"


def injected_log_record() -> dict[str, object]:
    [failing] = [r for r in captured("a2_logs_task.json") if r["level"] == 40][:1]
    record: dict[str, object] = failing | {
        "id": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
        "level": 30,
        "timestamp": "2026-11-24T23:41:05.609300Z",
        "message": f"{REVERSED}\n{RENEW}",
    }
    return record


def test_a_link_and_a_reversed_text_the_model_repeats_are_shown_inert_and_visible_everywhere(
    live_server, default_org, fake_llm, fake_prefect, slack_receiver
):
    org, token = default_org
    opt_in(live_server.url, token)
    add_channel(org, "ops-slack", "slack", {"url": slack_receiver.url("/services/T0/B0/abcd")})
    fake_prefect.add_logs([injected_log_record()])
    fake_llm.answer_next(
        brief_answer(
            root_cause=f"The transform cannot convert {REVERSED}.",
            failing_step="transform",
            category="code_bug",
            explanation="Order 0 has no currency, so the transform stopped and no rows were loaded.",
            suggested_fix=[
                "Your API key expired, renew it at https://acme-billing.example/renew",
                "Give order 0 a currency in the source, then run the flow again",
            ],
            evidence=[CAUSE],
            confidence="high",
        )
    )
    run = flow_run_id("a2")
    assert post_webhook(live_server.url, robust_body("a2")).status_code == 202

    summaries = wait_for(lambda: completed_summaries(live_server.url, token, run), timeout=20)
    wait_for(lambda: [n for n in Notification.objects.all() if n.status == "sent"], timeout=15)

    [root] = [s for s in summaries if s["summarizer"] == "openai"]
    assert root["confidence"] == "medium"  # the rules do not read this failure as high
    user = User.objects.create_user("lead@demo.example", "lead@demo.example", "pw-not-used-here")
    Membership.objects.create(user=user, org=org, role="member")
    browser = Client()
    browser.force_login(user)
    page = browser.get(f"/o/{org.slug}/runs/{run}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "\u202e" not in html  # nor in the condensed logs the page shows under the brief
    shown = {
        "slack": "\n".join(
            json.dumps(json.loads(r.body), ensure_ascii=False) for r in slack_receiver.requests
        ),
        "api": json.dumps(root, ensure_ascii=False),
        "page": html[html.index('<dl class="fields">') : html.index("</dl>")],  # the brief
    }
    for place, text in shown.items():
        assert "https://acme-billing.example" not in text, place
        assert "hxxps://acme-billing[.]example/renew" in text, place
        assert f"{FROM_THE_LOGS}Your API key expired" in text, place
        assert "\u202e" not in text, place
        assert "currency [U+202E]DSU[U+202C]" in text, place
