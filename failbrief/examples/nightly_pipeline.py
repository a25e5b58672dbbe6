"""A subflow fails: the nightly pipeline syncs its sources, each in a subflow, then builds reports.
The CRM sync's source refuses the connection, so the subflow fails and the pipeline with it.
failbrief files the subflow's failure under the pipeline's run.

    PREFECT_API_URL=http://127.0.0.1:4200/api python nightly_pipeline.py
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task


class SourceSyncFailed(RuntimeError):
    pass


@flow(name="sync-source", flow_run_name="sync-{source}")
def sync_source(source: str, host: str) -> int:
    log = get_run_logger()
    log.info("sync of %s started (full refresh)", source)
    if source == "crm.customers":
        log.error(
            "Checking source connection failed: could not connect to server: Connection refused "
            "(host=%s port=5432)",
            host,
        )
        raise SourceSyncFailed(
            f"Sync of {source} failed after 3 attempts: source {host}:5432 refused the connection"
        )
    log.info("sync of %s finished: 1840 rows", source)
    return 1840


@task
def build_reports() -> None:
    get_run_logger().info("building the daily revenue report")


@flow(name="nightly-pipeline")
def nightly_pipeline() -> None:
    sync_source("shop.orders", "10.0.3.6")
    sync_source("crm.customers", "10.0.3.7")
    build_reports()


if __name__ == "__main__":
    state = nightly_pipeline(return_state=True)
    print("FLOW_RUN_ID", state.state_details.flow_run_id, flush=True)
