"""GET /metrics: the Prometheus exposition, for allowed addresses or the metrics token."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from prometheus_client.exposition import choose_encoder

from failbrief.metrics.access import refusal
from failbrief.metrics.scrape import scrape


@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    refused = refusal(
        request.META.get("REMOTE_ADDR", ""),
        request.headers.get("Authorization", ""),
        settings.METRICS_TOKEN,
        settings.METRICS_ALLOW,
        request.headers,
    )
    if refused is not None:
        answer = JsonResponse({"detail": refused.detail}, status=refused.status)
        if refused.status == 401:
            answer["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return answer
    encode, content_type = choose_encoder(request.headers.get("Accept", ""))
    return HttpResponse(encode(scrape()), content_type=content_type)
