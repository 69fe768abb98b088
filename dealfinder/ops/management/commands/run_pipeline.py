import json

from django.core.management.base import BaseCommand, CommandError

from dealfinder.celery import app as celery_app
from dealfinder.ops.models import PipelineRun
from dealfinder.ops.pipeline.runs import JOBS, pipeline_run_wait
from dealfinder.ops.tasks import pipeline_launch, pipeline_run_inline

EXIT_FAILED = 1
EXIT_SKIPPED = 2
EXIT_PARTIAL = 3


def format_counts(counts: dict) -> str:
    """Sorted key=value pairs (PostgreSQL's jsonb does not keep the service's key order)."""
    return " ".join(
        f"{k}={json.dumps(v, sort_keys=True) if isinstance(v, dict) else v}" for k, v in sorted(counts.items())
    )


class Command(BaseCommand):
    help = (
        "Run a job (default: the nightly pipeline) inline and print each step; --async sends it to the "
        "worker through the broker and prints the run id; --async --wait also waits for it. "
        f"Exits {EXIT_FAILED} if the run failed, {EXIT_SKIPPED} if skipped (another run of the job is in progress), "
        f"{EXIT_PARTIAL} if partial (some sources failed; the rest ran through)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--job", choices=list(JOBS), default="nightly")
        parser.add_argument("--async", dest="run_async", action="store_true", help="queue it for the worker")
        parser.add_argument("--wait", action="store_true", help="with --async: wait for the run to end")
        parser.add_argument("--timeout", type=float, default=4 * 3600, help="seconds --wait waits (default 4 h)")

    def handle(self, *args, job, run_async, wait, timeout, **options):
        if wait and not run_async:
            raise CommandError("--wait only goes with --async")
        if run_async:
            if celery_app.conf.task_always_eager:
                raise CommandError("--async needs a broker: set CELERY_BROKER_URL and run a worker")
            run = pipeline_launch(job=job, trigger=PipelineRun.Trigger.MANUAL)
            self.stdout.write(f"PipelineRun {run.pk}: {run.status}")
            if run.status == PipelineRun.Status.RUNNING and wait:
                run = pipeline_run_wait(run_id=run.pk, timeout=timeout)
                self._report(run)
        else:
            run = pipeline_run_inline(job=job, trigger=PipelineRun.Trigger.MANUAL)
            self._report(run)
        if run.status == PipelineRun.Status.FAILED:
            raise CommandError(f"{run.job} run #{run.pk} failed: {run.message}", returncode=EXIT_FAILED)
        if run.status == PipelineRun.Status.PARTIAL:
            raise CommandError(f"{run.job} run #{run.pk} was partial: {run.message}", returncode=EXIT_PARTIAL)
        if run.status == PipelineRun.Status.SKIPPED:
            raise CommandError(f"{run.job} run #{run.pk} skipped: {run.message}", returncode=EXIT_SKIPPED)
        if wait and run.status == PipelineRun.Status.RUNNING:
            raise CommandError(f"{run.job} run #{run.pk} still running after {timeout:.0f}s", returncode=EXIT_FAILED)

    def _report(self, run: PipelineRun) -> None:
        for step in run.steps.all():
            duration = f"{step.duration.total_seconds():.1f}s" if step.duration else "-"
            line = f"{step.order}. {step.name:<9} {step.status:<8} {duration:>8}  {format_counts(step.counts)}"
            self.stdout.write(line + (f"  error: {step.error}" if step.error else ""))
        duration = f" in {run.duration.total_seconds():.1f}s" if run.duration else ""
        message = f": {run.message}" if run.message else ""
        self.stdout.write(f"{run.job} run #{run.pk}: {run.status}{duration}{message}")
