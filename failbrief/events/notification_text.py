"""Prefect's own notification text, read back into fields. Pure: no Django.

A `send-notification` action with Prefect's body template, sent through a custom-webhook block
(`{"body": "{{body}}"}`), posts this text. Prefect 3.4's migration gives it to every flow-run
notification policy it turns into an automation, so a Prefect 2 install that pointed a policy at
us sends it unchanged (docs/prefect-behaviour.md §2.1):

    Flow run {{ flow.name }}/{{ flow_run.name }} observed in state `{{ flow_run.state.name }}`
      at {{ flow_run.state.timestamp }}.                                  (one line)
    Flow ID: {{ flow_run.flow_id }}
    Flow run ID: {{ flow_run.id }}
    Flow run URL: {{ flow_run|ui_url }}
    State message: {{ flow_run.state.message }}

A policy that spelled out Prefect 2's default keeps its wording, "entered state `...`", and some
variants add a `Deployment ID:` line. The state message is free text and comes last, so the labelled
lines are looked for only before it.
"""

from __future__ import annotations

import re

_HEADLINE = re.compile(
    r"^Flow run (?P<names>[^\n]*?) (?:observed in|entered) state `(?P<state>[^`\n]+)`"
    # str() of the state's datetime (a space, not "T"), as a bare {{ ... }} renders it.
    r"(?: at (?P<at>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?(?:[+-]\d\d:?\d\d|Z)?))?",
    re.MULTILINE,
)
_MESSAGE = re.compile(r"^State message: ?", re.MULTILINE)


def notification_fields(text: str) -> dict[str, str | None] | None:
    """The fields Prefect's notification text names, under the robust template's keys (and
    `flow_name`); None when `text` is not such a text. A field it lacks is None."""
    head = _HEADLINE.search(text)
    if head is None:
        return None
    rest = text[head.end() :]
    message = _MESSAGE.search(rest)
    labelled = rest[: message.start()] if message else rest
    # Prefect refuses "/" in flow names, so the first one ends the flow's name; a template that
    # names only the run has none.
    flow, slash, run = head["names"].partition("/")
    if not slash:
        flow, run = "", flow
    return {
        "flow_run_id": _labelled(labelled, "Flow run ID"),
        "state_name": head["state"].strip(),
        "state_timestamp": head["at"],
        "flow_name": flow,
        "flow_run_name": run,
        "deployment_id": _labelled(labelled, "Deployment ID"),
        "state_message": rest[message.end() :] if message else None,
    }


def _labelled(text: str, label: str) -> str | None:
    found = re.search(rf"^{re.escape(label)}: *(?P<value>[^\n]*?) *$", text, re.MULTILINE)
    return found["value"] if found else None
