"""run_pipeline (inline) and setup_periodic_tasks."""

import json

import pytest
from django.core.management import CommandError, call_command
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from dealfinder.ops.models import PipelineRun
from tests.factories import DataSourceFactory, PipelineRunFactory
from tests.pipeline.nightly import NIGHTLY

pytestmark = pytest.mark.django_db


def test_run_pipeline_runs_the_chain_inline_and_prints_each_step(county, capsys):
    call_command("run_pipeline")

    run = PipelineRun.objects.get()
    out = capsys.readouterr().out.splitlines()
    assert (run.status, run.trigger) == ("success", "manual")
    assert [line.split()[:3] for line in out[: len(NIGHTLY)]] == [
        [f"{step.order}.", step.name, "success"] for step in run.steps.all()
    ]
    assert out[0].endswith(
        'by_source={"orange-tax-sales": "success"} duplicates=0 errors=0 failed=0 failed_sources=0 inserted=12 '
        "pages=1 pages_failed=0 processed=12 sources=1 stored=12 unchanged=0 unplaced=0 updated=0 warnings=0"
    )
    assert out[len(NIGHTLY)] == f"nightly run #{run.pk}: success in {run.duration.total_seconds():.1f}s"


def test_run_pipeline_exits_1_when_the_run_fails(county, step_service, capsys):
    step_service("ingest", "boom")

    with pytest.raises(
        CommandError, match=r"^nightly run #\d+ failed: ingest failed: orange-tax-sales: ValueError: boom$"
    ) as exc:
        call_command("run_pipeline")

    assert exc.value.returncode == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:3] == ["1.", "ingest", "failed"]
    assert out[0].endswith("error: orange-tax-sales: ValueError: boom")
    assert [line.split()[1:3] for line in out[1 : len(NIGHTLY)]] == [[name, "skipped"] for name in NIGHTLY[1:]]


def test_run_pipeline_exits_3_when_some_sources_failed_and_the_night_went_on(county, tmp_path, capsys):
    DataSourceFactory(
        slug="county-two-parcels", kind="file", dataset="parcels", url=str(tmp_path / "gone.csv"), enabled=True
    )

    with pytest.raises(CommandError, match=r"^nightly run #\d+ was partial: ingest: county-two-parcels: ") as exc:
        call_command("run_pipeline")

    assert exc.value.returncode == 3
    out = capsys.readouterr().out.splitlines()
    assert [line.split()[1:3] for line in out[: len(NIGHTLY)]] == [[name, "success"] for name in NIGHTLY]
    assert "error: county-two-parcels: " in out[0]
    assert PipelineRun.objects.get().status == "partial"


def test_run_pipeline_exits_2_when_another_run_is_in_progress():
    running = PipelineRunFactory(job="ghl_pull", status="running", finished_at=None)

    with pytest.raises(
        CommandError, match=rf"ghl_pull run #\d+ skipped: ghl_pull run #{running.pk} is still running"
    ) as exc:
        call_command("run_pipeline", "--job", "ghl_pull")

    assert exc.value.returncode == 2


def test_run_pipeline_refuses_async_without_a_broker_and_wait_without_async():
    with pytest.raises(CommandError, match="--async needs a broker: set CELERY_BROKER_URL and run a worker"):
        call_command("run_pipeline", "--async")
    with pytest.raises(CommandError, match="--wait only goes with --async"):
        call_command("run_pipeline", "--wait")
    assert PipelineRun.objects.count() == 0


SCHEDULES = [
    ("DealFinder: GoHighLevel buyer pull", "ghl_pull", "0", "*"),
    ("DealFinder: GoHighLevel deferred messages", "ghl_deferred", "*/15", "*"),
    ("DealFinder: GoHighLevel lead push", "ghl_push", "*/15", "*"),
    ("DealFinder: data-quality check", "quality", "0", "6"),
    ("DealFinder: nightly pipeline", "nightly", "0", "2"),
]


def test_setup_periodic_tasks_is_idempotent_and_keeps_admin_edits(capsys, settings):
    call_command("setup_periodic_tasks")
    call_command("setup_periodic_tasks")

    assert capsys.readouterr().out.splitlines() == [
        "Periodic tasks: 5 created, 0 already present (edit them in the admin).",
        "Periodic tasks: 0 created, 5 already present (edit them in the admin).",
    ]
    tasks = PeriodicTask.objects.select_related("crontab").order_by("name")
    assert [(t.name, json.loads(t.kwargs)["job"], t.crontab.minute, t.crontab.hour) for t in tasks] == SCHEDULES
    assert {(t.task, json.loads(t.kwargs)["trigger"], t.enabled) for t in tasks} == {
        ("dealfinder.pipeline_run", "beat", True)
    }
    assert {str(t.crontab.timezone) for t in tasks} == {settings.TIME_ZONE}
    assert CrontabSchedule.objects.count() == 4

    nightly = tasks.get(name="DealFinder: nightly pipeline")
    nightly.enabled = False
    nightly.crontab = CrontabSchedule.objects.create(minute="30", hour="3", timezone=settings.TIME_ZONE)
    nightly.save()
    call_command("setup_periodic_tasks")

    nightly.refresh_from_db()
    assert (nightly.enabled, nightly.crontab.minute, nightly.crontab.hour) == (False, "30", "3")
    assert PeriodicTask.objects.filter(name__startswith="DealFinder:").count() == 5
