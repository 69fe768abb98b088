"""Abstract model pieces every app builds on (no concrete models here: the floor has no tables of its own)."""

import datetime

from django.db import models
from django.utils import timezone


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


def score_range_check(field: str, *, low: int = 0, high: int = 100) -> models.CheckConstraint:
    """A database CHECK keeping a score column within [low, high]."""
    return models.CheckConstraint(
        condition=models.Q(**{f"{field}__gte": low, f"{field}__lte": high}),
        name=f"%(app_label)s_%(class)s_{field}_range",
    )


class RunQuerySet(models.QuerySet):
    def finish_running(self, status: str, *, message: str = "", now: datetime.datetime | None = None, **fields) -> int:
        """Finish the runs of this set that are still running (one UPDATE; a run finished meanwhile, by its own
        process or by a sweep, keeps its outcome). How many were finished."""
        return self.filter(status=RunRecord.RUNNING).update(
            status=status, message=message, finished_at=now or timezone.now(), **fields
        )


class RunRecord(models.Model):
    """What every run records (IngestionRun, SyncLog, PipelineRun): its status, when it started and finished, its
    first errors and a message; each kind adds its counts (COUNT_FIELDS) and declares its statuses by overriding
    `status` with their choices. A run ends one way: `run.finish(...)`, or `Model.objects.finish_running(...)`
    for runs that may have been finished meanwhile (sweeps of dead workers, queued runs that failed)."""

    RUNNING = "running"
    COUNT_FIELDS: tuple[str, ...] = ()

    status = models.CharField(max_length=16, default=RUNNING, db_index=True)
    errors = models.JSONField(default=list, blank=True, help_text="First errors, with what they were about")
    message = models.TextField(blank=True, help_text="Why the run failed or was skipped, or what it noted")
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = RunQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-started_at"]
        get_latest_by = "started_at"

    @property
    def duration(self) -> datetime.timedelta | None:
        return self.finished_at - self.started_at if self.finished_at else None

    @property
    def counts(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in self.COUNT_FIELDS}

    def finish(self, status: str, *, message: str | None = None, now: datetime.datetime | None = None) -> None:
        """Set the outcome (status, finished time, message when given) and save the whole run: a run recorded only
        when it ends is created here, one that ran is saved with its counts."""
        self.status = status
        if message is not None:
            self.message = message
        self.finished_at = now or timezone.now()
        self.save()
