"""The roof's own records (app label "dealfinder"): pipeline runs and their steps, API tokens."""

import datetime

from django.db import models
from django.utils import timezone
from knox.models import AbstractAuthToken

from dealfinder.common.models import RunRecord, TimeStampedModel


class PipelineRun(TimeStampedModel, RunRecord):
    """One run of a scheduled job (the nightly pipeline, a GoHighLevel push, ...) and how it ended."""

    class Status(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        PARTIAL = "partial", "Partial (some sources failed; the rest ran through)"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (another run was in progress)"

    class Trigger(models.TextChoices):
        BEAT = "beat", "Schedule (beat)"
        MANUAL = "manual", "Manual"
        API = "api", "API"

    job = models.CharField(max_length=32)  # indexed with started_at in Meta
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.RUNNING, db_index=True)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    heartbeat_at = models.DateTimeField(default=timezone.now, help_text="Last sign of life; stale runs are failed")

    class Meta:
        ordering = ["-started_at"]
        get_latest_by = "started_at"
        indexes = [models.Index(fields=["job", "status"])]

    def __str__(self):
        return f"{self.job} #{self.pk} @ {self.started_at:%Y-%m-%d %H:%M} ({self.status})"


class PipelineStep(models.Model):
    """One step of a PipelineRun: its status, counts (the service's summary) and timing."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        RUNNING = "running", "Running"
        SUCCESS = "success", "Success"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (an earlier step failed)"

    run = models.ForeignKey(PipelineRun, on_delete=models.CASCADE, related_name="steps", db_index=False)  # see Meta
    name = models.CharField(max_length=32)
    order = models.PositiveSmallIntegerField()
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["run", "order"]
        constraints = [models.UniqueConstraint(fields=["run", "name"], name="pipelinestep_unique_name_per_run")]

    def __str__(self):
        return f"{self.order}. {self.name} ({self.status})"

    @property
    def duration(self) -> datetime.timedelta | None:
        return self.finished_at - self.started_at if self.started_at and self.finished_at else None


class ApiToken(AbstractAuthToken):
    """A REST API token (django-rest-knox's model): the token itself is never stored, only its SHA-512 `digest`
    and its first characters (`token_key`, to find the row). Shown once, when issued (`create_api_token`)."""

    description = models.CharField(max_length=200, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API token"
        ordering = ("-created",)

    def __str__(self) -> str:
        return f"{self.token_key[:10]}… ({self.user})"


# The reporting views' read-only models live with their SQL (dealfinder/ops/reports).
from dealfinder.ops.reports.models import (  # noqa: E402, F401
    ActiveBuyer,
    HotDeal,
    RecentMatch,
    SyncStatistic,
    UnsyncedProperty,
)
