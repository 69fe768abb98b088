"""The nightly pipeline and the other scheduled jobs: the step registry, run bookkeeping and the Celery canvas.

Each step calls one service, resolved by dotted path from STEP_SERVICES when the step runs, so a
missing service fails its step ("service not available: ...") instead of breaking imports. A run is a
PipelineRun row with one PipelineStep per step; a failing step fails the run, its later steps are
marked skipped, and an alert is sent.
"""

import dataclasses
import datetime
import functools
import importlib
import json
import logging
import time
from collections.abc import Callable

import httpx
from celery import chain
from django.conf import settings
from django.db import OperationalError, models, transaction
from django.utils import timezone

from dealfinder.heartbeat import describe_stale, heartbeat, stale_before
from dealfinder.locks import advisory_lock
from dealfinder.logging import log_context
from dealfinder.models import PipelineRun, PipelineStep
from dealfinder.queue import QueueUnavailable, queue_errors
from properties.ingest.schema import drift_summary
from properties.models import DataSource
from properties.services import SourceDisabled, ingestion_runs_fail_stale

logger = logging.getLogger(__name__)

# Step name -> the service it calls (keyword arguments all defaulted). "ingest" is called once per enabled
# DataSource, in parallel, as datasource_ingest(source_id=...).
STEP_SERVICES: dict[str, str] = {
    "ingest": "properties.services.datasource_ingest",
    "enrich": "properties.services.properties_enrich",
    "score": "leads.services.leads_score_all",
    "map": "leads.grid.map_grid_refresh",
    "match": "buyers.services.matches_refresh_all",
    "ghl_push": "sync.services.ghl_push_leads",
    "ghl_pull": "sync.services.ghl_pull_buyers",
    "alerts": "leads.alerts.alerts_send_new_tier_a",
    "quality": "leads.quality.quality_check_run",
}
# Called as notify(subject=..., body=...) when a run fails; logged as an error when not available.
NOTIFY_SERVICE = "leads.alerts.alerts_send_text"

# Job name -> its steps, in order. Each job never overlaps itself.
JOBS: dict[str, tuple[str, ...]] = {
    "nightly": ("ingest", "enrich", "score", "map", "match", "ghl_push", "alerts", "quality"),
    "ghl_push": ("ghl_push",),
    "ghl_pull": ("ghl_pull",),
    "quality": ("quality",),
}

# Jobs that do not start while one of these runs: the nightly run pushes and checks quality itself.
# (The nightly run is never held back by them: at worst its step waits in the queue behind theirs.)
BLOCKED_BY: dict[str, tuple[str, ...]] = {"ghl_push": ("nightly",), "quality": ("nightly",)}

Status = PipelineRun.Status
StepStatus = PipelineStep.Status


class ServiceUnavailable(Exception):
    """A step's service cannot be imported."""


class TransientError(Exception):
    """A step failed for a reason worth retrying (network, HTTP 5xx/429, database lock); the task retries it."""


def resolve_service(path: str) -> Callable:
    module_name, _, attribute = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ServiceUnavailable(f"service not available: {path} ({exc})") from exc


def is_transient(exc: BaseException | None) -> bool:
    """Network errors, HTTP 5xx/429 and database lock/connection errors, also when wrapped (raise ... from)."""
    while exc is not None:
        if isinstance(exc, httpx.TransportError | OperationalError):
            return True
        if isinstance(exc, httpx.HTTPStatusError):
            return exc.response.status_code == 429 or exc.response.status_code >= 500
        if getattr(exc, "retryable", False) is True:
            return True
        status = getattr(exc, "status_code", None)
        if isinstance(status, int) and (status == 429 or status >= 500):
            return True
        exc = exc.__cause__
    return False


def describe(exc: BaseException) -> str:
    return str(exc) if isinstance(exc, ServiceUnavailable) else f"{type(exc).__name__}: {exc}"


def _plain(value):
    """JSON-friendly counts: numbers, strings and flags stay; lists become their length."""
    if isinstance(value, list | tuple | set):
        return len(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)  # also turns TextChoices members into their plain value


