# mypy: ignore-errors
"""One runner serving our deployments (as `flow.serve()` does in Dalgo's proxy): runs it starts
carry a deployment id, and a run whose process dies is marked Crashed by it."""

from __future__ import annotations

from crashy_ingest import crashy_ingest
from dalgo_pipeline import deployment_schedule_flow_v4
from prefect import serve

DEPLOYMENTS = (
    "deployment-schedule-flow-v4/dalgo-like-pipeline",
    "crashy-ingest/crashy-ingest-deployment",
)

if __name__ == "__main__":
    serve(
        deployment_schedule_flow_v4.to_deployment(
            name="dalgo-like-pipeline", tags=["dalgo"], parameters={"config": {"tasks": []}}
        ),
        crashy_ingest.to_deployment(name="crashy-ingest-deployment", tags=["dalgo"]),
        print_starting_message=False,
    )
