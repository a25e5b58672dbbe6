"""Under /api/ and /webhooks/ a client always gets JSON, whatever it sent and whatever broke.

Text that no database column can hold (NUL characters, lone surrogates) is refused here with a
400 before any view turns it into a query error, and an unhandled error is a JSON 500 rather than
Django's HTML page: API clients parse the body, and an HTML page may show internals. The pages get
the same refusal as a plain-text 400 (their path, query and form fields): PostgreSQL would otherwise
fail the query with a 500."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from urllib.parse import parse_qsl

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse

from failbrief.lib.storable import unstorable, unstorable_text

JSON_PATHS = ("/api/", "/webhooks/")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
log = logging.getLogger(__name__)


class JsonErrors:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(JSON_PATHS):
            if why := _unstorable_request(request) or _unstorable_form(request):
                return HttpResponseBadRequest(
                    f"Bad request: {why}\n", content_type="text/plain; charset=utf-8"
                )
            return self.get_response(request)
        if why := _unstorable_request(request):
            return JsonResponse({"detail": why}, status=400)
        response = self.get_response(request)
        if response.status_code >= 400 and not response.get("Content-Type", "").startswith(
            "application/json"
        ):
            # Django's own answers (no such URL, method not allowed, too large) are HTML pages.
            return _as_json(response)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not request.path.startswith(JSON_PATHS):
            return None
        log.error("%s %s failed", request.method, request.path, exc_info=exception)
        return JsonResponse({"detail": "internal error (logged); try again or report it"}, status=500)


def _as_json(response: HttpResponse) -> JsonResponse:
    detail = {404: "no such endpoint", 405: "method not allowed"}.get(
        response.status_code, response.reason_phrase
    )
    answer = JsonResponse({"detail": detail}, status=response.status_code)
    if allow := response.get("Allow"):
        answer["Allow"] = allow
    return answer


def _unstorable_request(request: HttpRequest) -> str | None:
    if why := unstorable_text(request.path):
        return f"the path cannot be used: {why}"
    # parse_qsl, not request.GET: Django decodes invalid UTF-8 to U+FFFD, but a %00 stays a NUL.
    for name, value in parse_qsl(request.META.get("QUERY_STRING", ""), keep_blank_values=True):
        if why := unstorable_text(name) or unstorable_text(value):
            return f"query parameter {name[:40]!r} cannot be used: {why}"
    # The webhook view reads its own body (with a size limit) and checks it in events/parse.py.
    if request.path.startswith("/api/") and request.content_type == "application/json" and request.body:
        try:
            body = json.loads(request.body)
        except RecursionError:
            return "the JSON body is nested too deeply"
        except ValueError:
            return None  # django-ninja answers malformed JSON itself
        if why := unstorable(body):
            return f"the JSON body cannot be used: {why}"
    return None


def _unstorable_form(request: HttpRequest) -> str | None:
    # The pages' forms are url-encoded; a multipart body's files are not text we store.
    if request.method != "POST" or request.content_type not in FORM_TYPES:
        return None
    for name, values in request.POST.lists():
        for value in values:
            if why := unstorable_text(name) or unstorable_text(value):
                return f"form field {name[:40]!r} cannot be used: {why}"
    return None
