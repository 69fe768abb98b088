"""Fixtures for the pipeline tests: a small fixture county whose tax-sale layer is a fake ArcGIS server."""

import uuid
from types import SimpleNamespace

import pytest
from celery.contrib.testing.worker import start_worker

from dealfinder.celery import app as celery_app
from dealfinder.ops.pipeline import steps
from dealfinder.ops.tasks import pipeline_launch
from tests.factories import BuyerFactory, DataSourceFactory, LeadFactory, PropertyFactory
from tests.fakes.arcgis import FakeArcGISLayer
from tests.pipeline import fake_services

# Each test session has its own queue, so parallel runs on the same Redis never take each other's tasks.
TEST_QUEUE = f"dealfinder-tests-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def county(httpserver):
    """One enabled tax-sale source (12 recorded Orange County features), 3 leads and 2 buyers."""
    layer = FakeArcGISLayer.from_fixture(httpserver, "orange-fl-tax-sales")
    source = DataSourceFactory(
        slug="orange-tax-sales",
        dataset="tax_sales",
        url=layer.url,
        field_mapping={"preset": "orange_fl_tax_sales"},
        parcel_format="orange_fl",
        enabled=True,
    )
    DataSourceFactory(slug="disabled-source", enabled=False)
    leads = [LeadFactory(property=PropertyFactory(zip="32801")) for _ in range(3)]
    buyers = BuyerFactory.create_batch(2)
    return SimpleNamespace(layer=layer, source=source, leads=leads, buyers=buyers)


@pytest.fixture
def step_service(monkeypatch):
    """`step_service("enrich", "boom")` points a step at a function of tests/pipeline/fake_services.py."""
    fake_services.calls.clear()

    def point(step: str, fake: str) -> None:
        monkeypatch.setitem(steps.STEP_SERVICES, step, getattr(fake_services, fake))

    return point


@pytest.fixture
def launch(django_capture_on_commit_callbacks):
    """Start a job and run its chain (eagerly) as it would be after the commit; the run re-read."""

    def run(job: str = "nightly", trigger: str = "manual"):
        with django_capture_on_commit_callbacks(execute=True):
            started = pipeline_launch(job=job, trigger=trigger)
        started.refresh_from_db()
        return started

    return run


@pytest.fixture
def worker(settings):
    """A real Celery worker (solo pool, in a thread) consuming this session's own queue on the real Redis."""
    if not settings.CELERY_BROKER_URL:
        pytest.skip('needs Redis: CELERY_BROKER_URL is unset (eval "$(bash scripts/services.sh start)")')
    if celery_app.conf.task_default_queue != TEST_QUEUE:
        celery_app.conf.task_default_queue = TEST_QUEUE
        for cached in ("queues", "default_queue", "router"):  # built from the old default queue, if ever used
            celery_app.amqp.__dict__.pop(cached, None)
    celery_app.conf.task_always_eager = False  # the root conftest's _eager_celery restores it afterwards
    with start_worker(celery_app, pool="solo", perform_ping_check=False, loglevel="INFO", shutdown_timeout=30) as w:
        yield w
