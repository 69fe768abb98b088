"""Batched, set-based upserts of mapped records into the parcel master, recorded as an IngestionRun.

Per batch a constant number of queries: fetch existing rows by key IN (...), one upsert per table for the
rows that are new or changed (content hash), one transaction. Unchanged rows are not rewritten.

A key (parcel, case, listing ...) repeated within one run is resolved the same way every run: the first record
read with it is kept (lowest object id, first row of a file), later ones are skipped and reported as duplicates.
The run records how each mapped field read (IngestionRun.field_stats) and how many stored records have no point.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from dealfinder.common.logging import log_context
from dealfinder.common.lookups import AnyOf
from dealfinder.common.prefetch import prefetched
from properties import models as m

from .base import Page, RawRecord, SourceError
from .derive import Derived, derive_records, deriver_setup
from .mapping import BAD, FILLED, FieldMapping, Mapped, RowError
from .pipelined import Deriver, load_pipelined
from .points import Placed
from .prepare import Prepared, content_hash
from .schema import checked_specs, mapped_attributes, missing_attributes, missing_message, schema_drift
from .stats import EXAMPLES, LOCATION, NOT_COUNTED, FieldStats
from .write import stamp_seen, start_of_day, write_batch

logger = logging.getLogger(__name__)

MAX_ERRORS = 100
LOADER_VERSION = 2  # bump when prepare() or the merge rules change, so unchanged records are re-derived once


def ingest_source(
    *,
    source: m.DataSource,
    reader: Iterable[Page],
    mapping: FieldMapping | None = None,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
    run: m.IngestionRun | None = None,
) -> m.IngestionRun:
    """Read every page, upsert in batches (one transaction each) and return the finished run (`run`, started by
    the caller, or a new one).

    A bad row or failed page is recorded and skipped; an exception ends the run as failed with earlier batches
    kept and the current batch rolled back. The mapping defaults to the source's field_mapping.
    """
    mapping = mapping or FieldMapping.from_config(source.dataset, source.field_mapping)
    fingerprint = mapping_fingerprint(source, mapping)
    if run is None:
        run = m.IngestionRun.objects.create(
            source=source, source_label=source.name[:200], dataset=source.dataset, heartbeat_at=timezone.now()
        )
    run.mapping_fingerprint = fingerprint
    tally = _Tally(FieldStats(mapping.targets))
    pages = None
    with log_context(ingestion_run_id=run.pk):
        try:
            _record_schema(run, reader, mapping, config=source.field_mapping)
            # The next pages are fetched and parsed while this one is written (readers use no database).
            pages = prefetched(lambda: reader)
            _load(run, source, mapping, fingerprint, _steps(pages, batch_size), tally, progress)
        except Exception as exc:
            logger.exception("ingest of %s failed", source)
            _reconnect_if_lost()
            status, message = m.IngestionRun.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        else:
            landed = run.inserted + run.updated + run.unchanged
            if run.failed or run.pages_failed:
                status = m.IngestionRun.Status.PARTIAL if landed else m.IngestionRun.Status.FAILED
                message = "" if landed else _nothing_loaded(run)
            else:
                status, message = m.IngestionRun.Status.SUCCESS, None
        finally:
            if pages is not None:
                pages.close()
            if hasattr(reader, "close"):
                reader.close()
        run.incremental_since = getattr(reader, "since", None)
        run.stored = run.inserted + run.updated + run.unchanged
        run.field_stats = _with_earlier_examples(run, tally.stats.as_json())
        run.heartbeat_at = timezone.now()  # saving is a sign of life too (see _save)
        run.finish(status, message=message)
    return run


def _with_earlier_examples(run: m.IngestionRun, stats: dict) -> dict:
    """Records skipped as unchanged are counted but not read again, so their problems have no example of their own
    in this run: a field with fewer examples than problems takes the previous run's too (those records read the
    same then), after its own."""
    short = [t for t, c in stats.items() if len(c["examples"]) < min(EXAMPLES, c["bad"] + c["sentinel"])]
    if short:
        earlier = (
            m.IngestionRun.objects.filter(source=run.source, finished_at__isnull=False, started_at__lt=run.started_at)
            .order_by("-started_at")
            .values_list("field_stats", flat=True)
            .first()
        ) or {}
        for target in short:
            own = stats[target]["examples"]
            more = [e for e in (earlier.get(target) or {}).get("examples", []) if e not in own]
            stats[target]["examples"] = (own + more)[:EXAMPLES]
    return stats


@dataclass
class _Tally:
    """What one run accumulates across its batches."""

    stats: FieldStats
    keys: set[int] = field(default_factory=set)  # hashes of the keys stored so far: a repeated key is a duplicate


def _nothing_loaded(run: m.IngestionRun) -> str:
    """Why nothing landed, in the source's own words: the first recorded error."""
    first = run.errors[0] if run.errors else None
    if not first:
        return "no record could be loaded"
    where = f"page {first['page']}" if "page" in first else f"record {first.get('record', '?')}"
    return f"no record could be loaded; {where}: {first.get('reason', '')}"[:2000]


