from __future__ import annotations

from django.urls import include, path

from failbrief.api import api
from failbrief.events.views import notification
from failbrief.health import healthz
from failbrief.metrics.views import metrics

urlpatterns = [
    path("webhooks/v1/notification/", notification, name="webhook"),
    # Without the slash Django would answer a redirect, which neither of Prefect's webhook blocks
    # follows (httpx's default): a URL typed without it would lose every failure.
    path("webhooks/v1/notification", notification),
    path("healthz", healthz, name="healthz"),
    path("metrics", metrics, name="metrics"),
    path("api/", api.urls),
    path("", include("failbrief.pages.urls")),
]
