"""A GoHighLevel sync run: configuration, the client, and the run's tally that ends as one SyncLog row."""

from __future__ import annotations

import datetime
import time
from dataclasses import dataclass, field

import redis
from django.conf import settings
from django.utils import timezone

from dealfinder.common.logging import current_log_context
from sync.ghl import GHLClient
from sync.models import SyncLog
from sync.pacing import GHLPacer, MemoryStore, PacingStop, RedisStore

NOT_CONFIGURED = "GoHighLevel not configured (set GHL_API_TOKEN and GHL_LOCATION_ID)"
MAX_ERRORS = 100


def ghl_configured() -> bool:
    return bool(settings.GHL_API_TOKEN and settings.GHL_LOCATION_ID)


# The stage DealFinder last put a lead's opportunity in, kept on its link's snapshot (GoHighLevel's own stage, as
# its webhooks report it, is `pipelineStageId`: a broker's move there is not undone by the next push).
STAGE_SENT = "stageSent"


def opportunity_stage(lead_status: str) -> str:
    """The pipeline stage of a lead in this status: GHL_PIPELINE_STAGES, else GHL_PIPELINE_STAGE_ID."""
    return settings.GHL_PIPELINE_STAGES.get(lead_status) or settings.GHL_PIPELINE_STAGE_ID


def opportunity_stage_sent(snapshot: dict) -> str:
    """The stage DealFinder last set on an opportunity (links from before stages moved: the one it was created in)."""
    return snapshot.get(STAGE_SENT) or settings.GHL_PIPELINE_STAGE_ID


_memory_store = MemoryStore()  # without Redis: this process's pacing only


def ghl_pacer() -> GHLPacer:
    """The location's pacer: its state in Redis (GHL_PACING_REDIS_URL) so every process and token of the location
    shares one budget; in this process's memory without it."""
    url = settings.GHL_PACING_REDIS_URL
    store = RedisStore(redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=2)) if url else _memory_store
    return GHLPacer(
        store,
        location_id=settings.GHL_LOCATION_ID,
        daily_reserve=settings.GHL_DAILY_RESERVE,
        headroom=settings.GHL_PACING_HEADROOM,
        max_wait=settings.GHL_PACING_MAX_WAIT,
    )


def ghl_client() -> GHLClient:
    return GHLClient(
        settings.GHL_API_BASE_URL,
        settings.GHL_API_TOKEN,
        settings.GHL_LOCATION_ID,
        timeout=settings.HTTP_TIMEOUT_SECONDS,
        pacer=ghl_pacer(),
    )


def conflict_strategy() -> str:
    return settings.GHL_CONFLICT_STRATEGY


@dataclass
class SyncRun:
    sync_type: str
    processed: int = 0
    succeeded: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[dict] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    started_at: datetime.datetime = field(default_factory=timezone.now)
    # The id its log lines carry (log_context, set by @logged_run on the service); stored on the SyncLog.
    run_id: str = field(default_factory=lambda: str(current_log_context().get("sync_run_id") or ""))

    def fail(self, error: Exception | str, **ids) -> None:
        self.failed += 1
        if len(self.errors) < MAX_ERRORS:
            self.errors.append({**ids, "error": str(error)})

    def finish(self, *, aborted: Exception | None = None, **fields) -> SyncLog:
        """The SyncLog row. A PacingStop (daily budget below GHL_DAILY_RESERVE, a too long wait) is a clean stop:
        status "partial" with its message, and the next run resumes. `fields` are further SyncLog columns."""
        if isinstance(aborted, PacingStop):
            status = SyncLog.Status.PARTIAL
        elif aborted is not None:
            self.errors.append({"error": str(aborted)})
            status = SyncLog.Status.FAILED
        elif self.failed and self.succeeded:
            status = SyncLog.Status.PARTIAL
        elif self.failed:
            status = SyncLog.Status.FAILED
        else:
            status = SyncLog.Status.SUCCESS
        log = SyncLog(
            sync_type=self.sync_type,
            sync_run_id=self.run_id,
            processed=self.processed,
            succeeded=self.succeeded,
            failed=self.failed,
            skipped=self.skipped,
            errors=self.errors,
            started_at=self.started_at,
            duration_seconds=round(time.monotonic() - self.started, 3),
            **fields,
        )
        log.finish(status, message="; ".join(self.notes + ([str(aborted)] if aborted else [])))
        return log
