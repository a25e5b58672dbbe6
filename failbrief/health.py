"""GET /healthz: can we reach the database and the broker?

Anyone may ask (load balancers do), but the reasons name hosts, ports and driver errors, so only
those who may read /metrics (an allowed address not behind a proxy asking by a known host, or the
metrics token; metrics/access.py) get them."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse

from failbrief.celery import app
from failbrief.metrics.access import request_refusal


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database(), "broker": _broker()}
    healthy = all(v == "ok" for v in checks.values())
    status = 200 if healthy else 503
    if _may_see_details(request):
        return JsonResponse({"status": "ok" if healthy else "unavailable", **checks}, status=status)
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable"}
        | {name: "ok" if result == "ok" else "failing" for name, result in checks.items()},
        status=status,
    )


def _may_see_details(request: HttpRequest) -> bool:
    return request_refusal(request) is None


def _database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:  # any driver error means "unreachable" here
        return f"error: {type(exc).__name__}: {exc}"
    return "ok"


def _broker() -> str:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:  # kombu raises transport-specific errors
        return f"error: {type(exc).__name__}: {exc}"
    return "ok"
