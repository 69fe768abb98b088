"""Redis (the Celery broker) down: CELERY_BROKER_URL points at a closed port and Celery is not eager.

The web app keeps serving (dashboard, map, admin, API reads), /healthz reports Redis failing with a 503, and
what needs the queue (the API's ingest action, the admin's "Ingest now") fails at once with a clear answer
instead of a 500 or a hang, without writing anything.
"""

import socket

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.test import Client

from dealfinder.celery import app as celery_app
from dealfinder.common.queue import QUEUE_UNREACHABLE
from dealfinder.ops.roles import ADMIN, roles_setup
from dealfinder.ops.tasks import pipeline_launch
from properties.models import IngestionRun
from tests.factories import DataSourceFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket is closed


def _reset_celery_connections():
    """Forget connections built from the previous URLs (what Celery itself does after a fork)."""
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    celery_app._local.__dict__.pop("backend", None)


@pytest.fixture
def redis_down(settings, monkeypatch):
    url = f"redis://127.0.0.1:{closed_port()}/0"
    keys = ("broker_url", "result_backend", "task_always_eager")
    previous = {key: celery_app.conf[key] for key in keys}
    settings.CELERY_BROKER_URL = url
    # Celery reads these environment variables before its configuration (celery.app.utils.Settings).
    monkeypatch.setenv("CELERY_BROKER_URL", url)
    monkeypatch.delenv("CELERY_BROKER_WRITE_URL", raising=False)
    monkeypatch.setenv("CELERY_RESULT_BACKEND", url)
    _reset_celery_connections()
    celery_app.conf.update(broker_url=url, result_backend=url, task_always_eager=False)
    yield url
    celery_app.conf.update(previous)
    _reset_celery_connections()


@pytest.fixture
def admin_client(db):
    cache.clear()
    roles_setup()
    user = UserFactory(username="redis-down-admin", is_staff=True)
    user.groups.add(Group.objects.get(name=ADMIN))
    client = Client()
    client.force_login(user)
    return client


def test_pages_and_api_reads_keep_serving(redis_down, admin_client):
    LeadFactory(tier="A", total=80)
    for url in ("/", "/map/", "/admin/", "/admin/leads/lead/", "/api/v1/leads/", "/api/v1/properties/"):
        assert admin_client.get(url).status_code == 200, url


def test_healthz_reports_redis_failing(redis_down, client):
    response = client.get("/healthz")

    assert response.status_code == 503, response.content
    body = response.json()
    assert (body["status"], body["checks"]["database"]["status"], body["checks"]["redis"]["status"]) == (
        "error",
        "ok",
        "error",
    )


def test_api_ingest_answers_503_when_the_queue_is_unreachable(redis_down, admin_client):
    source = DataSourceFactory(enabled=True)

    response = admin_client.post(f"/api/v1/data-sources/{source.pk}/ingest/", HTTP_ACCEPT="application/json")

    assert response.status_code == 503, response.content
    assert "queue" in response.json()["detail"].lower()
    assert IngestionRun.objects.count() == 0


@pytest.mark.django_db(transaction=True)  # on_commit callbacks run as in production
def test_admin_ingest_now_says_the_queue_is_unreachable(redis_down, admin_client):
    source = DataSourceFactory(enabled=True)

    response = admin_client.post(
        "/admin/properties/datasource/",
        {"action": "ingest_now", "_selected_action": [source.pk]},
        follow=True,
    )

    assert response.status_code == 200
    messages = [str(m) for m in response.context["messages"]]
    assert any("queue" in m.lower() and "unreachable" in m.lower() for m in messages), messages
    assert IngestionRun.objects.count() == 0


def test_a_pipeline_run_that_cannot_be_queued_fails_with_the_reason(redis_down, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        run = pipeline_launch(job="quality", trigger="manual")

    run.refresh_from_db()
    assert run.status == "failed"
    assert run.message.startswith(f"{QUEUE_UNREACHABLE} (Error 111 connecting to 127.0.0.1:")
    assert list(run.steps.values_list("name", "status", "error")) == [("quality", "skipped", "skipped: never queued")]
