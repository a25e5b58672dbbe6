"""A Python task raises: extract -> transform (ValueError from a KeyError) -> load, which never runs.

PREFECT_API_URL=http://127.0.0.1:4200/api python orders_etl.py
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task

RATES_TO_INR = {"INR": 1.0, "USD": 83.2, "EUR": 90.1}


@task
def extract_orders() -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [
        {"id": 1001, "amount": 250.0, "currency": "INR"},
        {"id": 1002, "amount": 12.5, "currency": "USD"},
        {"id": 1003, "amount": 40.0, "currency": "GBP"},  # no rate for it
    ]
    get_run_logger().info("extracted %d orders from source 'shop.orders'", len(rows))
    return rows


@task
def transform_orders(rows: list[dict[str, object]]) -> list[float]:
    log = get_run_logger()
    log.info("converting %d orders to INR", len(rows))
    converted = []
    for row in rows:
        try:
            converted.append(float(row["amount"]) * RATES_TO_INR[str(row["currency"])])
        except KeyError as error:
            raise ValueError(
                f"Cannot convert order {row['id']}: no exchange rate for {row['currency']!r}"
            ) from error
    return converted


@task
def load_orders(values: list[float]) -> int:
    get_run_logger().info("loading %d rows into warehouse table 'orders_inr'", len(values))
    return len(values)


@flow(name="orders-etl")
def orders_etl() -> int:
    return load_orders(transform_orders(extract_orders()))


if __name__ == "__main__":
    state = orders_etl(return_state=True)
    print("FLOW_RUN_ID", state.state_details.flow_run_id, flush=True)
