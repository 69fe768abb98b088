"""Database work on a second connection, in a thread, overlapping the caller's Python (the GIL is released while
psycopg waits on the server):

- `prefetched`: read ahead, an iterator's items produced in a thread while the caller works on the previous one;
- `WriteBehind`: write behind, items the caller has prepared written in a thread while it prepares the next.

Work that reads or writes the database may run on another connection only where it sees what the caller's does:
on PostgreSQL, outside a transaction (inside one the other connection would not see its uncommitted rows);
`prefetch_possible()` says so. A producer that uses no database (an ingest source's pages) can be read ahead
anywhere."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Generic, TypeVar

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


class WriteBehind(Generic[T]):
    """`with WriteBehind(write, threaded=...) as writer: writer.put(item)`: each item handed to `write(item)`, in a
    thread on its own connection (autocommit: `write` opens its transaction), at most `depth` waiting (`threaded`:
    only where `prefetch_possible()`), or inline. An error in the thread is raised at the next `put()` or on
    leaving; the items queued behind it are dropped."""

    def __init__(self, write: Callable[[T], object], *, threaded: bool, depth: int = 2):
        self.write, self.threaded, self.depth = write, threaded, depth
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def __enter__(self) -> WriteBehind[T]:
        if self.threaded:
            self._queue = queue.Queue(maxsize=self.depth)
            self._thread = threading.Thread(target=self._run, name="write-behind", daemon=True)
            self._thread.start()
        return self

    def put(self, item: T) -> None:
        if self._queue is None:
            self.write(item)
            return
        self._raise_error()
        self._queue.put(item)

    def _run(self) -> None:
        try:
            while (item := self._queue.get()) is not _DONE:
                if self._error is not None:
                    continue  # drain: the caller raises the error at its next put() or on leaving
                try:
                    self.write(item)
                except BaseException as exc:
                    self._error = exc
        finally:
            connection.close()  # the thread's own connection

    def _raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def __exit__(self, exc_type, exc, tb) -> None:
        if self._thread is not None:
            self._queue.put(_DONE)
            self._thread.join()
        if exc_type is None:
            self._raise_error()
