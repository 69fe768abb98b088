"""Queueing an ingest: POST /api/v1/data-sources/{id}/ingest/ and the admin's "Ingest now"."""

from dataclasses import dataclass

from dealfinder.common.queue import QueueUnavailable, queue_errors
from properties.models import DataSource, IngestionRun
from properties.services import datasource_check_enabled, datasource_ingest_queued
from properties.tasks import datasource_ingest_task


@dataclass
class IngestStart:
    run: IngestionRun
    task_id: str | None


def datasource_ingest_start(*, source: DataSource) -> IngestStart:
    """Record the run (running, no heartbeat yet) and queue the source's ingestion task for it.

    With a worker the run is the queued one (poll /api/v1/ingestion-runs/{id}/) and `task_id` is the task's.
    Without a broker (Celery eager) the task runs now, never raising: what went wrong is on the run, so the
    caller always gets the run, finished. QueueUnavailable, with nothing recorded, when the broker cannot be
    reached; SourceDisabled, with nothing recorded, for a disabled source. The request handler never waits on a
    task result (which Celery refuses inside a task anyway).
    """
    datasource_check_enabled(source)
    run = datasource_ingest_queued(source=source)
    if datasource_ingest_task.app.conf.task_always_eager:
        datasource_ingest_task.apply((source.pk, run.pk), throw=False)
        run.refresh_from_db()
        return IngestStart(run=run, task_id=None)
    try:
        with queue_errors():
            result = datasource_ingest_task.delay(source.pk, run.pk)
    except QueueUnavailable:
        run.delete()  # nothing was queued: nothing to show
        raise
    return IngestStart(run=run, task_id=result.id)
