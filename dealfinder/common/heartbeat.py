"""Signs of life for long runs (PipelineRun, IngestionRun): a thread stamps the run's `heartbeat_at` every
RUN_HEARTBEAT_SECONDS while the process doing the work lives, so a run whose process was killed (or whose
machine died) is recognised by a heartbeat older than RUN_STALE_AFTER_SECONDS and failed with the reason,
which frees what its status row guards. The beat comes from a thread, not from the work loop, so a slow
step (a county's ingest, a million leads rescored) still beats; the sweeps themselves live with each run
model's services.
"""

from __future__ import annotations

import datetime
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import DatabaseError, connections
from django.db.models import QuerySet
from django.utils import timezone

logger = logging.getLogger(__name__)


def stale_after() -> datetime.timedelta:
    """How long a running run may go without a heartbeat before it is taken for dead."""
    return datetime.timedelta(seconds=settings.RUN_STALE_AFTER_SECONDS)


def stale_before(now: datetime.datetime) -> datetime.datetime:
    return now - stale_after()


def describe_stale(last_beat: datetime.datetime | None) -> str:
    """Why a run was failed by a sweep, for its error/message field."""
    since = f" since {timezone.localtime(last_beat):%Y-%m-%d %H:%M:%S %Z}" if last_beat else ""
    seconds = int(settings.RUN_STALE_AFTER_SECONDS)
    return f"no heartbeat{since} (more than {seconds} s): the process running it was killed or lost; marked failed"


def _beat(queryset: QuerySet, every: float, stop: threading.Event) -> None:
    try:
        while not stop.wait(every):
            try:
                queryset.update(heartbeat_at=timezone.now())
            except DatabaseError as exc:  # a missed beat is harmless; the next one may get through
                logger.warning("heartbeat not recorded: %s", exc)
    finally:
        connections.close_all()  # this thread's own connections


@contextmanager
def heartbeat(queryset: QuerySet) -> Iterator[None]:
    """Stamp `heartbeat_at` on the queryset's rows now and every RUN_HEARTBEAT_SECONDS until the block ends.

    The queryset should select the run only while it is running (e.g. .filter(pk=..., status="running")), so a
    late beat never revives a finished or swept run.
    """
    queryset.update(heartbeat_at=timezone.now())
    stop = threading.Event()
    thread = threading.Thread(
        target=_beat, args=(queryset, settings.RUN_HEARTBEAT_SECONDS, stop), name="run-heartbeat", daemon=True
    )
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=settings.RUN_HEARTBEAT_SECONDS + 30)