def _record_schema(run: m.IngestionRun, reader, mapping: FieldMapping, *, config) -> None:
    """Store the source's schema and its drift since the previous run on the run; SourceError (before any page
    is fetched) when the mapping names attributes the source does not have."""
    describe = getattr(reader, "schema", None)
    schema = describe() if describe is not None else None
    if schema is None:
        return
    previous = (
        m.IngestionRun.objects.filter(source_id=run.source_id, started_at__lte=run.started_at)
        .exclude(pk=run.pk)
        .exclude(schema={})
        .order_by("-started_at", "-pk")
        .values_list("schema", flat=True)
        .first()
    )
    run.schema = schema.as_dict()
    mapped = [attribute for _, attribute in mapped_attributes(mapping.specs)]
    run.schema_drift = schema_drift(previous, run.schema, mapped=mapped)
    run.save(update_fields=["schema", "schema_drift"])
    # What the user mapped must exist; so must what a preset mapped and the source had until now.
    gone = set(run.schema_drift["missing_mapped"])
    checked = missing_attributes(checked_specs(mapping.specs, config), schema)
    missing = [pair for pair in missing_attributes(mapping.specs, schema) if pair in checked or pair[1] in gone]
    if missing:
        raise SourceError(missing_message(missing, schema))


def _save(run: m.IngestionRun) -> None:
    """Save the run's counts; saving is a sign of life too (so the heartbeat thread's stamp is not overwritten
    with an older one)."""
    run.heartbeat_at = timezone.now()
    run.save()


def _reconnect_if_lost() -> None:
    """A connection lost between batches (outside any transaction) is closed so that the failure can be
    recorded on a new one; inside a caller's transaction there is nothing safe to do but let it fail."""
    if not connection.in_atomic_block and not connection.is_usable():
        connection.close()


def mapping_fingerprint(source: m.DataSource, mapping: FieldMapping) -> str:
    """What turns a record into rows: a change here makes every record go through the full path again."""
    today = timezone.localdate() if any(t.startswith("rebase") for s in mapping.specs for t in s.transforms) else None
    specs = repr((mapping.specs, mapping.epsg))
    return content_hash([LOADER_VERSION, source.dataset, source.parcel_format, specs, today])


def record_hash(fingerprint: str, record: RawRecord) -> str:
    geometry = record.geometry.coords if record.xy is None and record.geometry is not None else record.xy
    return content_hash([fingerprint, record.external_id, record.attributes, geometry])


def _steps(pages: Iterable[Page], batch_size: int) -> Iterator[tuple[Page | None, list[RawRecord] | None]]:
    """The run in steps: (page, records) where `page` is set on the first step of each page (its bookkeeping goes
    first, _open_page) and `records` is a batch of it (None for a page without records)."""
    for page in pages:
        if page.error or not page.records:
            yield page, None
            continue
        for start in range(0, len(page.records), batch_size):
            yield (page if start == 0 else None), page.records[start : start + batch_size]


