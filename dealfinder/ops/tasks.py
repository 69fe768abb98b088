"""Thin Celery tasks for the pipeline steps and the scheduled jobs; the logic is in dealfinder.pipeline.

Step tasks are idempotent (a finished step is not run again), so late acks (celery.py) are safe;
they retry only transient errors.
"""

import functools

from celery import chord, group, shared_task

from dealfinder import pipeline

RETRY_TRANSIENT = {
    "bind": True,
    "autoretry_for": (pipeline.TransientError,),
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
        except pipeline.TransientError:
            if not task.request.is_eager:
                raise
            retries += 1


@shared_task(name="dealfinder.pipeline_run")
def pipeline_run(job: str = "nightly", trigger: str = "beat") -> int:
    """Start a run of `job` (what beat schedules); the PipelineRun id (a skipped run when one is in progress)."""
    return pipeline.pipeline_launch(job=job, trigger=trigger).pk


@shared_task(name="dealfinder.pipeline_step", **RETRY_TRANSIENT)
def pipeline_step(self, run_id: int, name: str) -> None:
    _retrying(self, functools.partial(pipeline.pipeline_step_run, run_id=run_id, name=name))


@shared_task(name="dealfinder.pipeline_ingest", **RETRY_TRANSIENT)
def pipeline_ingest(self, run_id: int):
    """Begin the ingest step and replace itself by its stages."""
    stages = pipeline.pipeline_ingest_stages(run_id=run_id)
    if stages is None:
        return None
    return self.replace(pipeline_ingest_stage.si([], run_id, stages, []))


@shared_task(name="dealfinder.pipeline_ingest_stage", bind=True)
def pipeline_ingest_stage(self, results: list[dict], run_id: int, stages: list[list[int]], done: list[dict]):
    """Ingest the next stage's sources in parallel (a chord back to this task), or record the step."""
    done = done + results
    if not stages:
        return pipeline.pipeline_ingest_finish(run_id=run_id, results=done)
    header = group(pipeline_ingest_source.si(run_id, source_id) for source_id in stages[0])
    return self.replace(chord(header, pipeline_ingest_stage.s(run_id, stages[1:], done)))


@shared_task(name="dealfinder.pipeline_ingest_source", ignore_result=False, **RETRY_TRANSIENT)  # a chord header
def pipeline_ingest_source(self, run_id: int, source_id: int) -> dict:
    return _retrying(self, functools.partial(pipeline.pipeline_ingest_source, run_id=run_id, source_id=source_id))


@shared_task(name="dealfinder.pipeline_finish")
def pipeline_finish(run_id: int) -> None:
    pipeline.pipeline_run_finish(run_id=run_id)
