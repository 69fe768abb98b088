"""The ingest command behind POST /api/v1/data-sources/{id}/ingest/."""

from dataclasses import dataclass

from celery.result import EagerResult

from dealfinder.queue import queue_errors
from properties.models import DataSource, IngestionRun
from properties.services import datasource_check_enabled
from properties.tasks import datasource_ingest_task


@dataclass
class IngestStart:
    run: IngestionRun | None
    task_id: str | None


def datasource_ingest_start(*, source: DataSource) -> IngestStart:
    """Queue the source's ingestion task. Without a broker Celery runs it now, so the finished run is
    known; with a worker only the task id is (the run appears under /api/v1/ingestion-runs/?source=).
    SourceDisabled (nothing queued) for a disabled source; QueueUnavailable when the broker cannot be reached."""
    datasource_check_enabled(source)
    with queue_errors():
        result = datasource_ingest_task.delay(source.pk)
    if isinstance(result, EagerResult):
        return IngestStart(run=IngestionRun.objects.get(pk=result.get()["run_id"]), task_id=None)
    return IngestStart(run=None, task_id=result.id)
