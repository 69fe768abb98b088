"""Batched, set-based upserts of mapped records into the parcel master, recorded as an IngestionRun.

Per batch a constant number of queries: fetch existing rows by key IN (...), one upsert per table for the
rows that are new or changed (content hash), one transaction. Unchanged rows are not rewritten.

A key (parcel, case, listing ...) repeated within one run is resolved the same way every run: the first record
read with it is kept (lowest object id, first row of a file), later ones are skipped and reported as duplicates.
The run records how each mapped field read (IngestionRun.field_stats) and how many stored records have no point.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from dealfinder.common.bulk import bulk_upsert_rows
from dealfinder.common.logging import log_context
from properties import models as m
from properties.normalize import (
    normalize_parcel_id,
)

from .base import Page, RawRecord, SourceError
from .mapping import BAD, FILLED, FieldMapping, Mapped, RowError
from .points import Placed, batch_points
from .prepare import (
    CHILD_FIELDS,
    CHILD_MODELS,
    PROPERTY_DEFAULTS,
    PROPERTY_FIELDS,
    Prepared,
    content_hash,
    merge_property,
    prepare,
    property_hash,
)
from .schema import checked_specs, mapped_attributes, missing_attributes, missing_message, schema_drift
from .stats import EXAMPLES, LOCATION, NOT_COUNTED, FieldStats

logger = logging.getLogger(__name__)

MAX_ERRORS = 100
LOADER_VERSION = 2  # bump when prepare() or the merge rules change, so unchanged records are re-derived once


def write_batch(
    *, source: m.DataSource, dataset: str, items: list[Prepared], warnings: list[dict] | None = None
) -> list[str]:
    """Upsert one batch (call inside a transaction); returns each item's outcome: inserted/updated/unchanged.
    The items' child keys are distinct (ingest_source keeps the first record of a repeated key). Parcel ids
    that the source's format makes equal although they are written differently are added to `warnings`."""
    now = timezone.now()
    authoritative = dataset == "parcels"
    # Properties: merge what the batch says per parcel, compare with what is stored.
    incoming: dict[str, dict] = {}
    for item in items:
        incoming[item.parcel_id] = merge_property(incoming.get(item.parcel_id, {}), item.prop, authoritative=True)
    stored = {
        row["parcel_id"]: row
        for row in m.Property.objects.filter(parcel_id__in=incoming).values(
            "id", "parcel_id", "merged_into_id", *PROPERTY_FIELDS
        )
    }
    if source.parcel_format == m.ParcelFormat.PLAIN and warnings is not None:
        warnings.extend(_merged_parcel_ids(items, stored))
    prop_outcome, to_write = {}, []
    for pid, values in incoming.items():
        before = stored.get(pid)
        if before is None:
            merged, prop_outcome[pid] = merge_property(PROPERTY_DEFAULTS, values, authoritative=True), "inserted"
        else:
            merged = merge_property({f: before[f] for f in PROPERTY_FIELDS}, values, authoritative=authoritative)
            changed = property_hash(merged) != property_hash(before)
            prop_outcome[pid] = "updated" if changed else "unchanged"
            if not changed:
                continue
        to_write.append({"parcel_id": pid, "content_hash": property_hash(merged), **merged})
    if to_write:
        to_write.sort(key=lambda p: p["parcel_id"])  # one lock order, so parallel source ingests do not deadlock
        bulk_upsert_rows(
            m.Property,
            to_write,
            unique_fields=["parcel_id"],
            update_fields=[*PROPERTY_FIELDS, "content_hash", "updated_at"],
        )
    new_pids = [pid for pid, o in prop_outcome.items() if o == "inserted"]
    for row in m.Property.objects.filter(parcel_id__in=new_pids).values("id", "parcel_id", "merged_into_id"):
        stored[row["parcel_id"]] = row
    # Records of a merged duplicate land on the property it was merged into.
    property_id = {pid: row["merged_into_id"] or row["id"] for pid, row in stored.items()}

    _write_provenance(
        source, {item.child_key: (property_id[item.parcel_id], item.record_hash, item.flags) for item in items}, now
    )
    model = CHILD_MODELS[dataset]
    child_outcome = _write_children(source, model, {i.child_key: (i, i.child) for i in items if i.child}, property_id)
    if model is m.Valuation:
        _write_delinquencies(source, items, property_id, now)

    outcomes, seen = [], set()
    for item in items:
        primary = child_outcome.get(item.child_key) if dataset != "parcels" else prop_outcome[item.parcel_id]
        key = item.child_key if dataset != "parcels" else item.parcel_id
        written = {prop_outcome[item.parcel_id], child_outcome.get(item.child_key, "unchanged")} != {"unchanged"}
        if primary == "inserted" and key not in seen:
            outcomes.append("inserted")
        else:
            outcomes.append("updated" if written else "unchanged")
        seen.add(key)
    return outcomes


