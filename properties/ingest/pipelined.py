"""The loader's steps with two cores busy (settings.INGEST_PREPARE_PROCESS): while this process writes batch k, a
helper process (dealfinder.common.offload) maps, places and prepares the records of batch k+1 that are not known.

Their hashes are looked up here first, so an unchanged record costs what it costs in one process. Batch k+1 was
looked up before batch k was written, so the loader looks up again the few of its records that batch k's write
could have made known or unknown (the `stale` write set here). Results, counters and the order of errors are those
of one process; the helper costs speed at worst, never a record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

from dealfinder.common.offload import Offload, OffloadError

logger = logging.getLogger(__name__)


def load_pipelined(steps: Iterator, *, look_up: Callable, finish: Callable, deriver: Deriver) -> None:
    """Every (page, records) step: `look_up(records)` makes its batch, `finish(page, batch)` writes it (and
    returns what it wrote), with the batch's unknown records derived by `deriver` meanwhile. What was read before
    a failure of the reader or of a lookup lands first, as in one process."""
    pending = None  # (page, batch): looked up, its unknown records with the helper
    steps = iter(steps)
    while True:
        try:
            page, records = next(steps)
        except StopIteration:
            break
        except Exception:
            _land(pending, deriver, finish)
            raise
        try:
            batch = look_up(records) if records else None
        except Exception:  # in one process, this page is counted before its lookup
            _land(pending, deriver, finish)
            if page is not None:
                finish(page, None)
            raise
        if pending is not None:
            deriver.collect(pending[1])
        if batch is not None:
            deriver.send(batch)
        if pending is not None:
            written = finish(*pending)
            if batch is not None:
                batch.stale = written
        pending = (page, batch) if batch is not None else None
        if batch is None:
            finish(page, None)
    _land(pending, deriver, finish)


def _land(pending, deriver: Deriver, finish: Callable) -> None:
    if pending is not None:
        deriver.collect(pending[1])
        finish(*pending)


class Deriver:
    """The helper process as load_pipelined uses it, one batch at a time. It is started by the first batch with at
    least half of its records to derive (a run of unchanged records never starts it) and takes batches once it has
    booted; until then, and after a failure (killed, out of memory, an error of its own: closed and logged), the
    loader derives them itself."""

    def __init__(self, setup: tuple):
        self.setup = setup
        self.helper: Offload | None = None
        self.failed = False

    def __enter__(self) -> Deriver:
        return self

    def __exit__(self, *exc_info) -> None:
        if self.helper is not None:
            self.helper.close()

    def send(self, batch) -> None:
        unknown = batch.unknown()
        if self.failed or not unknown:
            return
        try:
            if self.helper is None:
                if 2 * len(unknown) >= len(batch.records):
                    self.helper = Offload("properties.ingest.derive:record_deriver", self.setup)
                return
            if not self.helper.ready():
                return
            self.helper.send([batch.records[i] for i in unknown])
        except (OffloadError, OSError):  # OSError: it could not be started
            self._lost()
        else:
            batch.sent = True

    def collect(self, batch) -> None:
        if not batch.sent or self.failed:
            return
        try:
            batch.derived = dict(zip(batch.unknown(), self.helper.receive(), strict=True))
        except OffloadError:
            self._lost()

    def _lost(self) -> None:
        logger.warning("the ingest helper process failed; records are derived in this process", exc_info=True)
        self.failed = True
        if self.helper is not None:
            self.helper.close()
