"""The HTTP API (django-ninja, OpenAPI at /api/docs). HTTP status codes live only in this package."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI

from failbrief.api import airbyte, channels, dalgo, feedback, org, summaries
from failbrief.api.auth import OrgToken
from failbrief.api.limits import RateLimited
from failbrief.runs.errors import PrefectError, PrefectUnavailable
from failbrief.summarize.on_demand import NotThisOrgsRun

api = NinjaAPI(title="failbrief", version="1", auth=OrgToken(), urls_namespace="api")
api.add_router("/v1", summaries.router)
api.add_router("/v1", org.router)
api.add_router("/v1", channels.router)
api.add_router("/v1", feedback.router)
api.add_router("/", dalgo.router)
api.add_router("/", airbyte.router)


@api.exception_handler(NotThisOrgsRun)
def not_this_orgs_run(request: HttpRequest, exc: NotThisOrgsRun) -> HttpResponse:
    return api.create_response(request, {"detail": f"no flow run {exc} for this org"}, status=404)


@api.exception_handler(PrefectUnavailable)
def prefect_unavailable(request: HttpRequest, exc: PrefectUnavailable) -> HttpResponse:
    return api.create_response(request, {"detail": f"Prefect did not answer; try again: {exc}"}, status=503)


@api.exception_handler(PrefectError)
def prefect_error(request: HttpRequest, exc: PrefectError) -> HttpResponse:
    return api.create_response(request, {"detail": f"Prefect refused the request: {exc}"}, status=502)


@api.exception_handler(RateLimited)
def rate_limited(request: HttpRequest, exc: RateLimited) -> HttpResponse:
    response = api.create_response(request, {"detail": str(exc)}, status=429)
    response["Retry-After"] = str(exc.retry_after)
    return response