def summarize(result) -> dict:
    """A service's summary (dataclass, model instance such as IngestionRun/SyncLog, dict or count) as counts."""
    if result is None:
        return {}
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return _plain(dataclasses.asdict(result))
    if isinstance(result, models.Model):
        counts = {f"{result._meta.model_name}_id": result.pk}
        for field in result._meta.concrete_fields:
            value = getattr(result, field.attname)
            if field.primary_key or field.is_relation:
                continue
            if isinstance(value, bool | int | float | list) or (field.choices and value):
                counts[field.attname] = _plain(value)
        return counts
    if isinstance(result, dict):
        return _plain(result)
    if isinstance(result, int | float):
        return {"count": result}
    return {"result": str(result)}


def result_failure(result) -> str | None:
    """Why a service that returned normally still failed (a run/log with status "failed"), else None."""
    if getattr(result, "status", None) == "failed":
        return getattr(result, "message", "") or f"{type(result).__name__} finished with status failed"
    return None


# --- Runs -----------------------------------------------------------------------------------------


def _run_skip(*, job: str, trigger: str, reason: str) -> PipelineRun:
    logger.warning("Skipped %s (%s trigger): %s", job, trigger, reason)
    now = timezone.now()
    return PipelineRun.objects.create(
        job=job, trigger=trigger, status=Status.SKIPPED, started_at=now, finished_at=now, heartbeat_at=now, error=reason
    )


def pipeline_runs_fail_stale(*, now: datetime.datetime | None = None) -> list[int]:
    """Fail every running run whose heartbeat is older than RUN_STALE_AFTER_SECONDS (its worker was killed or
    lost), with the reason; its running step fails, its pending steps are skipped. The failed run ids."""
    now = now or timezone.now()
    stale = list(PipelineRun.objects.filter(status=Status.RUNNING, heartbeat_at__lt=stale_before(now)))
    for run in stale:
        reason = describe_stale(run.heartbeat_at)
        logger.error("Failing %s run #%s: %s", run.job, run.pk, reason)
        PipelineStep.objects.filter(run=run, status=StepStatus.RUNNING).update(
            status=StepStatus.FAILED, error=reason, finished_at=now
        )
        PipelineStep.objects.filter(run=run, status=StepStatus.PENDING).update(
            status=StepStatus.SKIPPED, error="skipped: the run went stale"
        )
        PipelineRun.objects.filter(pk=run.pk, status=Status.RUNNING).update(
            status=Status.FAILED, error=reason, finished_at=now
        )
    return [run.pk for run in stale]


def pipeline_run_start(*, job: str, trigger: str) -> PipelineRun:
    """Admit a new run of `job` (status running, steps pending), or record a skipped one if it (or a job in
    BLOCKED_BY) already runs.

    On PostgreSQL an advisory lock on the job name makes check-and-create atomic across processes; on
    SQLite the transaction begins IMMEDIATE (settings), which serializes it. The running row then guards the
    whole run, however many tasks and workers it spans; a run without a heartbeat for RUN_STALE_AFTER_SECONDS
    is failed first (any job's, and stale ingestion runs too: every scheduled trigger sweeps).
    """
    if job not in JOBS:
        raise ValueError(f"unknown job {job!r}; known: {', '.join(JOBS)}")
    with advisory_lock(f"dealfinder.pipeline.{job}") as acquired:
        if not acquired:
            return _run_skip(job=job, trigger=trigger, reason="another trigger of this job holds its lock")
        with transaction.atomic():
            now = timezone.now()
            blockers = (job, *BLOCKED_BY.get(job, ()))
            pipeline_runs_fail_stale(now=now)  # a dead run never blocks
            ingestion_runs_fail_stale(now=now)
            running = PipelineRun.objects.filter(job__in=blockers, status=Status.RUNNING).order_by("started_at").first()
            if running:
                reason = f"{running.job} run #{running.pk} is still running"
                return _run_skip(job=job, trigger=trigger, reason=reason)
            run = PipelineRun.objects.create(job=job, trigger=trigger, started_at=now, heartbeat_at=now)
            PipelineStep.objects.bulk_create(
                PipelineStep(run=run, name=name, order=order) for order, name in enumerate(JOBS[job], start=1)
            )
    logger.info("Started %s run #%s (%s trigger)", job, run.pk, trigger)
    return run


