"""The failures list's text search (the same answers on SQLite and PostgreSQL, where a trigram index
serves it) and what a page costs: the same queries whatever it shows and whoever reads it."""

from __future__ import annotations

import importlib
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.test import Client
from django.urls import reverse

from failbrief.orgs.manage import add_org
from failbrief.orgs.models import Org
from failbrief.pages.failures import SEARCHED, Filters, failure_rows
from failbrief.pages.models import Membership
from failbrief.pages.tests.conftest import Side, store_failure
from failbrief.summarize.models import LlmSession

trigram_migration = importlib.import_module("failbrief.summarize.migrations.0004_pages_search_trigram")


def causes(client: Client, slug: str, q: str) -> set[str]:
    answer = client.get(reverse("pages:failures", args=[slug]), {"q": q})
    assert answer.status_code == 200
    return set(re.findall(r"cause [a-z]+-[0-9]", answer.content.decode()))


@pytest.mark.services
def test_search_finds_the_orgs_own_failures_in_any_case_and_nothing_of_another_org(sides):
    a, b = sides
    store_failure(a.org, root_cause="cause apple-1: Relation ORDERS_Archive does not exist")
    store_failure(a.org, root_cause="cause apple-2", failing_step="load_Invoices")
    store_failure(a.org, root_cause="cause apple-3", deployment="nightly-Payroll", flow="hr_flow")
    run = store_failure(a.org, root_cause="cause apple-4", flow_run_id=str(uuid.uuid4()))
    store_failure(b.org, root_cause="cause berry-1: relation orders_archive does not exist")
    store_failure(b.org, root_cause="cause berry-2: only-in-b happened")
    client_a, client_b = a.client(), b.client()

    assert causes(client_a, "org-a", "orders_archive") == {"cause apple-1"}
    assert causes(client_b, "org-b", "ORDERS_ARCHIVE") == {"cause berry-1"}
    assert causes(client_a, "org-a", "invoices") == {"cause apple-2"}  # the failing step
    assert causes(client_a, "org-a", "PAYROLL") == {"cause apple-3"}  # the deployment
    assert causes(client_a, "org-a", "hr_fl") == {"cause apple-3"}  # the flow
    assert causes(client_a, "org-a", "LOAD_orders") == {f"cause apple-{n}" for n in (1, 2, 3, 4)}  # the task
    assert causes(client_a, "org-a", run.flow_run_id) == {"cause apple-4"}  # a run id, exactly
    assert causes(client_a, "org-a", run.flow_run_id[:8]) == set()
    # A word only org B has is found by no one in org A, and `_` and `%` are letters, not wildcards.
    assert causes(client_a, "org-a", "only-in-b") == set()
    assert causes(client_b, "org-b", "only-in-b") == {"cause berry-2"}
    assert causes(client_a, "org-a", "orders%archive") == set()
    assert causes(client_a, "org-a", "ordersXarchive") == set()


def plan(org: Org, q: str) -> str:
    with connection.cursor() as cursor:
        # A test table is small enough for the planner to read it whole, whatever the word.
        cursor.execute("SET LOCAL enable_seqscan = off")
    return failure_rows(org, Filters(q=q))[:51].explain()


@pytest.mark.services
def test_on_postgresql_a_rare_word_is_searched_in_the_trigram_index_and_a_common_one_is_not(sides):
    if connection.vendor != "postgresql":
        pytest.skip("the trigram index exists on PostgreSQL only")
    a, b = sides
    common = "psycopg.errors.UndefinedTable: relation orders does not exist"
    for org in (a.org, b.org):
        LlmSession.objects.bulk_create(
            LlmSession(
                org=org,
                flow_run_id=f"{org.slug}-run-{n}",
                task_id="t",
                task_name="load_orders",
                failing_step="load_orders",
                root_cause=f"{common} (run {n})",
                session_status=LlmSession.Status.COMPLETED,
            )
            for n in range(3000)
        )
    with connection.cursor() as cursor:
        # What autovacuum does in production: new rows' trigrams move from the index's pending
        # list (which every search reads whole) into the index proper; statistics are gathered.
        cursor.execute("SELECT gin_clean_pending_list('summary_list_search')")
        cursor.execute("ANALYZE summarize_llmsession")

    # The index is on the very expressions icontains compares: each searched field is looked up
    # in it, and the run id in the unique index.
    assert SEARCHED == trigram_migration.SEARCHED
    rare = plan(a.org, "zebra")
    assert rare.count("Bitmap Index Scan on summary_list_search") == len(SEARCHED), rare
    # Every row holds the common word: the list is read newest first until the page is full.
    common_plan = plan(a.org, "relation orders")
    assert "summary_list_search" not in common_plan, common_plan


def test_the_search_migration_is_applied_on_this_database(db):
    applied = MigrationRecorder(connection).applied_migrations()
    assert ("summarize", "0004_pages_search_trigram") in applied


@contextmanager
def counted() -> Iterator[list[str]]:
    statements: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        yield statements


def queries_of(side: Side, **params: str) -> tuple[int, str]:
    client = side.client()
    client.get(reverse("pages:failures", args=["org-a"]))  # the session is loaded, as on any later page
    with counted() as statements:
        answer = client.get(reverse("pages:failures", args=["org-a"]), params)
    assert answer.status_code == 200
    return len(statements), answer.content.decode()


@pytest.mark.services  # "seen N×" is counted by its own SQL on PostgreSQL
def test_a_page_costs_the_same_queries_whatever_it_lists_and_however_many_orgs_its_reader_has(sides):
    a, b = sides
    store_failure(a.org, root_cause="the only one", signature="s" * 64)
    few, _ = queries_of(a)
    few_searched, _ = queries_of(a, q="only")

    # Twenty more: recurring ones, a regenerated one, a running one; and the reader joins two orgs.
    for n in range(20):
        row = store_failure(a.org, root_cause=f"cause {n}", signature=f"{n % 4}" * 64)
    LlmSession.objects.create(
        org=a.org,
        flow_run_id=row.flow_run_id,
        task_id=row.task_id,
        version=2,
        session_status=LlmSession.Status.COMPLETED,
        root_cause="the regenerated answer",
    )
    store_failure(a.org, status=LlmSession.Status.RUNNING)
    store_failure(b.org, signature="0" * 64)  # another org's failure is not seen in this one
    Membership.objects.create(user=a.member, org=b.org, role="member")
    Membership.objects.create(user=a.member, org=add_org("org-c", name="ORG-C"), role="member")

    many, page = queries_of(a)
    assert "the regenerated answer" in page
    assert "seen 5×" in page
    assert "summarizing…" in page
    for name in ("ORG-A", "ORG-B", "ORG-C"):  # the header's org switcher
        assert f">{name}</a>" in page
    assert many == few
    many_searched, _ = queries_of(a, q="cause")
    assert many_searched == few_searched
