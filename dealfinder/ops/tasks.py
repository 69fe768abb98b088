"""The pipeline's canvas: its Celery tasks (thin: each calls pipeline.steps or pipeline.runs), the chain a run is
made of, and how a run is launched (queued after commit, or inline without a broker).

Task names are fixed (`name=`): saved beat schedules (django-celery-beat) and queued messages refer to them.
Step tasks are idempotent (a finished step is not run again), so late acks (celery.py) are safe; they retry only
transient errors.
"""

import functools

from celery import chain, chord, group, shared_task
from django.contrib.auth import get_user_model
from django.db import transaction

from dealfinder.common.queue import QueueUnavailable, queue_errors
from dealfinder.ops.backtest import backtest_run
from dealfinder.ops.models import PipelineRun, PipelineStep
from dealfinder.ops.pipeline.runs import (
    JOBS,
    Status,
    StepStatus,
    pipeline_notify_failure,
    pipeline_run_finish,
    pipeline_run_start,
)
from dealfinder.ops.pipeline.steps import (
    TransientError,
    pipeline_ingest_finish,
    pipeline_ingest_source,
    pipeline_ingest_stages,
    pipeline_step_run,
)
from leads.models import BacktestRun

RETRY_TRANSIENT = {
    "bind": True,
    "autoretry_for": (TransientError,),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 3,
}


def _retrying(task, call):
    """`call(can_retry=...)`; a TransientError goes to autoretry_for (backoff) in a worker. Run eagerly
    (inline runs, tests) Celery would propagate it instead, so it is retried here, at once."""
    retries = task.request.retries
    while True:
        try:
            return call(can_retry=retries < task.max_retries)
        except TransientError:
            if not task.request.is_eager:
                raise
            retries += 1


@shared_task(name="dealfinder.backtest_run")
def backtest_run_task(actor_id: int | None = None) -> int:
    """Issue 22's backtest in a worker (the admin page's "Run backtest" with a broker); the BacktestRun id."""
    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    return backtest_run(actor=actor).pk


def backtest_launch(*, actor=None) -> BacktestRun | None:
    """Run the backtest in this process when Celery is eager (no broker, tests) and return it; with a broker,
    queue it for a worker and return None. dealfinder.common.queue.QueueUnavailable when Redis is unreachable."""
    if backtest_run_task.app.conf.task_always_eager:
        return backtest_run(actor=actor)
    with queue_errors():
        backtest_run_task.delay(actor_id=actor.pk if actor else None)
    return None


@shared_task(name="dealfinder.pipeline_run")
def pipeline_run(job: str = "nightly", trigger: str = "beat") -> int:
    """Start a run of `job` (what beat schedules); the PipelineRun id (a skipped run when one is in progress)."""
    return pipeline_launch(job=job, trigger=trigger).pk


@shared_task(name="dealfinder.pipeline_step", **RETRY_TRANSIENT)
def pipeline_step(self, run_id: int, name: str) -> None:
    _retrying(self, functools.partial(pipeline_step_run, run_id=run_id, name=name))


@shared_task(name="dealfinder.pipeline_ingest", **RETRY_TRANSIENT)
def pipeline_ingest(self, run_id: int):
    """Begin the ingest step and replace itself by its stages."""
    stages = pipeline_ingest_stages(run_id=run_id)
    if stages is None:
        return None
    return self.replace(pipeline_ingest_stage.si([], run_id, stages, []))


@shared_task(name="dealfinder.pipeline_ingest_stage", bind=True)
def pipeline_ingest_stage(self, results: list[dict], run_id: int, stages: list[list[int]], done: list[dict]):
    """Ingest the next stage's sources in parallel (a chord back to this task), or record the step."""
    done = done + results
    if not stages:
        return pipeline_ingest_finish(run_id=run_id, results=done)
    header = group(pipeline_ingest_source_task.si(run_id, source_id) for source_id in stages[0])
    return self.replace(chord(header, pipeline_ingest_stage.s(run_id, stages[1:], done)))


@shared_task(name="dealfinder.pipeline_ingest_source", ignore_result=False, **RETRY_TRANSIENT)  # a chord header
def pipeline_ingest_source_task(self, run_id: int, source_id: int) -> dict:
    return _retrying(self, functools.partial(pipeline_ingest_source, run_id=run_id, source_id=source_id))


@shared_task(name="dealfinder.pipeline_finish")
def pipeline_finish(run_id: int) -> None:
    pipeline_run_finish(run_id=run_id)


# --- The canvas ---------------------------------------------------------------------------------


def pipeline_canvas(*, run: PipelineRun) -> chain:
    """The run's steps as one Celery chain, ending with the task that marks the run successful."""
    steps = [
        pipeline_ingest.si(run.pk) if name == "ingest" else pipeline_step.si(run.pk, name) for name in JOBS[run.job]
    ]
    return chain(*steps, pipeline_finish.si(run.pk))


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
        run.finish(Status.FAILED, message=str(exc))
        PipelineStep.objects.filter(run=run).update(status=StepStatus.SKIPPED, error="skipped: never queued")
        pipeline_notify_failure(run=run)


def pipeline_run_inline(*, job: str = "nightly", trigger: str = PipelineRun.Trigger.MANUAL) -> PipelineRun:
    """Run a job in this process, step after step, without a broker; the finished (or skipped) run."""
    run = pipeline_run_start(job=job, trigger=trigger)
    if run.status == Status.RUNNING:
        pipeline_canvas(run=run).apply()
        run.refresh_from_db()
    return run
