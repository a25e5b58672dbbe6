"""The series each process records as things happen. The scrape adds the ones read from the
database and the broker at scrape time (collect.py); docs/metrics.md lists them all.

With PROMETHEUS_MULTIPROC_DIR set (`failbrief run`, `web`, `worker` and `backfill` set it),
prometheus_client keeps these values in files in that directory, one per process, so the web
server's /metrics sums the worker's too.
It decides when it is first imported, from the environment, so the variable must be set before
this module is imported (the parent sets it for its children; `backfill` for itself, first)."""

from __future__ import annotations

import os
import secrets

from prometheus_client import Counter, Histogram, disable_created_metrics, values

_identity: dict[str, object] = {"pid": None, "name": ""}


def _process_name() -> str:
    """This process's name in the metrics files' names (`counter_<name>.db`): its PID and a random
    part. prometheus_client names them by PID alone, but the containers of a pod sharing one volume
    (docs/metrics.md) each number their processes from 1, and two processes writing one file
    overwrite each other's counts. A new name after a fork, as a new PID would give."""
    pid = os.getpid()
    if _identity["pid"] != pid:
        _identity.update(pid=pid, name=f"{pid}-{secrets.token_hex(6)}")
    return str(_identity["name"])


if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # Before the first series below is made: each takes the value class in force then.
    values.ValueClass = values.MultiProcessValue(_process_name)  # type: ignore[no-untyped-call]

# The *_created series double the output and multiprocess mode omits them anyway.
disable_created_metrics()  # type: ignore[no-untyped-call]  # untyped upstream

WEBHOOK_RESULTS = (
    "accepted",  # stored; a worker will summarize it
    "duplicate",  # a repeat of a stored webhook: no new work
    "ignored",  # a state that is not a failure: stored for the record only
    "bad_request",  # the body is not one of the shapes Prefect sends
    "unauthorized",  # missing or wrong X-Notification-Key
    "unsupported_media_type",
    "too_large",
    "no_key_configured",  # the endpoint refuses everything until a webhook key exists
    "method_not_allowed",  # not a POST
    "redirected",  # plain HTTP sent to HTTPS (FAILBRIEF_HTTPS): Prefect does not follow it
    "error",  # not stored: answered 500 (the database did not answer, a bug)
)

WEBHOOKS = Counter("failbrief_webhooks_received", "Webhooks received, by what we did with them", ["result"])
for _result in WEBHOOK_RESULTS:
    WEBHOOKS.labels(result=_result)  # every result exists from the start, so rate() sees the first one

PLATFORM_REQUESTS = Counter(
    "failbrief_platform_token_requests",
    "API requests made with a platform token, by platform and the org acted for ('-': refused)",
    ["platform", "org"],
)
NO_ORG = "-"  # not a valid slug, so never an org's label

WEBHOOK_TO_SUMMARY = Histogram(
    "failbrief_webhook_to_summary_seconds",
    "From the webhook's arrival (or the reconciler storing the event) to its summary stored",
    ["summarizer"],
    buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600),
)

LLM_LATENCY = Histogram(
    "failbrief_llm_request_seconds",
    "One summary's LLM call, retries and repair request included; outcome=error stored the offline brief",
    ["provider", "model", "outcome"],
    buckets=(0.5, 1, 2, 4, 8, 15, 30, 60, 90, 120),
)
LLM_TOKENS_IN = Counter("failbrief_llm_tokens_in", "Prompt tokens sent to LLMs", ["provider", "model"])
LLM_TOKENS_OUT = Counter("failbrief_llm_tokens_out", "Completion tokens LLMs answered", ["provider", "model"])
LLM_COST = Counter(
    "failbrief_llm_cost_usd", "Estimated LLM cost in US dollars (known models only)", ["provider", "model"]
)
