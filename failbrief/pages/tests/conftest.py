"""Two orgs, each with an admin and a member, and a way to store failures as the pipeline does."""

from __future__ import annotations

import itertools
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from failbrief.events.models import FailureEvent
from failbrief.events.run_facts import listed_facts
from failbrief.orgs.manage import add_org
from failbrief.orgs.models import Org
from failbrief.pages.models import Membership
from failbrief.summarize.models import LlmSession

PASSWORD = "correct horse battery staple"
_numbers = itertools.count(1)


@dataclass
class Side:
    org: Org
    admin: User
    member: User

    def client(self, who: str = "member") -> Client:
        client = Client()
        client.force_login(self.admin if who == "admin" else self.member)
        return client


def person(email: str, org: Org, role: str) -> User:
    user = User.objects.filter(username=email).first() or User.objects.create_user(
        email, email, PASSWORD, first_name=email.split("@")[0].title()
    )
    Membership.objects.create(user=user, org=org, role=role)
    return user


@pytest.fixture
def sides(db: None) -> tuple[Side, Side]:
    """Org A and org B, each with an admin and a member of its own."""
    found = []
    for slug in ("org-a", "org-b"):
        org = add_org(slug, name=slug.upper())
        found.append(
            Side(
                org, person(f"admin@{slug}.test", org, "admin"), person(f"member@{slug}.test", org, "member")
            )
        )
    return found[0], found[1]


def store_failure(
    org: Org,
    *,
    flow_run_id: str | None = None,
    flow: str = "orders_etl",
    deployment: str = "nightly",
    state: str = "Failed",
    root_cause: str = 'psycopg.errors.UndefinedTable: relation "orders" does not exist',
    category: str = "sql_error",
    signature: str = "",
    status: str = LlmSession.Status.COMPLETED,
    shape: str = "robust",
    state_timestamp: datetime | None = None,
    **fields: Any,
) -> LlmSession:
    """A failure as the webhook path stores it: the event (robust body; `shape="backfill"` as
    `failbrief backfill` stores it), then its summary row."""
    flow_run_id = flow_run_id or str(uuid.uuid4())
    body = {"flow_run_id": flow_run_id, "flow_name": flow, "deployment_name": deployment, "state_name": state}
    event = FailureEvent.objects.create(
        raw_body=json.dumps(body),
        shape=shape,
        flow_run_id=flow_run_id,
        flow_run_name="crimson-fox",
        state_name=state,
        state_timestamp=state_timestamp,
        dedup_key=f"{flow_run_id}|{state}|{next(_numbers)}",
    )
    values: dict[str, Any] = {
        "task_id": str(uuid.uuid4()),
        "task_name": "load_orders",
        "failing_step": "load_orders",
        "session_status": status,
        "root_cause": root_cause,
        "category": category,
        "confidence": "high",
        "evidence": ['ERROR psycopg.errors.UndefinedTable: relation "orders" does not exist'],
        "suggested_fix": "Run the migration that creates orders.",
        "explanation": "The load step queried a table that is not there.",
        "summarizer": "offline",
        "signature": signature,
    } | fields
    return LlmSession.objects.create(
        org=org, flow_run_id=flow_run_id, event=event, **listed_facts(event) | values
    )
