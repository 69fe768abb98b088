"""Queueing an ingest from the API and the admin answers with the run, eagerly or through a worker (issue 16,
item 17): never by waiting on a task result, which Celery refuses inside a worker process ("Never call
result.get() within a task!") and which answered 500 there."""

import time

import pytest
from celery import _state as celery_state

from properties.models import IngestionRun, Property
from tests.factories import DataSourceFactory, UserFactory

PARCELS = "PARCEL,SITUS_CITY\n29-22-28-8850-02-050,ORLANDO\n29-22-28-8850-02-060,ORLANDO\n"


@pytest.fixture
def source(tmp_path):
    path = tmp_path / "parcels.csv"
    path.write_text(PARCELS)
    return DataSourceFactory(
        kind="file",
        dataset="parcels",
        url=str(path),
        field_mapping={"parcel_id": "PARCEL", "city": "SITUS_CITY"},
        enabled=True,
    )


@pytest.fixture
def inside_a_worker_process():
    """What every real Celery worker process declares (its pool sets it): joining a task result would block."""
    celery_state._set_task_join_will_block(True)
    yield
    celery_state._set_task_join_will_block(False)


@pytest.mark.django_db
def test_eager_ingest_answers_202_with_the_finished_run_even_inside_a_worker_process(
    superuser_api, source, inside_a_worker_process
):
    response = superuser_api.post(f"/api/v1/data-sources/{source.pk}/ingest/")

    assert response.status_code == 202, response.content
    body = response.json()
    run = IngestionRun.objects.get()
    assert (body["task_id"], body["run"]["id"], body["run"]["status"], body["run"]["inserted"]) == (
        None,
        run.pk,
        "success",
        2,
    )
    assert Property.objects.count() == 2


@pytest.mark.django_db
def test_an_ingest_that_blows_up_eagerly_is_a_failed_run_not_a_500(superuser_api, source):
    source.kind = "arcgis"  # not a layer URL: the reader cannot even start
    source.url = "http://127.0.0.1:9/nothing/FeatureServer/0"
    source.save()

    response = superuser_api.post(f"/api/v1/data-sources/{source.pk}/ingest/")

    assert response.status_code == 202, response.content
    run = response.json()["run"]
    assert run["status"] == "failed"
    assert run["message"]


@pytest.mark.django_db
def test_the_admin_ingest_now_queues_each_source_into_a_run(client, source):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    response = client.post(
        "/admin/properties/datasource/", {"action": "ingest_now", "_selected_action": [source.pk]}, follow=True
    )

    assert [str(m) for m in response.context["messages"]] == ["1 sources queued; see Ingestion runs for the results."]
    assert list(IngestionRun.objects.values_list("status", "inserted")) == [("success", 2)]


@pytest.mark.worker
@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_with_a_worker_the_answer_is_202_with_the_queued_run_which_the_worker_finishes(superuser_api, source, worker):
    response = superuser_api.post(f"/api/v1/data-sources/{source.pk}/ingest/")

    assert response.status_code == 202, response.content
    body = response.json()
    assert body["task_id"]
    assert (body["run"]["status"], body["run"]["heartbeat_at"], body["run"]["processed"]) == ("running", None, 0)
    deadline = time.monotonic() + 60
    run = IngestionRun.objects.get(pk=body["run"]["id"])
    while run.status == "running" and time.monotonic() < deadline:
        time.sleep(0.2)
        run.refresh_from_db()
    assert (run.status, run.inserted, IngestionRun.objects.count()) == ("success", 2, 1)
    assert run.heartbeat_at is not None
