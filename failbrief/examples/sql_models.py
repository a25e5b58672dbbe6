"""A dbt-like model build hits a SQL error: three models are built in order in a SQLite warehouse,
the second selects a column its source does not have, and the run fails as `dbt run` would, with
the database's own message under a "Database Error in model" heading.

    PREFECT_API_URL=http://127.0.0.1:4200/api python sql_models.py
"""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from prefect import flow, get_run_logger, task

MODELS = {
    "stg_orders": "SELECT id, customer_id, amount, currency FROM raw_orders",
    "orders_daily": "SELECT customer_id, SUM(amount_usd) AS revenue FROM stg_orders GROUP BY customer_id",
    "top_customers": "SELECT customer_id FROM orders_daily ORDER BY revenue DESC LIMIT 10",
}


class DbtRunFailed(RuntimeError):
    pass


@task
def seed(database: str) -> None:
    with sqlite3.connect(database) as db:
        db.execute("CREATE TABLE raw_orders (id INTEGER, customer_id INTEGER, amount REAL, currency TEXT)")
        db.executemany(
            "INSERT INTO raw_orders VALUES (?, ?, ?, ?)", [(1, 7, 20.0, "USD"), (2, 9, 5.5, "EUR")]
        )
    get_run_logger().info("seeded raw_orders (2 rows)")


@task(name="dbt-run")
def dbt_run(database: str) -> None:
    log = get_run_logger()
    log.info("Running with dbt=1.10.0 (a look-alike on SQLite)")
    log.info("Found %d models", len(MODELS))
    errors = 0
    with sqlite3.connect(database) as db:
        for number, (name, sql) in enumerate(MODELS.items(), start=1):
            log.info("%d of %d START sql table model analytics.%s", number, len(MODELS), name)
            try:
                db.execute(f"CREATE TABLE {name} AS {sql}")
            except sqlite3.Error as error:
                errors += 1
                log.info("%d of %d ERROR creating sql table model analytics.%s", number, len(MODELS), name)
                log.error("Database Error in model %s (models/%s.sql)\n  %s", name, name, error)
                break
            log.info("%d of %d OK created sql table model analytics.%s", number, len(MODELS), name)
    if errors:
        log.info("Completed with %d error and 0 warnings", errors)
        raise DbtRunFailed(f"dbt run failed: {errors} of {len(MODELS)} models errored")


@flow(name="warehouse-models")
def warehouse_models() -> None:
    with tempfile.TemporaryDirectory() as folder:
        database = str(Path(folder) / "warehouse.sqlite3")
        seed(database)
        dbt_run(database)


if __name__ == "__main__":
    state = warehouse_models(return_state=True)
    print("FLOW_RUN_ID", state.state_details.flow_run_id, flush=True)
