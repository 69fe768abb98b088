"""The cyclic garbage collector paused around a bulk computation that allocates millions of objects and frees few
(resolving every parcel's owner, scoring a county): each full collection walks every live object, so with the
default thresholds a 100,000-parcel resolution spends a third of its CPU in collections that find nothing.
Reference counting still frees everything as usual; the collector runs again (and catches up) on leaving."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Disable the cyclic collector for the block (re-entrant: only the outermost block re-enables it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
