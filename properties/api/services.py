"""The ingest command behind POST /api/v1/data-sources/{id}/ingest/."""

import importlib
from dataclasses import dataclass

from celery import current_app

from properties.models import DataSource, IngestionRun
from properties.services import datasource_ingest

INGEST_TASK = "datasource_ingest_task"


@dataclass
class IngestStart:
    run: IngestionRun | None
    task_id: str | None


def _ingest_task():
    try:
        tasks = importlib.import_module("properties.tasks")
    except ImportError:
        return None
    return getattr(tasks, INGEST_TASK, None)


def datasource_ingest_start(*, source: DataSource) -> IngestStart:
    """Queue `properties.tasks.datasource_ingest_task(source_id)` when a broker is configured.

    Without a broker (or without the task) the ingestion runs now, in process, and the finished run
    is returned; with a worker the run does not exist yet, so only the task id is known.
    """
    task = _ingest_task()
    if task is None or current_app.conf.task_always_eager:
        return IngestStart(run=datasource_ingest(source_id=source.pk), task_id=None)
    return IngestStart(run=None, task_id=task.delay(source.pk).id)