def _load(run, source, mapping: FieldMapping, fingerprint: str, steps: Iterator, tally: _Tally, progress) -> None:
    """Every step in this process; or, when settings.INGEST_PREPARE_PROCESS and the first page with records holds
    at least INGEST_PREPARE_MIN_PAGE of them (a small source does not pay for a process), with a helper process
    started then, which takes batches once it has booted (pipelined.py)."""

    def look_up(records: list[RawRecord]) -> _Batch:
        return _look_up(source, fingerprint, records)

    def finish(page: Page | None, batch: _Batch | None) -> _Written | None:
        if page is not None:
            _open_page(run, page)
        if batch is None:
            return None
        written = _ingest_batch(run, source, mapping, batch, tally)
        if progress:
            progress(len(batch.records))
        return written

    for page, records in steps:
        if not records:
            _open_page(run, page)
            continue
        steps = itertools.chain([(page, records)], steps)  # the first page with records decides
        if settings.INGEST_PREPARE_PROCESS and len(page.records) >= settings.INGEST_PREPARE_MIN_PAGE:
            setup = deriver_setup(mapping, dataset=source.dataset, parcel_format=source.parcel_format)
            with Deriver(setup) as deriver:
                load_pipelined(steps, look_up=look_up, finish=finish, deriver=deriver)
            return
        break
    for page, records in steps:
        if page is not None:
            _open_page(run, page)  # before its lookup: a failed lookup leaves the page counted
        if records:
            finish(None, look_up(records))


@dataclass
class _Written:
    """What writing a batch changed in the provenance rows: the record hashes written or stamped, the keys."""

    digests: set[str]
    keys: set[str]


@dataclass
class _Batch:
    """A batch of records with their hashes and the stored records of the same hash (digest -> (key, flags,
    last_seen_at)); `derived` holds what the helper derived of the others, by index."""

    records: list[RawRecord]
    digests: list[str]
    known: dict[str, tuple[str, str, dt.datetime]]
    known_keys: dict[str, set[str]]
    derived: dict[int, Derived] = field(default_factory=dict)
    sent: bool = False  # its unknown records went to the helper
    stale: _Written | None = None  # a write made after the lookup

    def unknown(self) -> list[int]:
        return [i for i, digest in enumerate(self.digests) if digest not in self.known]


def _look_up(source, fingerprint: str, records: list[RawRecord]) -> _Batch:
    digests = [record_hash(fingerprint, record) for record in records]
    return _Batch(records, digests, *_known(source, set(digests)))


def _known(source, digests: set[str]) -> tuple[dict, dict[str, set[str]]]:
    """Records received exactly as last time, through the same mapping, are unchanged: by hash, their key, field
    flags and when they were last seen."""
    known, keys = {}, {}
    for digest, key, flags, seen_at in m.PropertySource.objects.filter(
        AnyOf(F("record_hash"), digests), source=source
    ).values_list("record_hash", "external_id", "field_flags", "last_seen_at"):
        known[digest] = (key, flags, seen_at)
        keys.setdefault(digest, set()).add(key)
    return known, keys


def _current(source, batch: _Batch) -> dict:
    """The batch's known records as they are now: those whose lookup the write since could have changed (a hash
    it wrote or stamped, a key it wrote) are looked up again; none in the common case, and no query then."""
    stale, known = batch.stale, batch.known
    if stale is None:
        return known
    suspects = {
        digest
        for digest in set(batch.digests)
        if digest in stale.digests or not stale.keys.isdisjoint(batch.known_keys.get(digest, ()))
    }
    if suspects:
        known = {d: v for d, v in known.items() if d not in suspects}
        known.update(_known(source, suspects)[0])
    return known


def _open_page(run: m.IngestionRun, page: Page) -> None:
    """A page's own bookkeeping, before its records: counted, its refused records and its failure recorded."""
    run.pages += 1
    if page.rejected:
        run.processed += len(page.rejected)
        run.failed += len(page.rejected)
        for rejected in page.rejected:
            _add_error(run, rejected)
    if page.error:
        run.pages_failed += 1
        run.processed += len(page.failed_ids)
        run.failed += len(page.failed_ids)
        _add_error(run, {"page": page.number, "reason": page.error, "records": page.failed_ids[:50]})
        _save(run)
    elif not page.records:
        _save(run)


