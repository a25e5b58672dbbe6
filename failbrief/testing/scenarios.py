"""The captured Prefect webhooks as tests send them, in each body shape Prefect produces."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from failbrief.testing.fake_prefect import FakePrefect

PAYLOADS = Path(__file__).resolve().parents[2] / "testdata" / "prefect"


def captured(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text())


def robust_body(prefix: str) -> str:
    """The call-webhook body Prefect sent for scenario `prefix` (e.g. "a2", "c_subflow")."""
    body: str = captured(f"{prefix}_webhook.json")["body"]
    return body


def dalgo_body(flow_run_id: str, run_name: str, state: str = "Failed") -> str:
    """Dalgo's send-notification body, as f_dalgo_webhook_failed.json, for another run."""
    return json.dumps({"body": f"Flow run {run_name} with id {flow_run_id} entered state {state}"})


def dalgo_flow_run_body(prefix: str, encoded: bool = True) -> str:
    """Dalgo's handler's other two bodies: the scenario's flow run (as Prefect's API returned it)
    JSON-encoded in `body`, or as an object there."""
    run = captured(f"{prefix}_flow_run.json")
    return json.dumps({"body": json.dumps(run) if encoded else run})


def flow_run_id(prefix: str) -> str:
    run_id: str = captured(f"{prefix}_flow_run.json")["id"]
    return run_id


def distinct_failures(fake: FakePrefect, count: int) -> list[tuple[str, str]]:
    """`count` fresh copies of scenario a in the fake (one failed task each), as (flow run id,
    call-webhook body): distinct failures for a burst of webhooks."""
    template = json.loads(robust_body("a"))
    failures = []
    for _ in range(count):
        run_id = fake.clone_scenario("a")[template["flow_run_id"]]
        body = template | {"flow_run_id": run_id, "event_id": str(uuid.uuid4())}
        failures.append((run_id, json.dumps(body)))
    return failures
