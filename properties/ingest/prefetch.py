"""A source's pages read a few pages ahead of the loader, in a background thread.

While the loader waits on the database the next page is already being fetched and parsed (and while it hashes
and prepares records, the source's server is answering), so network and database waits overlap instead of adding
up. Readers do not touch the database, so the thread needs no connection of its own. At most `depth` pages are
held, which keeps memory bounded; an error of the reader is raised to the loader where it would have been.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_PAGE, _ERROR, _DONE = "page", "error", "done"
_POLL_SECONDS = 0.1


class Prefetched(Generic[T]):
    """`for page in Prefetched(reader): ...`, then `close()` (always: it stops the thread and closes the
    reader's iterator when the loader stops early)."""

    def __init__(self, pages: Iterable[T], *, depth: int = 2):
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, args=(iter(pages),), name="ingest-prefetch", daemon=True)
        self._thread.start()

    def _read(self, pages: Iterator[T]) -> None:
        try:
            for page in pages:
                if not self._put((_PAGE, page)):
                    return
            self._put((_DONE, None))
        except BaseException as exc:  # handed to the loader's thread, which raises it
            self._put((_ERROR, exc))
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()

    def _put(self, item: tuple) -> bool:
        """Queue the item unless the loader stopped; False when it did."""
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def __iter__(self) -> Iterator[T]:
        while True:
            kind, value = self._queue.get()
            if kind == _PAGE:
                yield value
            elif kind == _ERROR:
                raise value
            else:
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
