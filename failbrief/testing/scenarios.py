"""The captured Prefect webhooks as tests send them, in each body shape Prefect produces."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

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


def flow_run_id(prefix: str) -> str:
    run_id: str = captured(f"{prefix}_flow_run.json")["id"]
    return run_id
