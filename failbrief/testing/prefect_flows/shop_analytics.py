# mypy: ignore-errors
"""A real dbt project (dbt-core 1.10, dbt-postgres 1.9) through prefect-shell's ShellOperation, the
base class of the DbtCoreOperation Dalgo uses (docs/prefect-behaviour.md §3, b). Model
`customer_revenue` selects a column that does not exist; two dbt tests fail. Every dbt output line
is an INFO log record.

Environment: DBT_PROJECT_DIR (a writable copy of dbt_project/), DBT_BIN_DIR, DBT_PG_* (profiles.yml).
"""

from __future__ import annotations

import os

from prefect import flow, get_run_logger, task
from prefect_shell import ShellOperation

PROJECT = os.environ["DBT_PROJECT_DIR"]
DBT_BIN = os.environ["DBT_BIN_DIR"]


@task(name="dbtjob_v1", task_run_name="{slug}")
def dbtjob(slug: str, command: str) -> list[str]:
    get_run_logger().info("running %s: %s", slug, command)
    operation = ShellOperation(
        commands=[f"{command} --project-dir {PROJECT} --profiles-dir {PROJECT}"],
        env={"PATH": f"{DBT_BIN}:{os.environ['PATH']}", "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"},
        working_dir=PROJECT,
    )
    return operation.run()


@flow(name="dbt-shop-analytics")
def dbt_pipeline() -> list:
    seed = dbtjob("dbt-seed", "dbt seed", return_state=True)
    run = dbtjob("dbt-run", "dbt run", return_state=True)
    test = dbtjob("dbt-test", "dbt test", return_state=True)
    return [seed, run, test]  # the flow is Failed when any returned state is


if __name__ == "__main__":
    state = dbt_pipeline(return_state=True)
    print("FLOW_RUN_ID", state.state_details.flow_run_id, flush=True)
