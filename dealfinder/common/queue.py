"""Sending work to the Celery broker, with one clear error when the broker (Redis) cannot be reached.

kombu raises its OperationalError after the publish retries (CELERY_TASK_PUBLISH_RETRY_POLICY) give up,
within a few seconds; callers turn QueueUnavailable into a 503, an admin message or a failed run.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from kombu.exceptions import OperationalError

QUEUE_UNREACHABLE = "the task queue (Redis) is unreachable: nothing was queued; try again once it is back"


class QueueUnavailable(Exception):
    def __init__(self, cause: BaseException):
        super().__init__(f"{QUEUE_UNREACHABLE} ({cause})")


@contextmanager
def queue_errors() -> Iterator[None]:
    """Raise QueueUnavailable for a broker that cannot be reached inside the block."""
    try:
        yield
    except OperationalError as exc:
        raise QueueUnavailable(exc) from exc
