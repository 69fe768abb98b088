"""Pipeline bookkeeping: which jobs exist and their steps, admitting a run (never two of a job at once), marking
steps and runs as they go, sweeping runs whose worker died, and the failure alert.

A run is a PipelineRun row with one PipelineStep per step; a failing step fails the run, its later steps are
marked skipped, and an alert is sent. The steps' services are called by steps.py; the Celery canvas that
chains them is dealfinder/ops/tasks.py; the beat schedules are schedules.py.
"""

import datetime
import logging
import time

from django.db import transaction
from django.utils import timezone

from dealfinder.common.heartbeat import describe_stale, stale_before
from dealfinder.common.locks import advisory_lock
from dealfinder.common.logging import log_context
from dealfinder.ops.models import PipelineRun, PipelineStep
from leads.alerts import alerts_send_text
from properties.services import ingestion_runs_fail_stale

logger = logging.getLogger("dealfinder.pipeline")  # the name operators filter on, whichever module logs

# Job name -> its steps, in order (steps.STEP_SERVICES says what each calls). Each job never overlaps itself.
JOBS: dict[str, tuple[str, ...]] = {
    "nightly": (
        "ingest",
        "enrich",
        "score",
        "comps",
        "map",
        "match",
        "discover_buyers",
        "ghl_reconcile",
        "ghl_push",
        "mail",
        "alerts",
        "quality",
        "dashboard",
    ),
    "ghl_push": ("ghl_push",),
    "ghl_deferred": ("ghl_deferred",),
    "mail": ("mail",),
    "ghl_pull": ("ghl_pull",),
    "ghl_reconcile": ("ghl_reconcile",),
    "quality": ("quality",),
}

# Jobs that do not start while one of these runs: the nightly run pushes and checks quality itself.
# (The nightly run is never held back by them: at worst its step waits in the queue behind theirs.)
BLOCKED_BY: dict[str, tuple[str, ...]] = {
    "ghl_push": ("nightly",),
    "ghl_reconcile": ("nightly",),
    "quality": ("nightly",),
}

Status = PipelineRun.Status
StepStatus = PipelineStep.Status


def _run_skip(*, job: str, trigger: str, reason: str) -> PipelineRun:
    logger.warning("Skipped %s (%s trigger): %s", job, trigger, reason)
    now = timezone.now()
    run = PipelineRun(job=job, trigger=trigger, started_at=now, heartbeat_at=now)
    run.finish(Status.SKIPPED, message=reason, now=now)
    return run


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
        PipelineRun.objects.filter(pk=run.pk).finish_running(Status.FAILED, message=reason, now=now)
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


def pipeline_run_finish(*, run_id: int) -> None:
    """Mark the run successful, or partial when a step succeeded with a warning (some of the night's sources
    failed), unless a step already failed it; a partial run alerts like a failed one."""
    with log_context(pipeline_run_id=run_id):
        now = timezone.now()
        warnings = list(
            PipelineStep.objects.filter(run_id=run_id, status=StepStatus.SUCCESS)
            .exclude(error="")
            .order_by("order")
            .values_list("name", "error")
        )
        status, message = Status.SUCCESS, ""
        if warnings:
            status, message = Status.PARTIAL, "; ".join(f"{name}: {error}" for name, error in warnings)
        updated = PipelineRun.objects.filter(pk=run_id).finish_running(
            status, message=message, now=now, heartbeat_at=now
        )
        if updated and warnings:
            pipeline_notify_failure(run=PipelineRun.objects.get(pk=run_id))
        elif updated:
            logger.info("Pipeline run #%s succeeded", run_id)


def _heartbeat(run_id: int) -> None:
    pipeline_run_running(run_id).update(heartbeat_at=timezone.now())


def pipeline_run_running(run_id: int):
    """The run while it is running: what its heartbeat stamps (never a run already finished or swept)."""
    return PipelineRun.objects.filter(pk=run_id, status=Status.RUNNING)


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


def pipeline_step_succeed(*, step: PipelineStep, counts: dict, warning: str = "") -> None:
    """The step is done; a `warning` (what part of it failed) makes its run end partial."""
    step.status = StepStatus.SUCCESS
    step.counts = counts
    step.error = warning
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
        PipelineRun.objects.filter(pk=step.run_id).finish_running(
            Status.FAILED, message=f"{step.name} failed: {error}", now=now, heartbeat_at=now
        )
    pipeline_notify_failure(run=PipelineRun.objects.get(pk=step.run_id))


def pipeline_notify_failure(*, run: PipelineRun) -> None:
    """Send the failure (or a partial run) through leads.alerts (Slack and email, where configured); always log it
    as an error."""
    subject = f"DealFinder: {run.job} run #{run.pk} {'was partial' if run.status == Status.PARTIAL else 'failed'}"
    body = f"{run.message}\n\nStarted {run.started_at:%Y-%m-%d %H:%M %Z} ({run.get_trigger_display()})."
    logger.error("%s: %s", subject, run.message)
    try:
        alerts_send_text(subject=subject, body=body)
    except Exception:
        logger.exception("Sending the failure alert for %s run #%s failed", run.job, run.pk)


def pipeline_run_wait(*, run_id: int, timeout: float, poll: float = 1.0) -> PipelineRun:
    """Poll the run row until it is no longer running or `timeout` seconds have passed."""
    deadline = time.monotonic() + timeout
    run = PipelineRun.objects.get(pk=run_id)
    while run.status == Status.RUNNING and time.monotonic() < deadline:
        time.sleep(poll)
        run.refresh_from_db()
    return run