def _ingest_batch(run, source, mapping: FieldMapping, batch: _Batch, tally: _Tally) -> _Written:
    records, digests = batch.records, batch.digests
    # Records received exactly as last time, through the same mapping, are unchanged: skip them, counting their
    # fields as they read last time. The others are derived here, unless the helper process did.
    known = _current(source, batch)
    derived = batch.derived
    todo = [i for i, digest in enumerate(digests) if digest not in known and i not in derived]
    if todo:
        fresh = derive_records([records[i] for i in todo], mapping, dataset=source.dataset,
                               parcel_format=source.parcel_format)  # fmt: skip
        derived.update(zip(todo, fresh, strict=True))
    errors, warnings = [], []
    for i, (record, digest) in enumerate(zip(records, digests, strict=True)):
        if digest not in known and derived[i].read is None:
            error = derived[i].error
            errors.append((i, {"record": record.external_id, "reason": str(error)}))
            _count_fields(tally.stats, record.external_id, error.mapped, NOT_COUNTED, error)
    today = start_of_day(timezone.now())  # provenance is stamped at day precision (write.stamp_seen)
    items, seen, unchanged, duplicates, unplaced = [], [], 0, 0, 0
    for i, (record, digest) in enumerate(zip(records, digests, strict=True)):
        if digest in known:
            key, flags, seen_at = known[digest]
            tally.stats.add(flags)
        elif (each := derived[i]).read is None:
            continue  # failed above
        elif each.item is None:
            errors.append((i, {"record": record.external_id, "reason": str(each.error)}))
            _count_fields(tally.stats, record.external_id, each.read, NOT_COUNTED, each.error)
            continue
        else:
            item = each.item
            key, flags = item.child_key, _count_fields(tally.stats, record.external_id, each.read, each.place,
                                                       item=item)  # fmt: skip
        if hash(key) in tally.keys:
            duplicates += 1
            reason = f"key {key!r} repeats an earlier record of this run: the first one is kept, this one skipped"
            warnings.append({"record": record.external_id, "reason": reason})
            continue
        tally.keys.add(hash(key))
        unplaced += flags[-1:] != FILLED
        if digest in known:
            unchanged += 1
            if seen_at < today:
                seen.append(digest)
        else:
            item.record_hash, item.flags = digest, flags
            items.append(item)
    with transaction.atomic():
        outcomes = write_batch(source=source, dataset=source.dataset, items=items, warnings=warnings) if items else []
        if seen:
            stamp_seen(m.PropertySource.objects.filter(AnyOf(F("record_hash"), seen), source=source), timezone.now())
        run.unchanged += unchanged
        run.processed += len(records)
        run.failed += len(errors)
        run.duplicates += duplicates
        run.unplaced += unplaced
        for outcome in outcomes:
            setattr(run, outcome, getattr(run, outcome) + 1)
        for _, error in sorted(errors, key=lambda e: e[0]):  # in record order
            _add_error(run, error)
        for warning in warnings:
            _add_warning(run, warning)
        _save(run)
    return _Written({item.record_hash for item in items} | set(seen), {item.child_key for item in items})


def _count_fields(
    stats: FieldStats,
    record_id: str,
    read: Mapped | None,
    place: Placed | str,
    error: RowError | None = None,
    *,
    item: Prepared | None = None,
) -> str:
    """Count how a record's fields read (and its point) in the run's stats, with its problems as examples;
    returns the record's flags. Values prepare() dropped and the field a RowError blames count as bad."""
    if read is None:
        return ""
    flags = read.flags
    problems = list(read.problems or ())
    blamed = [(error.field, str(error))] if error is not None and error.field and error.mapped is None else []
    for target, text in [*blamed, *(item.dropped if item else ())]:
        index = stats.targets.index(target)
        flags = flags[:index] + BAD + flags[index + 1 :]
        problems.append((target, text))
    if isinstance(place, str):
        flags += place
    else:
        flags += place.flag
        if place.problem:
            problems.append((LOCATION, place.problem))
    stats.add(flags)
    for target, text in problems:
        if stats.wants_examples(target):
            stats.example(target, record_id, text)
    return flags


def _add_error(run: m.IngestionRun, error: dict) -> None:
    if len(run.errors) < MAX_ERRORS:
        run.errors.append(error)


def _add_warning(run: m.IngestionRun, warning: dict) -> None:
    if len(run.warnings) < MAX_ERRORS:
        run.warnings.append(warning)
