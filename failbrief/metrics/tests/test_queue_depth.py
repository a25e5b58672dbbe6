"""failbrief_queue_depth counts what waits in the broker; a broker that does not answer is reported
as down instead of failing the whole scrape."""

from __future__ import annotations

from pathlib import Path

from celery import Celery
from prometheus_client import CollectorRegistry, generate_latest

from failbrief.metrics.collect import BrokerCollector
from failbrief.metrics.tests.reading import Samples, samples, value


def scraped(app: Celery) -> Samples:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(BrokerCollector(app))
    return samples(generate_latest(registry).decode())


def test_tasks_nobody_has_taken_yet_are_the_queue_depth(tmp_path: Path):
    app = Celery("depth", broker=f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}", set_as_current=False)
    for n in range(3):
        app.send_task("failbrief.nobody.consumes.this", args=(n,))

    found = scraped(app)

    assert value(found, "failbrief_broker_up") == 1
    assert value(found, "failbrief_queue_depth", queue="celery") == 3


def test_each_queue_has_its_depth(tmp_path: Path):
    app = Celery("depth", broker=f"sqla+sqlite:///{tmp_path / 'broker.sqlite3'}", set_as_current=False)
    app.conf.task_queues = {"celery": {}, "notify": {}}  # as failbrief's settings declare them
    app.send_task("failbrief.nobody.consumes.this", args=(1,), queue="notify")

    found = scraped(app)

    assert value(found, "failbrief_queue_depth", queue="notify") == 1
    assert value(found, "failbrief_queue_depth", queue="celery") == 0


def test_a_broker_that_does_not_answer_is_down_and_has_no_depth():
    app = Celery("down", broker="redis://127.0.0.1:1/0", set_as_current=False)
    app.conf.broker_transport_options = {"socket_connect_timeout": 1}

    found = scraped(app)

    assert value(found, "failbrief_broker_up") == 0
    assert not [name for name, _ in found if name == "failbrief_queue_depth"]
