# mypy: ignore-errors
"""A plain Python task that raises (docs/prefect-behaviour.md §3, a): extract -> transform (raises
ValueError from a KeyError) -> load, which never runs. Run in-process; prints `FLOW_RUN_ID <id>`.

    python orders_etl.py MARKER [COUNT [PAUSE]]   # COUNT runs, PAUSE s apart (the latency bench)
"""

from __future__ import annotations

import sys
import time

from prefect import flow, get_run_logger, task


@task
def extract_orders(n: int) -> list[dict]:
    rows = [{"id": i, "amount": i * 10.5, "currency": "INR" if i % 3 else None} for i in range(n)]
    get_run_logger().info("extracted %d rows from source 'orders'", len(rows))
    return rows


def _convert(row: dict) -> float:
    rate = {"INR": 1.0, "USD": 83.2}[row["currency"]]
    return row["amount"] * rate


@task
def transform_orders(rows: list[dict]) -> list[float]:
    log = get_run_logger()
    log.info("transforming %d rows", len(rows))
    out = []
    for row in rows:
        try:
            out.append(_convert(row))
        except KeyError as error:
            log.warning("row %s has unknown currency %r", row["id"], row["currency"])
            raise ValueError(
                f"Cannot convert order {row['id']}: unsupported currency {row['currency']!r}"
            ) from error
    return out


@task
def load_orders(values: list[float]) -> int:
    get_run_logger().info("loading %d values", len(values))
    return len(values)


@flow(name="orders-etl", log_prints=True)
def orders_etl(marker: str = "", n: int = 5) -> int:
    rows = extract_orders(n)
    print(f"got {len(rows)} rows")
    return load_orders(transform_orders(rows))


if __name__ == "__main__":
    marker = sys.argv[1] if len(sys.argv) > 1 else ""
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    pause = float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    for i in range(count):
        state = orders_etl(marker, return_state=True)
        print("FLOW_RUN_ID", state.state_details.flow_run_id, flush=True)
        if i < count - 1:
            time.sleep(pause)
