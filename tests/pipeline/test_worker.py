"""The pipeline through the real broker (Redis) and a real worker."""

import time

import pytest
from django.core.management import CommandError, call_command

from dealfinder.ops.models import PipelineRun
from dealfinder.ops.pipeline.runs import pipeline_run_wait
from dealfinder.ops.tasks import pipeline_launch, pipeline_run
from tests.pipeline.nightly import NIGHTLY

# A real worker thread and the test share one database. On SpatiaLite that is an in-memory
# shared-cache SQLite, whose table locks fail at once instead of waiting ("database table is
# locked"), so these run on PostGIS only; workers always use PostgreSQL in production and the
# SpatiaLite demo runs tasks eagerly.
pytestmark = [pytest.mark.worker, pytest.mark.postgis, pytest.mark.django_db(transaction=True)]


def finished(run_id: int) -> PipelineRun:
    run = pipeline_run_wait(run_id=run_id, timeout=90, poll=0.2)
    assert run.status != PipelineRun.Status.RUNNING, f"run #{run_id} did not finish"
    return run


def test_nightly_chain_runs_end_to_end_through_the_worker(county, worker):
    run = finished(pipeline_launch(job="nightly", trigger="manual").pk)

    assert (run.status, run.message) == ("success", "")
    assert list(run.steps.values_list("name", "status")) == [(name, "success") for name in NIGHTLY]
    ingest = run.steps.get(name="ingest")
    assert ingest.counts["by_source"] == {"orange-tax-sales": "success"}
    assert (ingest.counts["sources"], ingest.counts["processed"], ingest.counts["inserted"]) == (1, 12, 12)
    assert run.steps.get(name="match").counts["buyers"] == 2
    assert all(step.duration is not None for step in run.steps.all())


def test_failing_step_through_the_worker_skips_dependents(county, worker, step_service):
    step_service("score", "boom")

    run = finished(pipeline_launch(job="nightly", trigger="manual").pk)

    assert (run.status, run.message) == ("failed", "score failed: ValueError: boom")
    assert list(run.steps.values_list("name", "status", "error")) == [
        ("ingest", "success", ""),
        ("enrich", "success", ""),
        ("score", "failed", "ValueError: boom"),
        *[(name, "skipped", "skipped: score failed") for name in NIGHTLY[3:]],
    ]


def test_two_triggers_at_once_give_one_run(county, worker):
    pipeline_run.delay("nightly", "beat")
    pipeline_run.delay("nightly", "beat")
    deadline = time.monotonic() + 30
    while PipelineRun.objects.count() < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    ids = sorted(PipelineRun.objects.values_list("pk", flat=True))
    assert len(ids) == 2

    runs = [finished(run_id) for run_id in ids]

    assert [(r.status, r.trigger) for r in runs] == [("success", "beat"), ("skipped", "beat")]
    assert runs[1].message == f"nightly run #{ids[0]} is still running"
    assert runs[1].steps.count() == 0


def test_run_pipeline_async_wait_exits_non_zero_when_the_run_fails(county, worker, step_service, capsys):
    call_command("run_pipeline", "--async", "--wait", "--timeout", "90")
    out = capsys.readouterr().out
    run = PipelineRun.objects.get()
    assert out.startswith(f"PipelineRun {run.pk}: running\n")
    assert out.endswith(f"nightly run #{run.pk}: success in {run.duration.total_seconds():.1f}s\n")

    step_service("quality", "boom")
    with pytest.raises(CommandError, match=r"^nightly run #\d+ failed: quality failed: ValueError: boom$") as exited:
        call_command("run_pipeline", "--async", "--wait", "--timeout", "90")
    assert exited.value.returncode == 1


def test_admin_run_backtest_is_queued_for_the_worker(client, worker):
    """Issue 22: with a broker, the backtest page's "Run backtest" queues the run instead of running it in the
    request; the worker stores it, recorded as the broker's."""
    from django.urls import reverse

    from dealfinder.ops.roles import ADMIN, roles_setup
    from leads.models import BacktestRun
    from tests.factories import BrokerFactory

    roles_setup()
    broker = BrokerFactory(role=ADMIN)
    client.force_login(broker)
    response = client.post(reverse("admin:leads_backtestrun_run"))
    assert response.status_code == 302 and response.url == reverse("admin:leads_backtestrun_changelist")
    for _ in range(300):
        if BacktestRun.objects.exists():
            break
        time.sleep(0.2)
    assert list(BacktestRun.objects.values_list("created_by", "outcomes")) == [(broker.pk, 0)]
    page = client.get(response.url)
    assert b"Backtest queued: it appears in this list when the worker has run it." in page.content
