"""Thin Celery tasks around the ingestion services (idempotent: a re-run converges; app-wide time limits)."""

from celery import shared_task

from . import services


@shared_task
def datasource_ingest_task(source_id: int, run_id: int | None = None) -> dict:
    """Ingest one DataSource (into the queued run `run_id`, when given); returns the run's id and counts (no run
    when the source was disabled meanwhile)."""
    try:
        return _run_summary(services.datasource_ingest(source_id=source_id, run_id=run_id))
    except services.SourceDisabled as exc:
        return {"run_id": run_id, "status": "skipped", "message": str(exc)}


@shared_task
def datasource_ingest_all_task() -> list[dict]:
    """Ingest every enabled DataSource."""
    return [_run_summary(run) for run in services.datasource_ingest_all()]


@shared_task
def properties_enrich_task() -> str:
    """Geocode properties without a point, then merge duplicates."""
    return str(services.properties_enrich())


def _run_summary(run) -> dict:
    fields = ("status", "processed", "inserted", "updated", "unchanged", "failed")
    return {"run_id": run.pk, **{f: getattr(run, f) for f in fields}}