def pipeline_canvas(*, run: PipelineRun) -> chain:
    """The run's steps as one Celery chain, ending with the task that marks the run successful."""
    from dealfinder import tasks  # the tasks call this module's services

    steps = [
        tasks.pipeline_ingest.si(run.pk) if name == "ingest" else tasks.pipeline_step.si(run.pk, name)
        for name in JOBS[run.job]
    ]
    return chain(*steps, tasks.pipeline_finish.si(run.pk))


def pipeline_launch(*, job: str = "nightly", trigger: str = PipelineRun.Trigger.MANUAL) -> PipelineRun:
    """Start a run of `job` and queue its chain once committed (runs inline when Celery is eager).

    Returns the run: status running (queued), skipped when another run of the job is in progress, or failed
    when the broker cannot be reached (once committed: at once outside a transaction).
    With eager Celery the chain has already finished when this returns; re-read the row.
    """
    run = pipeline_run_start(job=job, trigger=trigger)
    if run.status == Status.RUNNING:
        transaction.on_commit(functools.partial(_run_send, run))
    return run


def _run_send(run: PipelineRun) -> None:
    """Queue the run's chain; an unreachable broker fails the run (updated in place) and alerts."""
    try:
        with queue_errors():
            pipeline_canvas(run=run).apply_async()
    except QueueUnavailable as exc:
        now = timezone.now()
        run.status, run.error, run.finished_at = Status.FAILED, str(exc), now
        run.save(update_fields=["status", "error", "finished_at"])
        PipelineStep.objects.filter(run=run).update(status=StepStatus.SKIPPED, error="skipped: never queued")
        pipeline_notify_failure(run=run)


def pipeline_run_inline(*, job: str = "nightly", trigger: str = PipelineRun.Trigger.MANUAL) -> PipelineRun:
    """Run a job in this process, step after step, without a broker; the finished (or skipped) run."""
    run = pipeline_run_start(job=job, trigger=trigger)
    if run.status == Status.RUNNING:
        pipeline_canvas(run=run).apply()
        run.refresh_from_db()
    return run


def pipeline_run_finish(*, run_id: int) -> None:
    """Mark the run successful, unless a step already failed it."""
    with log_context(pipeline_run_id=run_id):
        now = timezone.now()
        updated = PipelineRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
            status=Status.SUCCESS, finished_at=now, heartbeat_at=now
        )
        if updated:
            logger.info("Pipeline run #%s succeeded", run_id)


def _heartbeat(run_id: int) -> None:
    _running(run_id).update(heartbeat_at=timezone.now())


def _running(run_id: int):
    """The run while it is running: what its heartbeat stamps (never a run already finished or swept)."""
    return PipelineRun.objects.filter(pk=run_id, status=Status.RUNNING)


# --- Steps ----------------------------------------------------------------------------------------


def pipeline_step_begin(*, run_id: int, name: str) -> PipelineStep | None:
    """Mark the step running (one more attempt); None when its run is over (an earlier step failed)."""
    step = PipelineStep.objects.select_related("run").get(run_id=run_id, name=name)
    if step.run.status != Status.RUNNING or step.status not in (StepStatus.PENDING, StepStatus.RUNNING):
        return None
    now = timezone.now()
    step.status = StepStatus.RUNNING
    step.attempts += 1
    step.started_at = step.started_at or now
    step.save(update_fields=["status", "attempts", "started_at"])
    _heartbeat(run_id)
    return step


def pipeline_step_succeed(*, step: PipelineStep, counts: dict) -> None:
    step.status = StepStatus.SUCCESS
    step.counts = counts
    step.error = ""
    step.finished_at = timezone.now()
    step.save(update_fields=["status", "counts", "error", "finished_at"])
    _heartbeat(step.run_id)
    logger.info("Pipeline run #%s: %s succeeded %s", step.run_id, step.name, counts)


def pipeline_step_fail(*, step: PipelineStep, error: str, counts: dict | None = None) -> None:
    """Fail the step and its run, skip the steps after it, and alert."""
    now = timezone.now()
    with transaction.atomic():
        step.status = StepStatus.FAILED
        step.error = error
        step.counts = counts or {}
        step.finished_at = now
        step.save(update_fields=["status", "error", "counts", "finished_at"])
        PipelineStep.objects.filter(run_id=step.run_id, order__gt=step.order, status=StepStatus.PENDING).update(
            status=StepStatus.SKIPPED, error=f"skipped: {step.name} failed"
        )
        PipelineRun.objects.filter(pk=step.run_id).update(
            status=Status.FAILED, error=f"{step.name} failed: {error}", finished_at=now, heartbeat_at=now
        )
    pipeline_notify_failure(run=PipelineRun.objects.get(pk=step.run_id))