def _merged_parcel_ids(items: list[Prepared], stored: dict[str, dict]) -> list[dict]:
    """With the plain format, parcel ids written differently ("221-52", "2215-2") can become one ("22152"): say so
    for every record whose id, separators kept, differs from the stored parcel's or an earlier one's."""
    warnings, first_raw = [], {pid: row["parcel_id_raw"] for pid, row in stored.items() if row["parcel_id_raw"]}
    for item in items:
        raw = item.prop["parcel_id_raw"]
        other = first_raw.setdefault(item.parcel_id, raw)
        if _canonical(other) != _canonical(raw):
            warnings.append({"record": item.record_id, "reason": (
                f"parcel id {raw!r} and {other!r} both become {item.parcel_id!r} in the plain format, so their records"
                " share one property; if they are two parcels, re-key the source to the canonical format"
                " (manage.py parcel_rekey)")})  # fmt: skip
    return warnings


def _canonical(raw: str) -> str:
    try:
        return normalize_parcel_id(raw, m.ParcelFormat.CANONICAL)
    except ValueError:
        return raw


def _write_provenance(source: m.DataSource, wanted: dict[str, tuple[int, str, str]], now) -> None:
    current = {
        ext: (pk, digest, flags)
        for ext, pk, digest, flags in m.PropertySource.objects.filter(
            source=source, external_id__in=wanted
        ).values_list("external_id", "property_id", "record_hash", "field_flags")
    }
    changed = [
        {
            "source_id": source.pk,
            "external_id": ext,
            "property_id": pk,
            "record_hash": digest,
            "field_flags": flags,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for ext, (pk, digest, flags) in wanted.items()
        if current.get(ext) != (pk, digest, flags)
    ]
    if changed:
        bulk_upsert_rows(
            m.PropertySource,
            changed,
            unique_fields=["source", "external_id"],
            update_fields=["property", "record_hash", "field_flags", "last_seen_at"],
        )
    seen = [ext for ext, value in wanted.items() if current.get(ext) == value]
    if seen:
        m.PropertySource.objects.filter(source=source, external_id__in=seen).update(last_seen_at=now)


def _write_children(source, model, rows: dict[str, tuple[Prepared, dict]], property_id: dict[str, int]) -> dict:
    """Upsert the child rows {key: (item, values)} of one model; {key: inserted/updated/unchanged}."""
    key = "case_number" if model is m.CodeViolation else "external_id"
    if not rows:
        return {}
    now = timezone.now()
    extra = ["list_price"] if model is m.Listing else []
    stored = {
        r[0]: r[1:]
        for r in model.objects.filter(source=source, **{f"{key}__in": rows}).values_list(
            key, "id", "content_hash", *extra
        )
    }
    defaults = CHILD_FIELDS[model]
    fields = [n for n in defaults if n != key]
    outcome, to_write, price_changes = {}, [], []
    for ck, (item, child) in rows.items():
        values = {n: child.get(n, defaults[n]) for n in fields if n != "property"}
        digest = content_hash([item.parcel_id, *values.values()])
        before = stored.get(ck)
        if before and before[1] == digest:
            outcome[ck] = "unchanged"
            continue
        outcome[ck] = "updated" if before else "inserted"
        row = {"source_id": source.pk, "property_id": property_id[item.parcel_id], "raw": item.raw,
               "content_hash": digest, **values, key: ck}  # fmt: skip
        if key != "external_id":
            row["external_id"] = item.external_id
        to_write.append(row)
        if before and extra and before[2] is not None and values["list_price"] not in (None, before[2]):
            old, new = before[2], values["list_price"]
            price_changes.append(m.PriceChange(listing_id=before[0], old_price=old, new_price=new, changed_at=now))
    if to_write:
        update = [n for n in fields if n != "source"] + ["raw", "content_hash", "updated_at"]
        if key != "external_id":
            update.append("external_id")
        bulk_upsert_rows(model, to_write, unique_fields=["source", key], update_fields=update)
    if model is m.Listing:
        _write_reported_price_changes(source, {ck: item for ck, (item, _) in rows.items()}, price_changes)
    return outcome


def _write_delinquencies(source, items: list[Prepared], property_id: dict[str, int], now) -> None:
    """The tax delinquencies that parcels/valuations records report, under the records' keys: open ones upserted,
    and an open one resolved when its record now says nothing is owed. Other years' delinquencies stand."""
    owed = {item.child_key: (item, item.delinquency) for item in items if isinstance(item.delinquency, dict)}
    _write_children(source, m.TaxDelinquency, owed, property_id)
    resolved: dict[str, list[str]] = {}
    for item in items:
        if isinstance(item.delinquency, str):
            resolved.setdefault(item.delinquency, []).append(item.child_key)
    for status, keys in resolved.items():  # content_hash cleared: an open one reported again is written again
        m.TaxDelinquency.objects.filter(source=source, external_id__in=keys, is_open=True).update(
            is_open=False, status=status[:64], content_hash="", updated_at=now
        )


def _write_reported_price_changes(source, rows: dict[str, Prepared], detected: list[m.PriceChange]) -> None:
    """Price changes the source reports itself (previous price / change amount) plus those seen between runs."""
    reported = {}
    for ck, item in rows.items():
        new, hist = item.child.get("list_price"), item.price_history
        old = hist.get("previous_price")
        if old is None and new is not None and hist.get("price_change") is not None:
            old = new - hist["price_change"]
        if old is not None and new is not None and old != new:
            reported[ck] = (old, new, hist.get("price_changed_at"))
    if not reported and not detected:
        return
    ids = dict(m.Listing.objects.filter(source=source, external_id__in=reported).values_list("external_id", "id"))
    known = set(
        m.PriceChange.objects.filter(listing_id__in=ids.values()).values_list("listing_id", "old_price", "new_price")
    )
    pairs = set(known)
    new_rows = [
        m.PriceChange(listing_id=ids[ck], old_price=old, new_price=new, changed_at=when or timezone.now())
        for ck, (old, new, when) in reported.items()
        if (ids[ck], old, new) not in known
    ]
    pairs.update((pc.listing_id, pc.old_price, pc.new_price) for pc in new_rows)
    m.PriceChange.objects.bulk_create(
        [*new_rows, *(pc for pc in detected if (pc.listing_id, pc.old_price, pc.new_price) not in pairs)],
        ignore_conflicts=True,
    )


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
    with log_context(ingestion_run_id=run.pk):
        try:
            _record_schema(run, reader, mapping, config=source.field_mapping)
            for page in reader:
                run.pages += 1
                if page.error:
                    run.pages_failed += 1
                    run.processed += len(page.failed_ids)
                    run.failed += len(page.failed_ids)
                    _add_error(run, {"page": page.number, "reason": page.error, "records": page.failed_ids[:50]})
                    _save(run)
                    continue
                for start in range(0, len(page.records), batch_size):
                    batch = page.records[start : start + batch_size]
                    _ingest_batch(run, source, mapping, fingerprint, batch, tally)
                    if progress:
                        progress(len(batch))
                if not page.records:
                    _save(run)
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


def _ingest_batch(
    run, source, mapping: FieldMapping, fingerprint: str, records: list[RawRecord], tally: _Tally
) -> None:
    digests = [record_hash(fingerprint, record) for record in records]
    # Records received exactly as last time, through the same mapping, are unchanged: skip them, counting their
    # fields as they read last time.
    known = {
        digest: (key, flags)
        for digest, key, flags in m.PropertySource.objects.filter(
            source=source, record_hash__in=set(digests)
        ).values_list("record_hash", "external_id", "field_flags")
    }
    mapped: list[Mapped | None] = [None] * len(records)
    errors, warnings = [], []
    for i, (record, digest) in enumerate(zip(records, digests, strict=True)):
        if digest in known:
            continue
        try:
            mapped[i] = mapping.read(record)
        except RowError as exc:
            errors.append((i, {"record": record.external_id, "reason": str(exc)}))
            _count_fields(tally.stats, record.external_id, exc.mapped, NOT_COUNTED, exc)
    places = batch_points(records, [r.row if r else None for r in mapped], mapping)
    items, seen, unchanged, duplicates, unplaced = [], [], 0, 0, 0
    for i, (record, digest, read, place) in enumerate(zip(records, digests, mapped, places, strict=True)):
        if digest in known:
            key, flags = known[digest]
            tally.stats.add(flags)
        elif read is None:
            continue  # failed above
        else:
            try:
                item = prepare(read.row, record, dataset=source.dataset, parcel_format=source.parcel_format,
                               location=place.xy)  # fmt: skip
            except RowError as exc:
                errors.append((i, {"record": record.external_id, "reason": str(exc)}))
                _count_fields(tally.stats, record.external_id, read, NOT_COUNTED, exc)
                continue
            key, flags = item.child_key, _count_fields(tally.stats, record.external_id, read, place, item=item)
        if hash(key) in tally.keys:
            duplicates += 1
            reason = f"key {key!r} repeats an earlier record of this run: the first one is kept, this one skipped"
            warnings.append({"record": record.external_id, "reason": reason})
            continue
        tally.keys.add(hash(key))
        unplaced += flags[-1:] != FILLED
        if digest in known:
            unchanged += 1
            seen.append(digest)
        else:
            item.record_hash, item.flags = digest, flags
            items.append(item)
    with transaction.atomic():
        outcomes = write_batch(source=source, dataset=source.dataset, items=items, warnings=warnings) if items else []
        if seen:
            m.PropertySource.objects.filter(source=source, record_hash__in=seen).update(last_seen_at=timezone.now())
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
