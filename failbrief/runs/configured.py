"""The Prefect client as this deployment configured it (PREFECT_API_URL, its key and timeout): what
the tasks, the API and the command line open; the client itself stays free of Django."""

from __future__ import annotations

from django.conf import settings

from failbrief.runs.prefect import PrefectClient


def prefect_client() -> PrefectClient:
    return PrefectClient(
        settings.PREFECT_API_URL, api_key=settings.PREFECT_API_KEY, timeout=settings.PREFECT_TIMEOUT_SECONDS
    )