def pipeline_notify_failure(*, run: PipelineRun) -> None:
    """Send the failure through leads.alerts when it offers a text alert; always log it as an error."""
    subject = f"DealFinder: {run.job} run #{run.pk} failed"
    body = f"{run.error}\n\nStarted {run.started_at:%Y-%m-%d %H:%M %Z} ({run.get_trigger_display()})."
    logger.error("%s: %s", subject, run.error)
    try:
        notify = resolve_service(NOTIFY_SERVICE)
    except ServiceUnavailable as exc:
        logger.error("No failure alert sent: %s", exc)
        return
    try:
        notify(subject=subject, body=body)
    except Exception:
        logger.exception("Sending the failure alert for %s run #%s failed", run.job, run.pk)


def _traceback_worth(exc: Exception) -> Exception | None:
    return None if isinstance(exc, ServiceUnavailable) else exc


def _call_recorded(*, step: PipelineStep, call: Callable, can_retry: bool) -> None:
    try:
        result = call()
    except Exception as exc:
        if can_retry and is_transient(exc):
            logger.warning("Pipeline run #%s: %s will be retried: %s", step.run_id, step.name, describe(exc))
            raise TransientError(describe(exc)) from exc
        logger.error("Pipeline run #%s: %s failed", step.run_id, step.name, exc_info=_traceback_worth(exc))
        pipeline_step_fail(step=step, error=describe(exc))
        return
    failure = result_failure(result)
    if failure:
        pipeline_step_fail(step=step, error=failure, counts=summarize(result))
    else:
        pipeline_step_succeed(step=step, counts=summarize(result))


def pipeline_step_run(*, run_id: int, name: str, can_retry: bool) -> None:
    """Run one step's service and record the outcome; raises TransientError when the task should retry."""
    with log_context(pipeline_run_id=run_id, pipeline_step=name):
        step = pipeline_step_begin(run_id=run_id, name=name)
        if step is None:
            return
        with heartbeat(_running(run_id)):
            _call_recorded(step=step, call=lambda: resolve_service(STEP_SERVICES[name])(), can_retry=can_retry)


def pipeline_ingest_stages(*, run_id: int) -> list[list[int]] | None:
    """Begin the ingest step; the enabled sources in stages run one after the other, each in parallel:
    parcels first, so the other datasets find their parcels (None when the run is over)."""
    if pipeline_step_begin(run_id=run_id, name="ingest") is None:
        return None
    sources = DataSource.objects.filter(enabled=True).order_by("pk")
    parcels = list(sources.filter(dataset=DataSource.Dataset.PARCELS).values_list("pk", flat=True))
    others = list(sources.exclude(dataset=DataSource.Dataset.PARCELS).values_list("pk", flat=True))
    return [stage for stage in (parcels, others) if stage]


def pipeline_ingest_source(*, run_id: int, source_id: int, can_retry: bool) -> dict:
    """Ingest one source; its counts, or the error that failed it. Raises TransientError to retry."""
    with log_context(pipeline_run_id=run_id, pipeline_step="ingest"), heartbeat(_running(run_id)):
        try:
            result = resolve_service(STEP_SERVICES["ingest"])(source_id=source_id)
        except SourceDisabled as exc:  # disabled after the run listed it: skipped, never fetched
            logger.info("Pipeline run #%s: %s", run_id, exc)
            return {"source_id": source_id, "counts": {"status": "skipped"}, "error": None}
        except Exception as exc:
            if can_retry and is_transient(exc):
                logger.warning("Pipeline run #%s: source %s will be retried: %s", run_id, source_id, describe(exc))
                raise TransientError(describe(exc)) from exc
            logger.error("Pipeline run #%s: source %s failed", run_id, source_id, exc_info=_traceback_worth(exc))
            return {"source_id": source_id, "counts": {}, "error": describe(exc)}
        pipeline_notify_drift(run=result)
        return {"source_id": source_id, "counts": summarize(result), "error": result_failure(result)}


