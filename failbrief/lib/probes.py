"""/healthz and /metrics answered whatever Host header the request names.

ALLOWED_HOSTS holds the names people and Prefect reach failbrief by (docs/deploy.md). A load
balancer's health check and Prometheus reach each instance by its own address or an internal name
instead, and Django's host check (CommonMiddleware reads the host of every request) answered them
400: every instance looked down, and no scrape succeeded. Neither view builds a URL from the Host
header, which is what the check protects, so this middleware, first in the list, hands these two
paths to their views before any other middleware reads the host. The views need none of the others
(sessions, CSRF, messages): they are read with GET, and /metrics checks its own access."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import resolve

PROBE_PATHS = frozenset({"/healthz", "/metrics"})


class ProbesByAnyHost:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info not in PROBE_PATHS:
            return self.get_response(request)
        match = resolve(request.path_info)  # the views stay urls.py's; lib imports no app
        response: HttpResponse = match.func(request, *match.args, **match.kwargs)
        return response
