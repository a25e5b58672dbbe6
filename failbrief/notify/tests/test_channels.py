"""Each channel sends a real message through a real client to a loopback receiver (HTTP or SMTP)
and we check what a user would see, and how each failure is reported."""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from itertools import pairwise

import httpx
import pytest
from django.conf import LazySettings

from failbrief.notify.channels.base import ConfigError, DeliveryError
from failbrief.notify.channels.registry import CHANNELS, channel
from failbrief.notify.channels.webhook import sign, verify_signature
from failbrief.notify.message import Message, logs_used_line
from failbrief.testing.fake_receivers import FakeReceiver, FakeSmtp

SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
RUN_URL = "https://prefect.example.org/runs/flow-run/6b0c1f7e"
ROOT_CAUSE = 'Database Error in model orders: relation "raw.orders" does not exist'
SLACK_TOKEN = "Xq7sEcReTtOkEnAbCdEf1234"
CHAT_KINDS = ["slack", "discord", "teams", "webhook"]
OK_STATUS = {"slack": 200, "discord": 204, "teams": 202, "webhook": 200}


def message(**changes: object) -> Message:
    base = Message(
        org="demo",
        flow_run_id="6b0c1f7e",
        flow_run_name="crimson-okapi",
        deployment="dbt-nightly",
        failing_step="dbt-run",
        category="dbt_model_error",
        root_cause=ROOT_CAUSE,
        suggested_fix="Create raw.orders or point the model at the right source, then rerun.",
        run_url=RUN_URL,
        summary_id=42,
        confidence="high",
        evidence=("line one", "line two", "line three", "line four"),
        summarizer="offline",
        failed_at=datetime(2025, 3, 1, 14, 5, tzinfo=UTC),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as client:
        yield client


def sent_to(kind: str, receiver: FakeReceiver, http: httpx.Client, msg: Message | None = None) -> object:
    """Send `msg` through channel `kind` to the receiver; the JSON it received."""
    config = channel(kind).clean_config({"url": receiver.url("/services/T0/B0/" + SLACK_TOKEN)})
    channel(kind).send(config, msg or message(), http, "delivery-1")
    return receiver.requests[-1].json


def texts(value: object) -> list[str]:
    """Every string anywhere in a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in texts(item)]
    if isinstance(value, list):
        return [text for item in value for text in texts(item)]
    return []


def test_slack_shows_the_title_root_cause_and_a_button_to_the_run(http: httpx.Client) -> None:
    with FakeReceiver() as hook:
        body = sent_to("slack", hook, http)
    assert isinstance(body, dict)
    blocks = body["blocks"]
    assert blocks[0] == {"type": "header", "text": {"type": "plain_text", "text": "dbt-nightly failed"}}
    assert any(ROOT_CAUSE in text for text in texts(blocks))
    assert {"type": "button", "text": {"type": "plain_text", "text": "Open the run"}, "url": RUN_URL} in [
        element for block in blocks if block["type"] == "actions" for element in block["elements"]
    ]
    assert body["text"].startswith("dbt-nightly failed: Database Error")
    assert "```line one\nline two\nline three```" in texts(blocks)  # at most 3 evidence lines


def test_slack_does_not_let_log_text_ping_the_channel(http: httpx.Client) -> None:
    with FakeReceiver() as hook:
        body = sent_to("slack", hook, http, message(root_cause="<!channel> disk full & <https://x.io|click>"))
    sent = "\n".join(texts(body))
    assert "<!channel>" not in sent
    assert "&lt;!channel&gt; disk full &amp; &lt;https://x.io|click&gt;" in sent


def test_slack_cuts_long_fields_to_its_limits(http: httpx.Client) -> None:
    with FakeReceiver() as hook:
        body = sent_to("slack", hook, http, message(root_cause="<" * 10_000, deployment="d" * 400))
    assert isinstance(body, dict)
    assert len(body["blocks"][0]["text"]["text"]) == 150
    sections = [
        block["text"]["text"] for block in body["blocks"] if block["type"] == "section" and "text" in block
    ]
    assert all(len(text) <= 3000 for text in sections)
    assert sections[0].endswith("&lt;…")  # cut between entities, never through one


def test_discord_embed_stays_within_discords_limits_with_a_10k_root_cause(http: httpx.Client) -> None:
    long = message(
        root_cause="x" * 10_000, suggested_fix="y" * 5000, flow_run_name="r" * 3000, deployment="d" * 500
    )
    with FakeReceiver(status=204) as hook:
        body = sent_to("discord", hook, http, long)
    assert isinstance(body, dict)
    [embed] = body["embeds"]
    fields = embed["fields"]
    total = len(embed["title"]) + len(embed["description"]) + len(embed["footer"]["text"])
    total += sum(len(field["name"]) + len(field["value"]) for field in fields)
    assert total <= 6000
    assert len(embed["title"]) <= 256
    assert len(embed["description"]) <= 4096
    assert embed["description"].startswith("**Root cause**\nxxxx")
    assert all(len(field["value"]) <= 1024 and len(field["name"]) <= 256 for field in fields)
    assert embed["url"] == RUN_URL
    assert body["allowed_mentions"] == {"parse": []}


def test_discord_accepts_dalgos_discord_webhook_key(http: httpx.Client) -> None:
    with FakeReceiver(status=204) as hook:
        config = channel("discord").clean_config({"discord_webhook": hook.url("/api/webhooks/1/tok")})
        channel("discord").send(config, message(repeat_count=3), http, "d-1")
        [embed] = hook.requests[0].json["embeds"]
    assert embed["title"] == "dbt-nightly failing again (3\N{MULTIPLICATION SIGN})"
    assert {"name": "Evidence", "value": "```\nline one\nline two\nline three\n```", "inline": False} in (
        embed["fields"]
    )


def test_teams_gets_an_adaptive_card_in_a_message_activity(http: httpx.Client) -> None:
    first = datetime(2025, 2, 28, 9, 30, tzinfo=UTC)
    with FakeReceiver(status=202, body=b"") as hook:
        body = sent_to("teams", hook, http, message(repeat_count=4, first_failed_at=first))
    assert isinstance(body, dict)
    assert body["type"] == "message"
    [attachment] = body["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert (card["type"], card["version"]) == ("AdaptiveCard", "1.4")
    assert card["body"][0]["text"] == "dbt-nightly failing again (4\N{MULTIPLICATION SIGN})"
    assert {"title": "First failed", "value": "2025-02-28 09:30 UTC"} in card["body"][1]["facts"]
    assert ROOT_CAUSE in [block.get("text") for block in card["body"]]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open the run", "url": RUN_URL}]


def test_a_teams_card_of_non_ascii_logs_stays_under_teams_28_kb_message_limit(http: httpx.Client) -> None:
    # Teams counts bytes: 4000 characters of Hindi are 12 KB of UTF-8, and a card over 28 KB is
    # accepted by the workflow (202) and then never posted.
    hindi = "डेटाबेस त्रुटि: तालिका नहीं मिली " * 400
    long = message(root_cause=hindi, suggested_fix=hindi, evidence=(hindi, hindi, hindi), failing_step=hindi)
    with FakeReceiver(status=202, body=b"") as hook:
        body = sent_to("teams", hook, http, long)
        size = len(hook.requests[-1].body)
    assert size <= 28 * 1024
    assert isinstance(body, dict)
    shown = texts(body)
    assert any(text.startswith("डेटाबेस त्रुटि") and text.endswith("…") for text in shown)
    assert "Root cause" in shown


def test_the_signed_webhook_verifies_and_a_tampered_or_old_request_does_not(http: httpx.Client) -> None:
    with FakeReceiver() as hook:
        config = channel("webhook").clean_config({"url": hook.url("/failbrief")})
        channel("webhook").send(config, message(), http, "delivery-7")
        [request] = hook.requests
    secret, headers, body = config["secret"], request.headers, request.body
    stamp, signature = headers["x-failbrief-timestamp"], headers["x-failbrief-signature"]
    assert headers["content-type"] == "application/json"
    assert headers["x-failbrief-delivery"] == "delivery-7"
    assert verify_signature(secret, stamp, body, signature)
    assert not verify_signature(secret, stamp, body.replace(b"orders", b"ordres"), signature)
    assert not verify_signature("fb_another-secret-entirely", stamp, body, signature)
    assert not verify_signature(secret, stamp, body, signature, now=int(stamp) + 301)
    assert verify_signature(secret, stamp, body, signature, now=int(stamp) + 299)
    payload = json.loads(body)
    assert payload["event"] == "summary.completed"
    assert payload["delivery_id"] == "delivery-7"
    assert payload["root_cause"] == ROOT_CAUSE
    assert payload["failed_at"] == "2025-03-01T14:05:00+00:00"
    assert payload["first_failed_at"] is None
    assert payload["evidence"] == ["line one", "line two", "line three", "line four"]


def test_a_repeat_is_sent_to_the_webhook_as_summary_repeated(http: httpx.Client) -> None:
    with FakeReceiver() as hook:
        first = datetime(2025, 2, 28, 9, 30, tzinfo=UTC)
        payload = sent_to("webhook", hook, http, message(repeat_count=2, first_failed_at=first))
    assert isinstance(payload, dict)
    assert (payload["event"], payload["repeat_count"]) == ("summary.repeated", 2)
    assert payload["first_failed_at"] == "2025-02-28T09:30:00+00:00"


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_429_is_retried_no_sooner_than_retry_after(kind: str, http: httpx.Client) -> None:
    with FakeReceiver(status=OK_STATUS[kind]) as hook:
        hook.fail_next(429, headers={"Retry-After": "7"}, body=b'{"message": "You are being rate limited."}')
        with pytest.raises(DeliveryError) as caught:
            sent_to(kind, hook, http)
        sent_to(kind, hook, http)  # the next try goes through
    assert caught.value.retryable
    assert caught.value.retry_after == 7.0
    assert "429" in caught.value.reason


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_a_server_error_is_retryable(kind: str, http: httpx.Client) -> None:
    with FakeReceiver() as hook:
        hook.fail_next(500, body=b"upstream exploded")
        with pytest.raises(DeliveryError) as caught:
            sent_to(kind, hook, http)
    assert caught.value.retryable
    assert caught.value.retry_after is None


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_a_deleted_webhook_fails_at_once_with_what_the_service_said(kind: str, http: httpx.Client) -> None:
    with FakeReceiver() as hook:
        hook.fail_next(404, body=b"no_service")
        with pytest.raises(DeliveryError) as caught:
            sent_to(kind, hook, http)
    assert not caught.value.retryable
    assert "404" in caught.value.reason
    assert "no_service" in caught.value.reason
    assert SLACK_TOKEN not in caught.value.reason


def test_an_unreachable_receiver_is_retryable(http: httpx.Client) -> None:
    with FakeReceiver() as hook:
        url = hook.url("/services/T0/B0/" + SLACK_TOKEN)
    with pytest.raises(DeliveryError) as caught:
        channel("slack").send({"url": url}, message(), http, "d-1")
    assert caught.value.retryable
    assert SLACK_TOKEN not in caught.value.reason


def test_a_receiver_that_does_not_answer_in_time_is_retryable() -> None:
    with FakeReceiver() as hook, httpx.Client(timeout=0.2) as impatient:
        hook.delay(2.0)
        with pytest.raises(DeliveryError) as caught:
            sent_to("discord", hook, impatient)
    assert caught.value.retryable
    assert "did not answer in time" in caught.value.reason


def test_a_redirect_is_not_followed(http: httpx.Client) -> None:
    with FakeReceiver() as hook:
        hook.fail_next(302, headers={"Location": hook.url("/elsewhere")})
        with pytest.raises(DeliveryError) as caught:
            sent_to("teams", hook, http)
        assert [request.path for request in hook.requests] == ["/services/T0/B0/" + SLACK_TOKEN]
    assert not caught.value.retryable
    assert "redirects are not followed" in caught.value.reason


@pytest.fixture
def smtp(settings: LazySettings) -> Iterator[FakeSmtp]:
    with FakeSmtp() as server:
        settings.EMAIL_BACKEND = SMTP_BACKEND  # pytest-django's is locmem
        settings.EMAIL_HOST = server.host
        settings.EMAIL_PORT = server.port
        settings.DEFAULT_FROM_EMAIL = "failbrief@example.org"
        yield server


def test_email_arrives_with_a_text_part_and_an_escaped_html_part(smtp: FakeSmtp, http: httpx.Client) -> None:
    config = channel("email").clean_config({"to": "ops@example.org; data@example.org"})
    hostile = message(root_cause="<script>alert(1)</script> in model orders")
    channel("email").send(config, hostile, http, "delivery-9")
    [mail] = smtp.mails
    assert mail.rcpt_tos == ["ops@example.org", "data@example.org"]
    assert mail.message["Subject"] == "[failbrief] dbt-nightly failed"
    assert mail.message["X-Failbrief-Delivery"] == "delivery-9"
    text, html = mail.part("plain"), mail.part("html")
    assert "Root cause:\n<script>alert(1)</script> in model orders" in text
    assert f"Run: {RUN_URL}" in text
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; in model orders" in html
    assert f'href="{RUN_URL}"' in html


@pytest.mark.parametrize(
    ("reply", "retryable"), [("550 5.1.1 No such user", False), ("451 4.3.0 Later", True)]
)
def test_a_refused_recipient_is_permanent_on_5xx_and_retried_on_4xx(
    smtp: FakeSmtp, http: httpx.Client, reply: str, retryable: bool
) -> None:
    smtp.reject_next(reply)
    with pytest.raises(DeliveryError) as caught:
        channel("email").send({"to": "ops@example.org"}, message(), http, "d-1")
    assert caught.value.retryable is retryable
    assert reply.split()[0] in caught.value.reason
    assert smtp.mails == []


def test_a_refused_message_body_is_permanent_on_5xx(smtp: FakeSmtp, http: httpx.Client) -> None:
    smtp.reject_next("554 5.6.0 Message rejected", at="data")
    with pytest.raises(DeliveryError) as caught:
        channel("email").send({"to": "ops@example.org"}, message(), http, "d-1")
    assert not caught.value.retryable
    assert "554" in caught.value.reason


def test_an_unreachable_mail_server_is_retryable(
    smtp: FakeSmtp, settings: LazySettings, http: httpx.Client
) -> None:
    with FakeReceiver() as closed:
        port = int(closed.base_url.rsplit(":", 1)[1])
    settings.EMAIL_PORT = port
    with pytest.raises(DeliveryError) as caught:
        channel("email").send({"to": "ops@example.org"}, message(), http, "d-1")
    assert caught.value.retryable


def test_email_without_email_host_says_so(settings: LazySettings, http: httpx.Client) -> None:
    settings.EMAIL_BACKEND = SMTP_BACKEND
    settings.EMAIL_HOST = ""
    with pytest.raises(DeliveryError) as caught:
        channel("email").send({"to": "ops@example.org"}, message(), http, "d-1")
    assert not caught.value.retryable
    assert "EMAIL_HOST is not set" in caught.value.reason


@pytest.mark.parametrize("kind", CHAT_KINDS)
@pytest.mark.parametrize(
    "url", ["http://example.com/hook", "ftp://example.com/hook", "hooks.slack.com/x", ""]
)
def test_a_webhook_url_must_be_https(kind: str, url: str) -> None:
    with pytest.raises(ConfigError, match=r"https://|needs a webhook URL|no host"):
        channel(kind).clean_config({"url": url})


def test_plain_http_is_allowed_to_this_machine() -> None:
    assert channel("slack").clean_config({"url": "http://127.0.0.1:9000/hook"}) == {
        "url": "http://127.0.0.1:9000/hook"
    }


def test_a_misspelt_config_key_is_an_error() -> None:
    with pytest.raises(ConfigError, match="no key 'ulr'"):
        channel("slack").clean_config({"ulr": "https://hooks.slack.com/services/T/B/x"})


def test_email_addresses_are_checked_and_stored_comma_separated() -> None:
    assert channel("email").clean_config({"to": " a@x.org,b@y.org ,a@x.org"}) == {"to": "a@x.org, b@y.org"}
    assert channel("email").clean_config({"to": ["a@x.org"]}) == {"to": "a@x.org"}
    with pytest.raises(ConfigError, match="'not-an-address' is not an email address"):
        channel("email").clean_config({"to": "a@x.org, not-an-address"})
    with pytest.raises(ConfigError, match="at least one address"):
        channel("email").clean_config({"to": " , "})


def test_the_webhook_gets_a_generated_secret_unless_one_is_given() -> None:
    url = "https://receiver.example.org/failbrief"
    assert channel("webhook").clean_config({"url": url})["secret"].startswith("fb_")
    given = channel("webhook").clean_config({"url": url, "secret": "s" * 32})
    assert given == {"url": url, "secret": "s" * 32}
    with pytest.raises(ConfigError, match="at least 16"):
        channel("webhook").clean_config({"url": url, "secret": "short"})


@pytest.mark.parametrize(
    ("kind", "url", "token", "hint"),
    [
        (
            "slack",
            f"https://hooks.slack.com/services/T0AB/B0CD/{SLACK_TOKEN}",
            SLACK_TOKEN,
            "hooks.slack.com/…/1234",
        ),
        (
            "discord",
            "https://discord.com/api/webhooks/1234/aBcD-tOkEn-xyz9",
            "aBcD-tOkEn",
            "discord.com/…/xyz9",
        ),
        (
            "teams",
            "https://prod-01.westeurope.logic.azure.com:443/workflows/9f8e7d6c/triggers/manual/paths/invoke"
            "?api-version=2016-06-01&sp=%2Ftriggers&sv=1.0&sig=SiGnAtUrE123",
            "SiGnAtUrE123",
            "prod-01.westeurope.logic.azure.com/…/7d6c",
        ),
        ("webhook", "https://r.example.org/in?token=hush-hush-hush", "hush-hush", "r.example.org/…/in"),
    ],
)
def test_describe_never_shows_the_token(kind: str, url: str, token: str, hint: str) -> None:
    config = channel(kind).clean_config({"url": url})
    assert channel(kind).describe(config) == hint
    assert token not in channel(kind).describe(config)
    if kind == "webhook":
        assert config["secret"] not in channel(kind).describe(config)


def test_an_unknown_kind_lists_the_kinds_there_are() -> None:
    with pytest.raises(
        ConfigError, match="unknown channel kind 'pager'; one of slack, discord, teams, email, webhook"
    ):
        channel("pager")
    assert set(CHANNELS) == {"slack", "discord", "teams", "email", "webhook"}


def test_a_fresh_timestamp_is_required_even_with_a_good_signature() -> None:
    stamp = str(int(time.time()) - 3600)
    body = b'{"event":"summary.completed"}'
    assert not verify_signature(
        "fb_secret-secret-secret", stamp, body, sign("fb_secret-secret-secret", stamp, body)
    )
    assert not verify_signature("fb_secret-secret-secret", "not-a-number", body, "sha256=00")


@pytest.mark.parametrize("kind", ["slack", "discord", "teams"])
def test_a_low_confidence_brief_says_so_in_its_facts(kind: str, http: httpx.Client) -> None:
    # Without it a guessed root cause reads exactly like a certain one.
    with FakeReceiver(status=OK_STATUS[kind]) as hook:
        shown = texts(sent_to(kind, hook, http, message(confidence="low")))
    assert "*Confidence*\nlow" in shown or ("Confidence", "low") in list(pairwise(shown))


@pytest.mark.parametrize("kind", ["slack", "discord", "teams"])
def test_a_chat_message_says_which_summarizer_wrote_the_brief(kind: str, http: httpx.Client) -> None:
    # An LLM's fix is read as advice: the reader must be able to tell it from the rules' own.
    with FakeReceiver(status=OK_STATUS[kind]) as hook:
        shown = texts(sent_to(kind, hook, http, message(summarizer="openai")))
    assert any("summary #42" in text and "summarizer: openai" in text for text in shown)


def test_a_low_confidence_brief_says_so_in_email(smtp: FakeSmtp, http: httpx.Client) -> None:
    channel("email").send({"to": "ops@example.org"}, message(confidence="low"), http, "d-1")
    [mail] = smtp.mails
    assert "Confidence: low" in mail.part("plain")
    assert "Confidence" in mail.part("html")


PHISH = "[Rotate the warehouse password here](https://evil.example/login)"


@pytest.mark.parametrize("kind", ["discord", "teams"])
def test_a_markdown_link_in_log_text_reaches_a_chat_as_text_not_a_disguised_link(
    http: httpx.Client, kind: str
) -> None:
    # Discord embeds and Teams cards render Markdown: a masked link from a log line (an API's error
    # body, a run name templated from parameters) would show its label under failbrief's name and
    # hide where it goes. The text and the URL stay readable; only the link syntax is broken.
    sneaky = message(
        root_cause=f"Error from the source API: {PHISH}",
        suggested_fix=PHISH,
        flow_run_name=PHISH,
        deployment="",
        failing_step=PHISH,
        evidence=(PHISH,),
    )
    with FakeReceiver(status=204 if kind == "discord" else 202, body=b"") as hook:
        body = sent_to(kind, hook, http, sneaky)
    shown = texts(body)
    assert not any("](http" in text or "]( http" in text for text in shown), shown
    assert any(
        "Rotate the warehouse password here" in text and "https://evil.example/login" in text
        for text in shown
    )


FALLBACK_NOTE = (
    "Airbyte could not be read (AirbyteAuthError: POST /jobs/get_without_logs answered 401: "
    '{"message":"Unauthorized"}' + " x" * 200 + "), so this sync is summarized from Prefect's logs."
)


@pytest.mark.parametrize("kind", CHAT_KINDS)
def test_a_brief_written_from_the_fallback_logs_says_so_in_one_line(kind: str, http: httpx.Client) -> None:
    msg = message(logs_used=logs_used_line("prefect", FALLBACK_NOTE))
    with FakeReceiver(status=OK_STATUS[kind], body=b"" if kind == "teams" else b"ok") as hook:
        body = sent_to(kind, hook, http, msg)
    lines = [line for text in texts(body) for line in text.splitlines()]
    said = [line for line in lines if "Prefect's logs, Airbyte could not be read" in line]
    assert said, "the message does not say the brief is from the fallback logs"
    assert all(len(line) < 300 for line in said)  # one short line, not the whole error


def test_a_brief_from_the_fallback_says_so_in_an_email(smtp: FakeSmtp, http: httpx.Client) -> None:
    config = channel("email").clean_config({"to": "ops@example.org"})
    channel("email").send(config, message(logs_used=logs_used_line("prefect", FALLBACK_NOTE)), http, "d")
    [mail] = smtp.mails
    assert "Logs used: Prefect's logs, Airbyte could not be read" in mail.part("plain")
    assert "Airbyte could not be read" in mail.part("html")


def test_a_brief_from_its_usual_logs_adds_no_such_line(http: httpx.Client) -> None:
    with FakeReceiver() as hook:
        body = sent_to("slack", hook, http)
    assert not any("Logs used" in text for text in texts(body))