def pipeline_notify_drift(*, run) -> None:
    """Alert when an ingest run found that attributes its mapping reads have disappeared from the source
    (properties records the drift on the run; sending it is this layer's job)."""
    drift = getattr(run, "schema_drift", None) or {}
    if not drift.get("missing_mapped"):
        return
    label = getattr(run, "source_label", "") or f"source {getattr(run, 'source_id', '?')}"
    subject = f"DealFinder: {label} no longer has mapped attributes"
    body = (
        f"The source's schema changed since its previous run: {', '.join(drift['missing_mapped'])} "
        f"disappeared (the mapping reads them).\n\nAll changes: {drift_summary(drift)}.\n"
        f"Run #{run.pk}: {run.status}. Fix the field mapping in admin, Data sources."
    )
    logger.error("%s: %s", subject, drift_summary(drift))
    try:
        resolve_service(NOTIFY_SERVICE)(subject=subject, body=body)
    except ServiceUnavailable as exc:
        logger.error("No drift alert sent: %s", exc)
    except Exception:
        logger.exception("Sending the drift alert for ingestion run #%s failed", run.pk)


def pipeline_ingest_finish(*, run_id: int, results: list[dict]) -> None:
    """Record the ingest step from its sources' results: failed when any source failed."""
    step = PipelineStep.objects.get(run_id=run_id, name="ingest")
    slugs = dict(DataSource.objects.filter(pk__in=[r["source_id"] for r in results]).values_list("pk", "slug"))
    counts: dict = {"sources": len(results), "failed_sources": sum(1 for r in results if r["error"])}
    for result in results:
        for key, value in result["counts"].items():
            if not key.endswith("_id") and isinstance(value, int) and not isinstance(value, bool):
                counts[key] = counts.get(key, 0) + value
    counts["by_source"] = {
        slugs.get(r["source_id"], str(r["source_id"])): "failed" if r["error"] else r["counts"].get("status", "success")
        for r in results
    }
    errors = [f"{slugs.get(r['source_id'], r['source_id'])}: {r['error']}" for r in results if r["error"]]
    if errors:
        pipeline_step_fail(step=step, error="; ".join(errors), counts=counts)
    else:
        pipeline_step_succeed(step=step, counts=counts)


def pipeline_run_wait(*, run_id: int, timeout: float, poll: float = 1.0) -> PipelineRun:
    """Poll the run row until it is no longer running or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    run = PipelineRun.objects.get(pk=run_id)
    while run.status == Status.RUNNING and time.monotonic() < deadline:
        time.sleep(poll)
        run.refresh_from_db()
    return run


# --- Schedules ------------------------------------------------------------------------------------

# (periodic task name, job, crontab minute, crontab hour), in settings.TIME_ZONE.
SCHEDULES: tuple[tuple[str, str, str, str], ...] = (
    ("DealFinder: nightly pipeline", "nightly", "0", "2"),
    ("DealFinder: GoHighLevel buyer pull", "ghl_pull", "0", "*"),
    ("DealFinder: GoHighLevel lead push", "ghl_push", "*/15", "*"),
    ("DealFinder: data-quality check", "quality", "0", "6"),
)


def periodic_tasks_setup() -> tuple[int, int]:
    """Create the beat schedules (django-celery-beat) that are missing; (created, kept).

    Idempotent: an existing schedule keeps its admin-edited time and on/off switch; only its task and
    arguments are brought up to date. Nothing is ever deleted.
    """
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    created = 0
    for name, job, minute, hour in SCHEDULES:
        cron_fields = {"minute": minute, "hour": hour, "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
        crontab = CrontabSchedule.objects.filter(**cron_fields, timezone=settings.TIME_ZONE).first()
        if crontab is None:
            crontab = CrontabSchedule.objects.create(**cron_fields, timezone=settings.TIME_ZONE)
        _, was_created = PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": "dealfinder.pipeline_run",
                "kwargs": json.dumps({"job": job, "trigger": PipelineRun.Trigger.BEAT}),
                "description": f"Runs the {job} job ({', '.join(JOBS[job])}); never overlaps itself.",
            },
            create_defaults={"crontab": crontab, "enabled": True},
        )
        created += was_created
    return created, len(SCHEDULES) - created
