"""GET /metrics: the Prometheus exposition, for an allowed address asking by a known host, or the
metrics token (access.py)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from failbrief.metrics.access import request_refusal
from failbrief.metrics.scrape import scrape


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refused = request_refusal(request)
    if refused is not None:
        answer = JsonResponse({"detail": refused.detail}, status=refused.status)
        if refused.status == 401:
            answer["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return answer
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(scrape()), content_type=content_type)
