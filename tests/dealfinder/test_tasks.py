"""Celery task names are an interface: saved beat schedules (django-celery-beat) and queued messages name them."""

from dealfinder.celery import app

# Every task name the project registered before the restructure of issue 17 that is still in use. Tasks that
# nothing queued or scheduled were deleted: buyers.tasks.matches_refresh_task, sync.tasks.ghl_push_leads_task,
# sync.tasks.ghl_pull_buyers_task, properties.tasks.datasource_ingest_all_task and properties_enrich_task.
TASK_NAMES = {
    "dealfinder.backtest_run",
    "dealfinder.pipeline_run",
    "dealfinder.pipeline_step",
    "dealfinder.pipeline_ingest",
    "dealfinder.pipeline_ingest_stage",
    "dealfinder.pipeline_ingest_source",
    "dealfinder.pipeline_finish",
    "properties.tasks.datasource_ingest_task",
}


def test_every_task_keeps_its_name():
    app.loader.import_default_modules()  # what a worker does at start: autodiscovery of each app's tasks
    registered = {name for name in app.tasks if not name.startswith("celery.")}
    assert registered == TASK_NAMES
