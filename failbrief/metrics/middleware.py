"""Every request to the webhook URL counted once, with its answer: also those refused before the
view runs (a GET, text no database column holds in the query string, a Host not in
ALLOWED_HOSTS, plain HTTP redirected to HTTPS), which Prefect does not send again either. First
in MIDDLEWARE, so it sees the answer whichever middleware gave it."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from failbrief.metrics.record import count_webhook


class CountWebhooks:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        webhook = reverse("webhook")
        self.paths = frozenset({webhook, webhook.rstrip("/")})  # urls.py serves both

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path_info in self.paths:
            count_webhook(request, response.status_code)
        return response
