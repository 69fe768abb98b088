"""Read ahead on a second database connection: an iterator's items produced in a thread while the caller works on
the previous one (the GIL is released while psycopg waits on the server, so reading and computing overlap).

A producer that reads the database may use it only where a second connection sees what the caller's does: on
PostgreSQL, outside a transaction (inside one the other connection would not see its uncommitted rows);
`prefetch_possible()` says so. A producer that uses no database (an ingest source's pages) can be read ahead
anywhere."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from django.db import connection

T = TypeVar("T")
_DONE = object()


def prefetch_possible() -> bool:
    """True when a thread's own connection sees what this one does: PostgreSQL, no transaction open."""
    return connection.vendor == "postgresql" and not connection.in_atomic_block


def prefetched(produce: Callable[[], Iterable[T]], *, depth: int = 2) -> Iterator[T]:
    """Iterate over `produce()` run in a thread (on its own database connection, closed at the end), at most
    `depth` items ahead. An error in the thread is raised here; leaving the loop early stops the thread."""
    items: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def run() -> None:
        try:
            for item in produce():
                while not stop.is_set():
                    try:
                        items.put((item, None), timeout=0.1)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
            items.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer
            items.put((_DONE, exc))
        finally:
            connection.close()  # the thread's own connection

    thread = threading.Thread(target=run, name="prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = items.get()
            if item is _DONE:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        while thread.is_alive():  # unblock a producer waiting on a full queue
            with contextlib.suppress(queue.Empty):
                items.get(timeout=0.1)
        thread.join()
