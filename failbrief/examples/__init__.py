"""Small Prefect 3 flows that fail the way real pipelines do; `failbrief demo` runs them against a
throw-away Prefect server and prints what failbrief makes of each. Copy them freely.

Each file runs on its own with Prefect installed (`python orders_etl.py` with `PREFECT_API_URL` set)
and prints `FLOW_RUN_ID <id>` once its flow run has ended:

- `orders_etl.py`: a Python task raises (a `ValueError` from a `KeyError`); the next task never runs.
- `nightly_pipeline.py`: a subflow (a source sync) fails, and with it its parent.
- `sql_models.py`: a dbt-like model build hits a SQL error (a column that does not exist).

They run in Prefect's own virtualenv, not failbrief's: failbrief does not depend on Prefect.
"""
