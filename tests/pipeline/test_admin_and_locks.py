"""PipelineRun admin, and the advisory lock that makes starting a run atomic on PostgreSQL."""

import threading

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from dealfinder.common.locks import advisory_lock, advisory_lock_key
from dealfinder.ops.models import PipelineRun
from dealfinder.ops.pipeline.runs import JOBS, pipeline_run_start
from tests.factories import PipelineRunFactory, PipelineStepFactory


def changelist_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("admin:dealfinder_pipelinerun_changelist"))
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.django_db
def test_pipelinerun_admin_shows_steps_without_a_query_per_row(admin_client):
    run = PipelineRunFactory(status="failed", message="score failed: ValueError: boom")
    PipelineStepFactory(run=run, name="ingest", order=1, counts={"processed": 12})
    PipelineStepFactory(run=run, name="score", order=2, status="failed", error="ValueError: boom", counts={})
    few = changelist_queries(admin_client)
    for _ in range(5):
        PipelineStepFactory.create_batch(3, run=PipelineRunFactory())
    assert changelist_queries(admin_client) == few

    page = admin_client.get(reverse("admin:dealfinder_pipelinerun_change", args=[run.pk])).content.decode()

    assert "score failed: ValueError: boom" in page
    assert "&quot;processed&quot;: 12" in page
    assert "20.0 s" in page  # the step's duration


def test_advisory_lock_key_is_stable_and_signed_64_bit():
    assert advisory_lock_key("dealfinder.pipeline.nightly") == advisory_lock_key("dealfinder.pipeline.nightly")
    assert advisory_lock_key("dealfinder.pipeline.nightly") != advisory_lock_key("dealfinder.pipeline.quality")
    assert -(2**63) <= advisory_lock_key("x") < 2**63


@pytest.mark.postgis
@pytest.mark.django_db
def test_trigger_is_skipped_while_another_session_holds_the_job_lock():
    key = advisory_lock_key("dealfinder.pipeline.nightly")
    other = connections.create_connection("default")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        with advisory_lock("dealfinder.pipeline.nightly") as acquired:
            assert acquired is False

        run = pipeline_run_start(job="nightly", trigger="beat")

        assert (run.status, run.message) == ("skipped", "another trigger of this job holds its lock")
        assert pipeline_run_start(job="quality", trigger="beat").status == "running"
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    finally:
        other.close()
    with advisory_lock("dealfinder.pipeline.nightly") as acquired:
        assert acquired is True


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_concurrent_triggers_start_exactly_one_run():
    barrier = threading.Barrier(4)
    statuses = []

    def trigger():
        try:
            barrier.wait()
            statuses.append(pipeline_run_start(job="nightly", trigger="beat").status)
        finally:
            connection.close()

    threads = [threading.Thread(target=trigger) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == ["running", "skipped", "skipped", "skipped"]
    assert PipelineRun.objects.filter(status="running").count() == 1
    assert PipelineRun.objects.get(status="running").steps.count() == len(JOBS["nightly"]) == 13
