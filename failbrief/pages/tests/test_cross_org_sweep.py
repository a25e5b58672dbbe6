"""Org A's every credential (an admin's session, an org token, Dalgo's platform token acting for A)
against org B's every id, on every org-scoped URL the URLconf routes: each answers 404 or leaves B
out, and nothing of B's changes. The route tables are checked against the URLconf, so a new
org-scoped URL fails here until it joins the sweep."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from failbrief.notify.manage import add_channel
from failbrief.notify.models import Notification, NotifyChannel
from failbrief.orgs.manage import create_platform_token, create_token, revoke_token
from failbrief.orgs.models import ApiToken
from failbrief.pages.models import Feedback, Membership, TeamNote
from failbrief.pages.notes import save_note
from failbrief.pages.tests.conftest import Side, store_failure
from failbrief.summarize.models import LlmSession

SECRET = "b-only-7q"  # in every text of B's: no answer to A may carry it
SIG = "b" * 64
Ids = dict[str, Any]
# (method, URL name, URL args from B's ids (the org's slug first), form or JSON body)
Case = tuple[str, str, Callable[[Ids], list[Any]], dict[str, Any]]

PAGES: list[Case] = [
    ("GET", "pages:run", lambda b: [b["run"]], {}),
    ("GET", "pages:signature", lambda b: [SIG], {}),
    ("POST", "pages:signature_note", lambda b: [SIG], {"note": "ours now"}),
    ("POST", "pages:feedback", lambda b: [b["summary"]], {"vote": "down", "comment": "x"}),
    ("POST", "pages:regenerate", lambda b: [b["summary"]], {}),
    ("POST", "pages:settings_revoke_token", lambda b: [b["token"]], {}),
    ("POST", "pages:settings_test_channel", lambda b: ["b-mail"], {}),
    ("POST", "pages:settings_remove_channel", lambda b: ["b-mail"], {}),
]
API: list[Case] = [
    ("GET", "api:run_summaries", lambda b: [b["run"]], {}),
    ("GET", "api:one_summary", lambda b: [b["summary"]], {}),
    ("POST", "api:regenerate", lambda b: [b["summary"]], {}),
    ("PATCH", "api:update_channel", lambda b: ["b-mail"], {"enabled": False}),
    ("DELETE", "api:delete_channel", lambda b: ["b-mail"], {}),
    ("POST", "api:test_channel", lambda b: ["b-mail"], {}),
    ("GET", "api:task_progress", lambda b: [b["handle"]], {}),
]
# Lists and searches: A's answer, filtered by B's values, must not carry B's rows.
LISTS = {
    "pages:failures": [f"?q={SECRET}", "?q={run}", "?deployment=b-dep"],
    "pages:settings": [""],
    "api:list_summaries": ["?status=completed", "?limit=200"],
    "api:list_feedback": ["?limit=500"],
    "api:list_channels": [""],
    "api:list_notifications": ["?channel=b-mail&flow_run_id={run}", ""],
    "api:trigger_log_summary": ["?task_id={task}"],
    "api:trigger_airbyte_log_summary": ["?job_id=1"],
}
LIST_ARGS: dict[str, Callable[[Ids], list[Any]]] = {
    "api:trigger_log_summary": lambda b: [b["run"]],
    "api:trigger_airbyte_log_summary": lambda b: [b["connection"]],
}


def no_args(_: Ids) -> list[Any]:
    return []


# Routes that take no id that could be another org's: the org is the caller's own (their tests:
# pages/tests/test_settings.py, api/tests/test_platform_token.py), or nobody's.
NO_OTHER_ORGS_ID = {
    "pages:settings_llm",
    "pages:settings_rotate_key",
    "pages:settings_new_token",
    "pages:settings_new_channel",
    "pages:settings_check_prefect",
    "api:this_org",
    "api:llm_optin",
    "api:create_channel",
    "api:openapi-json",
    "api:openapi-view",
    "api:api-root",
}


def routes() -> dict[str, str]:
    """Every named route of the URLconf: "namespace:name" → its path pattern."""
    found: dict[str, str] = {}
    for top in get_resolver().url_patterns:
        if isinstance(top, URLResolver) and top.namespace:
            for p in top.url_patterns:
                if isinstance(p, URLPattern) and p.name:
                    found[f"{top.namespace}:{p.name}"] = str(top.pattern) + str(p.pattern)
    return found


def org_pages() -> set[str]:
    return {name for name, path in routes().items() if path.startswith("o/<slug:slug>/")}


def test_every_org_scoped_route_is_in_the_sweep():
    org_scoped = org_pages() | {name for name in routes() if name.startswith("api:")}
    swept = {case[1] for case in PAGES + API} | set(LISTS) | NO_OTHER_ORGS_ID
    assert org_scoped - swept == set()


def org_b(b: Side) -> Ids:
    row = store_failure(
        b.org,
        signature=SIG,
        deployment="b-dep",
        root_cause=f"{SECRET} table is missing",
        context=f"ERROR {SECRET} warehouse refused",
        airbyte_connection_id=str(uuid.uuid4()),
    )
    Feedback.objects.create(summary=row, user=b.member, helpful=True, comment=f"{SECRET} fb")
    save_note(b.org, SIG, f"{SECRET} note", b.admin)
    channel, _ = add_channel(b.org, "b-mail", "email", {"to": "ops@b.example"})
    Notification.objects.create(channel=channel, summary=row, repeat_key="b")
    create_token(b.org, label=f"{SECRET} token")
    return {
        "run": row.flow_run_id,
        "task": row.task_id,
        "summary": row.pk,
        "handle": str(row.request_uuid),
        "token": ApiToken.objects.get(org=b.org).pk,
        "connection": row.airbyte_connection_id,
    }


def leaks(ids: Ids, route: str) -> list[str]:
    """What only B's rows would put in an answer (a search box echoes the words asked, so those
    alone prove nothing)."""
    marks = [f"{SECRET} {w}" for w in ("table", "warehouse", "fb", "note", "token")]
    marks += [f"/runs/{ids['run']}/", "b-mail", ids["handle"]]
    return marks if route.startswith("pages:") else [*marks, f'"{ids["run"]}"', f'"id": {ids["summary"]},']


def send(client: Client, method: str, url: str, data: dict[str, Any]) -> Any:
    if method in {"PATCH", "DELETE"} or (method == "POST" and url.startswith("/api/")):
        return client.generic(method, url, json.dumps(data), "application/json")
    return client.post(url, data) if method == "POST" else client.get(url)


def unchanged(b: Side, ids: Ids) -> None:
    assert list(LlmSession.objects.filter(org=b.org).values_list("pk", flat=True)) == [ids["summary"]]
    assert Feedback.objects.get().comment == f"{SECRET} fb"
    assert TeamNote.objects.get().text == f"{SECRET} note"
    assert NotifyChannel.objects.get(name="b-mail").enabled
    assert Notification.objects.count() == 1
    assert ApiToken.objects.filter(org=b.org).count() == 1


@pytest.mark.parametrize("credential", ["session", "org token", "platform token"])
def test_org_as_credentials_reach_nothing_of_org_bs_on_any_route(sides, service_settings, credential):
    a, b = sides
    ids = org_b(b)
    if credential == "session":
        client, cases, lists = a.client("admin"), PAGES, [n for n in LISTS if n.startswith("pages:")]
        token = None
    else:
        token = create_token(a.org) if credential == "org token" else create_platform_token("dalgo")
        extra: dict[str, Any] = {"HTTP_X_FAILBRIEF_ORG": "org-a"} if credential == "platform token" else {}
        client = Client(HTTP_AUTHORIZATION=f"Bearer {token}", **extra)
        cases, lists = API, [n for n in LISTS if n.startswith("api:")]
    for method, name, args, data in cases:
        slugged = ["org-a"] if name.startswith("pages:") else []
        answer = send(client, method, reverse(name, args=slugged + args(ids)), data)
        assert answer.status_code == 404, (name, answer.status_code)
        assert SECRET not in answer.content.decode()
    for name in lists:
        slugged = ["org-a"] if name.startswith("pages:") else []
        for query in LISTS[name]:
            url = reverse(name, args=slugged + LIST_ARGS.get(name, no_args)(ids))
            answer = client.get(url + query.format(**ids))
            # A trigger of B's run or connection is refused; a list answers with A's rows only.
            assert answer.status_code == (404 if name in LIST_ARGS else 200), (name, query)
            body = answer.content.decode()
            assert not [m for m in leaks(ids, name) if m in body], (name, query)
    if credential == "session":
        # Under B's own slug every org page is a 404 to A's admin, however it is asked.
        for name in org_pages():
            extra_args = next((c[2](ids) for c in PAGES if c[1] == name), [])
            url = reverse(name, args=["org-b", *extra_args])
            assert client.get(url).status_code in {404, 405}, name
            assert client.post(url, {"vote": "up", "note": "x"}).status_code in {404, 405}, name
    unchanged(b, ids)

    # Access ends with the membership or the token, on the very next request.
    if credential == "session":
        Membership.objects.filter(user=a.admin, org=a.org).delete()
        assert client.get(reverse("pages:failures", args=["org-a"])).status_code == 404
    else:
        assert token is not None
        revoke_token(token)
        assert client.get("/api/v1/summaries").status_code == 401
