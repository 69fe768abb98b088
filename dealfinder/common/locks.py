"""Named advisory locks: PostgreSQL's pg_try_advisory_lock; other databases have none (always granted)."""

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection


def advisory_lock_key(name: str) -> int:
    """A stable signed 64-bit key for a lock name."""
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big", signed=True)


@contextmanager
def advisory_lock(name: str) -> Iterator[bool]:
    """Try to take the session-level lock `name` without waiting; yield whether it was taken.

    The lock is released on exit. On databases without advisory locks this yields True: callers
    keep their own guard (e.g. a status row written in a transaction).
    """
    if connection.vendor != "postgresql":
        yield True
        return
    key = advisory_lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
