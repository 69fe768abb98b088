"""The ingest task the API and admin queue (idempotent: a re-run converges; app-wide time limits). The pipeline's
tasks are the roof's (dealfinder/ops/tasks.py)."""

from celery import shared_task

from . import services


@shared_task(name="properties.tasks.datasource_ingest_task")  # the name queued messages carry
def datasource_ingest_task(source_id: int, run_id: int | None = None) -> dict:
    """Ingest one DataSource (into the queued run `run_id`, when given); returns the run's id and counts (no run
    when the source was disabled meanwhile)."""
    try:
        return _run_summary(services.datasource_ingest(source_id=source_id, run_id=run_id))
    except services.SourceDisabled as exc:
        return {"run_id": run_id, "status": "skipped", "message": str(exc)}


def _run_summary(run) -> dict:
    fields = ("status", "processed", "inserted", "updated", "unchanged", "failed")
    return {"run_id": run.pk, **{f: getattr(run, f) for f in fields}}
