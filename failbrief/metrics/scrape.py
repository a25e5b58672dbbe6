"""Everything one scrape returns: this process's series (or every process's, in multiprocess
mode), then the series read from the database and the broker."""

from __future__ import annotations

from collections.abc import Iterator

from django.conf import settings
from prometheus_client import REGISTRY
from prometheus_client.core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from failbrief.celery import app
from failbrief.metrics.collect import BrokerCollector, DatabaseCollector


class Scrape:
    def __init__(self, *sources: Collector) -> None:
        self.sources = sources

    def collect(self) -> Iterator[Metric]:
        for source in self.sources:
            yield from source.collect()


def scrape() -> Scrape:
    return Scrape(in_process_series(), DatabaseCollector(), BrokerCollector(app))


def in_process_series() -> Collector:
    """Every process's counters (summed from PROMETHEUS_MULTIPROC_DIR's files) or, with one
    process, this one's: its registry also carries the Python process series."""
    if settings.METRICS_MULTIPROC_DIR:
        path = settings.METRICS_MULTIPROC_DIR
        return MultiProcessCollector(None, path=path)  # type: ignore[no-untyped-call]  # untyped upstream
    return REGISTRY
