"""The beat schedules (django-celery-beat, editable in admin) that start the pipeline's jobs."""

import json

from django.conf import settings
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from dealfinder.ops.models import PipelineRun
from dealfinder.ops.pipeline.runs import JOBS
from dealfinder.ops.tasks import pipeline_run

# (periodic task name, job, crontab minute, crontab hour), in settings.TIME_ZONE.
SCHEDULES: tuple[tuple[str, str, str, str], ...] = (
    ("DealFinder: nightly pipeline", "nightly", "0", "2"),
    ("DealFinder: GoHighLevel buyer pull", "ghl_pull", "0", "*"),
    ("DealFinder: GoHighLevel lead push", "ghl_push", "*/15", "*"),
    ("DealFinder: GoHighLevel deferred messages", "ghl_deferred", "*/15", "*"),
    ("DealFinder: data-quality check", "quality", "0", "6"),
)


def periodic_tasks_setup() -> tuple[int, int]:
    """Create the beat schedules (django-celery-beat) that are missing; (created, kept).

    Idempotent: an existing schedule keeps its admin-edited time and on/off switch; only its task and
    arguments are brought up to date. Nothing is ever deleted.
    """
    created = 0
    for name, job, minute, hour in SCHEDULES:
        cron_fields = {"minute": minute, "hour": hour, "day_of_week": "*", "day_of_month": "*", "month_of_year": "*"}
        crontab = CrontabSchedule.objects.filter(**cron_fields, timezone=settings.TIME_ZONE).first()
        if crontab is None:
            crontab = CrontabSchedule.objects.create(**cron_fields, timezone=settings.TIME_ZONE)
        _, was_created = PeriodicTask.objects.update_or_create(
            name=name,
            defaults={
                "task": pipeline_run.name,
                "kwargs": json.dumps({"job": job, "trigger": PipelineRun.Trigger.BEAT}),
                "description": f"Runs the {job} job ({', '.join(JOBS[job])}); never overlaps itself.",
            },
            create_defaults={"crontab": crontab, "enabled": True},
        )
        created += was_created
    return created, len(SCHEDULES) - created
