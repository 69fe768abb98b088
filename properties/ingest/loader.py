"""Batched, set-based upserts of mapped records into the parcel master, recorded as an IngestionRun.

Per batch a constant number of queries: fetch existing rows by key IN (...), one upsert per table for the
rows that are new or changed (content hash), one transaction. Unchanged rows are not rewritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import struct
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.gis.geos import Point
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from django.db.models import Model
from django.utils import timezone

from dealfinder.logging import log_context
from properties import models as m
from properties.normalize import (
    is_absentee,
    listing_status_from,
    normalize_address,
    normalize_address_line,
    normalize_parcel_id,
    property_type_from,
)

from .base import Page, RawRecord
from .mapping import KEY_TARGET, FieldMapping, RowError

logger = logging.getLogger(__name__)

MAX_ERRORS = 100
LOADER_VERSION = 1  # bump when prepare() or the merge rules change, so unchanged records are re-derived once
ADDRESS_FIELDS = ("address_raw", "street", "unit", "city", "state", "zip", "address_normalized")
PROPERTY_FIELDS = (
    "parcel_id_raw",
    "county",
    *ADDRESS_FIELDS,
    "location",
    "owner_name",
    "owner_mailing_address",
    "is_absentee",
    "property_type",
    "beds",
    "baths",
    "living_sqft",
    "lot_sqft",
    "year_built",
    "is_vacant",
)
_PLAIN_PROPERTY = ("county", "owner_name", "beds", "baths", "living_sqft", "lot_sqft", "year_built", "is_vacant")
CHILD_MODELS = {
    "parcels": m.Valuation,
    "valuations": m.Valuation,
    "tax_sales": m.TaxSale,
    "foreclosures": m.Foreclosure,
    "code_violations": m.CodeViolation,
    "listings": m.Listing,
}
_BASE_FIELDS = {"id", "created_at", "updated_at", "source", "external_id", "raw", "content_hash"}
_CHILD_FIELDS = {
    model: {f.name: f.get_default() for f in model._meta.concrete_fields if f.name not in _BASE_FIELDS}
    for model in set(CHILD_MODELS.values())
}
_PRICE_HISTORY = ("previous_price", "price_change", "price_changed_at")


@dataclass
class Prepared:
    """One record mapped and normalized, ready to write."""

    record_id: str
    parcel_id: str
    prop: dict[str, Any]
    child_key: str  # the child row's key in its source: external id (case number for code violations)
    external_id: str
    child: dict[str, Any] | None
    raw: dict[str, Any]
    price_history: dict[str, Any] = field(default_factory=dict)
    record_hash: str = ""


def _hashable(value):
    return value.coords if isinstance(value, Point) else str(value)  # a Point hashes as its (x, y), like a pair


_HASH_ENCODER = json.JSONEncoder(default=_hashable)  # json.dumps(values, default=_hashable), built once


def content_hash(values: Iterable) -> str:
    return hashlib.blake2b(_HASH_ENCODER.encode(list(values)).encode(), digest_size=16).hexdigest()


def _json_safe(attributes: dict) -> dict:
    """Dates as ISO text and Decimals as text; everything else as it is."""
    return {
        k: v.isoformat() if isinstance(v, dt.date) else str(v) if isinstance(v, Decimal) else v
        for k, v in attributes.items()
    }


def prepare(row: dict, record: RawRecord, *, dataset: str, parcel_format: str) -> Prepared:
    """Normalize one mapped row; RowError(reason) when it cannot be a record."""
    try:
        parcel_id = normalize_parcel_id(row["parcel_id"], parcel_format)
    except ValueError as exc:
        raise RowError(str(exc)) from None
    prop = {"parcel_id_raw": row["parcel_id"][:64]}
    prop.update({k: row[k] for k in _PLAIN_PROPERTY if row.get(k) is not None})
    if prop.get("year_built") == 0:
        del prop["year_built"]  # appraisers write 0 for "none" (vacant land)
    if not 1700 <= prop.get("year_built", 1700) <= 2100:
        raise RowError(f"implausible year_built {prop['year_built']}")
    situs = None
    if row.get("street"):
        street = " ".join(p for p in (row["street"], row.get("unit")) if p)
        situs = normalize_address(street, row.get("city"), row.get("state"), row.get("zip"))
        prop.update(
            address_raw=situs.raw[:255],
            street=situs.street[:200],
            unit=situs.unit[:50],
            city=situs.city[:100],
            state=situs.state,
            zip=situs.zip,
            address_normalized=situs.normalized[:255],
        )
    else:
        prop.update({k: row[k].upper()[:100] for k in ("city", "zip") if row.get(k)})
        if row.get("state"):
            prop["state"] = row["state"].upper()[:2]
    mailing = None
    if row.get("mailing_street"):
        mailing = normalize_address(row["mailing_street"], row.get("mailing_city"), row.get("mailing_state"),
                                    row.get("mailing_zip"))  # fmt: skip
    elif row.get("owner_mailing_address"):
        mailing = normalize_address_line(row["owner_mailing_address"])
    if mailing:
        prop["owner_mailing_address"] = mailing.normalized[:255]
        if situs:
            prop["is_absentee"] = is_absentee(situs, mailing)
    if row.get("property_type"):
        prop["property_type"] = property_type_from(row["property_type"])
    if record.geometry is not None:  # locations travel as (x, y) pairs in SRID 4326 until they are written
        if record.xy is not None:
            x, y = record.xy
        else:
            geom = record.geometry if isinstance(record.geometry, Point) else record.geometry.point_on_surface
            x, y = geom.coords[:2]
        prop["location"] = (round(x, 7), round(y, 7))
    elif row.get("latitude") is not None and row.get("longitude") is not None:
        prop["location"] = (round(row["longitude"], 7), round(row["latitude"], 7))

    model = CHILD_MODELS[dataset]
    names = [n for n in _CHILD_FIELDS[model] if n in row and n != "location"]
    child = {n: row[n] for n in names if row[n] is not None}
    external_id = row.get("external_id") or record.external_id
    if dataset == "code_violations":
        child_key = row["case_number"]
    elif dataset in ("parcels", "valuations"):
        year = child.get("tax_year")
        child_key = row.get("external_id") or (f"{parcel_id}:{year}" if year else parcel_id)
    else:
        child_key = row.get("external_id") or row.get(KEY_TARGET.get(dataset, "")) or record.external_id
    if dataset == "parcels" and not child:
        child = None
    else:
        _derive_child(dataset, child, prop)
    history = {k: row[k] for k in _PRICE_HISTORY if row.get(k) is not None}
    return Prepared(record.external_id, parcel_id, prop, str(child_key)[:128], str(external_id)[:128], child,
                    _json_safe(record.attributes), history)  # fmt: skip


def _derive_child(dataset: str, child: dict, prop: dict) -> None:
    if dataset == "listings":
        child["status"] = listing_status_from(child.get("status"))
    elif dataset == "code_violations":
        opened, closed = child.get("opened_at"), child.get("closed_at")
        if opened and closed and closed < opened:
            raise RowError(f"closed_at {closed} is before opened_at {opened}")
        if prop.get("location"):
            child["location"] = prop["location"]
    elif dataset in ("parcels", "valuations"):
        market, sale, taxes, taxable = (
            child.get(k) for k in ("market_value", "last_sale_price", "annual_taxes", "taxable_value")
        )
        if market and sale is not None:
            equity = (market - sale) / market * 100
            child["equity_percent"] = max(equity, Decimal(-999)).quantize(Decimal("0.01"))
        if taxes is not None and taxable:
            child["tax_rate"] = min(taxes / taxable, Decimal(99)).quantize(Decimal("0.00001"))


def _blank(value) -> bool:
    return value is None or value is False or (isinstance(value, str) and value in ("", m.PropertyType.OTHER))


def _merge(existing: dict, incoming: dict, *, authoritative: bool) -> dict:
    """Parcels sources overwrite with their non-empty values; other sources only fill blanks."""
    merged = dict(existing)
    has_address = "address_normalized" in incoming
    if has_address and (authoritative or not existing.get("address_normalized")):
        merged.update({k: incoming.get(k, "") for k in ADDRESS_FIELDS})
    for k, v in incoming.items():
        if k in ADDRESS_FIELDS and has_address:
            continue
        if authoritative or _blank(existing.get(k)):
            merged[k] = v
    return merged


_PROPERTY_DEFAULTS = {f: m.Property._meta.get_field(f).get_default() for f in PROPERTY_FIELDS}


def _property_hash(values: dict) -> str:
    return content_hash(values.get(f) for f in PROPERTY_FIELDS)


# Fields whose Python values psycopg adapts as they are: no get_db_prep_save per value (it dominates COPY otherwise).
_AS_IS = {"CharField", "TextField", "SlugField", "EmailField", "URLField", "IntegerField", "SmallIntegerField",
          "BigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField",
          "BooleanField", "ForeignKey"}  # fmt: skip


def _row_writer(fields: list, db) -> Callable[[Model], list]:
    """obj -> its column values ready for COPY: pre_save for auto_now fields, get_db_prep_save where needed."""
    steps = []
    for f in fields:
        auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        as_is = f.get_internal_type() in _AS_IS and not f.choices
        steps.append((f, f.attname, auto, as_is))

    def row(obj: Model) -> list:
        out = []
        for f, attname, auto, as_is in steps:
            value = f.pre_save(obj, True) if auto else getattr(obj, attname)
            out.append(value if as_is or value is None else f.get_db_prep_save(value, db))
        return out

    return row


def bulk_upsert(model: type[Model], objs: list[Model], *, unique_fields: list[str], update_fields: list[str]) -> None:
    """INSERT ... ON CONFLICT (unique_fields) DO UPDATE SET update_fields for unsaved model instances; sets their pk.

    On PostgreSQL the rows travel by COPY into a temporary staging table (one per table and connection) and land
    in one INSERT ... SELECT ... ON CONFLICT: building and binding a 25,000-parameter VALUES statement costs
    more Python time than the database spends on the rows. Elsewhere it is bulk_create(update_conflicts=True).
    The caller keeps one row per unique key and, for a stable lock order, sorts them.
    """
    if not objs:
        return
    db = connections[DEFAULT_DB_ALIAS]  # the wrapper itself, not the per-attribute proxy `connection`
    if db.vendor != "postgresql":
        model.objects.bulk_create(objs, update_conflicts=True, unique_fields=unique_fields, update_fields=update_fields)
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    keys = [model._meta.get_field(name) for name in unique_fields]
    row = _row_writer(fields, db)
    ids = _copy_upsert(model, fields, map(row, objs), unique_fields=unique_fields, update_fields=update_fields)
    for obj in objs:
        obj.pk = ids.get(tuple(getattr(obj, f.attname) for f in keys))


def bulk_upsert_rows(model: type[Model], rows: list[dict], *, unique_fields: list[str], update_fields: list[str]):
    """bulk_upsert for plain rows {attname: value} ("property_id", not "property"), without model instances.

    A missing field takes its default, auto_now(_add) fields the time of the call; a PointField takes an (x, y)
    pair in the field's SRID or a Point. On PostgreSQL each row goes straight to COPY (a point as hex EWKB, JSON
    as text); elsewhere the rows become instances for bulk_create(update_conflicts=True).
    """
    if not rows:
        return
    db = connections[DEFAULT_DB_ALIAS]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    if db.vendor != "postgresql":
        points = [f.attname for f in fields if f.get_internal_type() == "PointField"]
        objs = [model(**{**row, **{n: _as_point(row[n]) for n in points if n in row}}) for row in rows]
        model.objects.bulk_create(objs, update_conflicts=True, unique_fields=unique_fields, update_fields=update_fields)
        return
    now = timezone.now()
    steps = []  # (attname, value when missing, conversion for COPY or None)
    for f in fields:
        auto = getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
        steps.append((f.attname, now if auto else f.get_default(), _copy_conversion(f)))

    def copy_row(row: dict) -> list:
        out = []
        for attname, default, convert in steps:
            value = row.get(attname, default)
            out.append(convert(value) if convert is not None and value is not None else value)
        return out

    _copy_upsert(model, fields, map(copy_row, rows), unique_fields=unique_fields, update_fields=update_fields)


def _as_point(value) -> Point | None:
    return Point(*value, srid=4326) if isinstance(value, tuple) else value


def _copy_conversion(field) -> Callable | None:
    """The function that turns a field's Python value into what COPY takes; None when psycopg adapts it as it is
    (text, numbers, Decimal, dates and aware datetimes)."""
    kind = field.get_internal_type()
    if kind == "PointField":
        prefix = struct.pack("<BII", 1, 0x20000001, field.srid).hex()  # little-endian EWKB point with its SRID

        def ewkb(value) -> str:
            x, y = value.coords if isinstance(value, Point) else value
            return prefix + struct.pack("<dd", x, y).hex()

        return ewkb
    if kind == "JSONField":
        return lambda value: json.dumps(value, cls=field.encoder)
    if field.choices:
        return str  # a TextChoices member as its value
    if kind not in _AS_IS and kind not in _NATIVE:
        raise NotImplementedError(f"bulk_upsert_rows cannot write a {kind} ({field})")
    return None


_NATIVE = {"DecimalField", "FloatField", "DateField", "DateTimeField"}


def copy_to_stage(cursor, *, table: str, stage: str, columns: str, rows: Iterable) -> None:
    """PostgreSQL: COPY rows (values in `columns` order) into `stage`, a temporary table shaped like those columns
    of `table`, created once per connection and emptied first. Identifiers are the caller's own, quoted."""
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT {columns} FROM {table} WITH NO DATA")  # noqa: S608
    cursor.execute(f"TRUNCATE {stage}")
    with cursor.cursor.copy(f"COPY {stage} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _copy_upsert(model, fields, rows: Iterable[list], *, unique_fields, update_fields) -> dict[tuple, int]:
    """COPY the rows (values in `fields` order) into the staging table, upsert them; {unique key values: pk}."""
    db = connections[DEFAULT_DB_ALIAS]
    meta, qn = model._meta, db.ops.quote_name
    keys = [meta.get_field(name) for name in unique_fields]
    table, stage = qn(meta.db_table), qn(f"stage_{meta.db_table}")
    columns = ", ".join(qn(f.column) for f in fields)
    key_columns = ", ".join(qn(f.column) for f in keys)
    updates = ", ".join(f"{qn(c)} = EXCLUDED.{qn(c)}" for c in (meta.get_field(n).column for n in update_fields))
    with db.cursor() as cursor:
        copy_to_stage(cursor, table=table, stage=stage, columns=columns, rows=rows)
        cursor.execute(
            f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {stage} ORDER BY {key_columns} "  # noqa: S608
            f"ON CONFLICT ({key_columns}) DO UPDATE SET {updates} RETURNING {qn(meta.pk.column)}, {key_columns}"
        )
        return {tuple(r[1:]): r[0] for r in cursor.fetchall()}


def write_batch(*, source: m.DataSource, dataset: str, items: list[Prepared]) -> list[str]:
    """Upsert one batch (call inside a transaction); returns each item's outcome: inserted/updated/unchanged."""
    now = timezone.now()
    authoritative = dataset == "parcels"
    # Properties: merge what the batch says per parcel, compare with what is stored.
    incoming: dict[str, dict] = {}
    for item in items:
        incoming[item.parcel_id] = _merge(incoming.get(item.parcel_id, {}), item.prop, authoritative=True)
    stored = {
        row["parcel_id"]: row
        for row in m.Property.objects.filter(parcel_id__in=incoming).values(
            "id", "parcel_id", "merged_into_id", *PROPERTY_FIELDS
        )
    }
    prop_outcome, to_write = {}, []
    for pid, values in incoming.items():
        before = stored.get(pid)
        if before is None:
            merged, prop_outcome[pid] = _merge(_PROPERTY_DEFAULTS, values, authoritative=True), "inserted"
        else:
            merged = _merge({f: before[f] for f in PROPERTY_FIELDS}, values, authoritative=authoritative)
            changed = _property_hash(merged) != _property_hash(before)
            prop_outcome[pid] = "updated" if changed else "unchanged"
            if not changed:
                continue
        to_write.append({"parcel_id": pid, "content_hash": _property_hash(merged), **merged})
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

    _write_provenance(source, {item.child_key: (property_id[item.parcel_id], item.record_hash) for item in items}, now)
    child_outcome = _write_children(source, dataset, items, property_id, now)

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


def _write_provenance(source: m.DataSource, wanted: dict[str, tuple[int, str]], now) -> None:
    current = {
        ext: (pk, digest)
        for ext, pk, digest in m.PropertySource.objects.filter(source=source, external_id__in=wanted).values_list(
            "external_id", "property_id", "record_hash"
        )
    }
    changed = [
        {
            "source_id": source.pk,
            "external_id": ext,
            "property_id": pk,
            "record_hash": digest,
            "first_seen_at": now,
            "last_seen_at": now,
        }
        for ext, (pk, digest) in wanted.items()
        if current.get(ext) != (pk, digest)
    ]
    if changed:
        bulk_upsert_rows(
            m.PropertySource,
            changed,
            unique_fields=["source", "external_id"],
            update_fields=["property", "record_hash", "last_seen_at"],
        )
    seen = [ext for ext, value in wanted.items() if current.get(ext) == value]
    if seen:
        m.PropertySource.objects.filter(source=source, external_id__in=seen).update(last_seen_at=now)


def _write_children(source, dataset, items: list[Prepared], property_id: dict[str, int], now) -> dict[str, str]:
    model = CHILD_MODELS[dataset]
    key = "case_number" if model is m.CodeViolation else "external_id"
    rows = {item.child_key: item for item in items if item.child is not None}  # a key seen twice: last one wins
    if not rows:
        return {}
    extra = ["list_price"] if model is m.Listing else []
    stored = {
        r[0]: r[1:]
        for r in model.objects.filter(source=source, **{f"{key}__in": rows}).values_list(
            key, "id", "content_hash", *extra
        )
    }
    defaults = _CHILD_FIELDS[model]
    fields = [n for n in defaults if n != key]
    outcome, to_write, price_changes = {}, [], []
    for ck, item in rows.items():
        values = {n: item.child.get(n, defaults[n]) for n in fields if n != "property"}
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
        _write_reported_price_changes(source, rows, price_changes)
    return outcome


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
    with log_context(ingestion_run_id=run.pk):
        try:
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
                    _ingest_batch(run, source, mapping, fingerprint, page.records[start : start + batch_size])
                    if progress:
                        progress(len(page.records[start : start + batch_size]))
                if not page.records:
                    _save(run)
        except Exception as exc:
            logger.exception("ingest of %s failed", source)
            _reconnect_if_lost()
            run.status, run.message = m.IngestionRun.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        else:
            landed = run.inserted + run.updated + run.unchanged
            if run.failed or run.pages_failed:
                run.status = m.IngestionRun.Status.PARTIAL if landed else m.IngestionRun.Status.FAILED
                run.message = "" if landed else "no record could be loaded"
            else:
                run.status = m.IngestionRun.Status.SUCCESS
        run.finished_at = timezone.now()
        _save(run)
    return run


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
    return content_hash([LOADER_VERSION, source.dataset, source.parcel_format, repr(mapping.specs), today])


def record_hash(fingerprint: str, record: RawRecord) -> str:
    geometry = record.geometry.coords if record.xy is None and record.geometry is not None else record.xy
    return content_hash([fingerprint, record.external_id, record.attributes, geometry])


def _ingest_batch(run, source, mapping: FieldMapping, fingerprint: str, records: list[RawRecord]) -> None:
    digests = [record_hash(fingerprint, record) for record in records]
    # Records received exactly as last time, through the same mapping, are unchanged: skip them.
    seen = set(
        m.PropertySource.objects.filter(source=source, record_hash__in=set(digests)).values_list(
            "record_hash", flat=True
        )
    )
    items, errors = [], []
    for record, digest in zip(records, digests, strict=True):
        if digest in seen:
            continue
        try:
            row = mapping.apply(record)
            item = prepare(row, record, dataset=source.dataset, parcel_format=source.parcel_format)
        except RowError as exc:
            errors.append({"record": record.external_id, "reason": str(exc)})
        else:
            item.record_hash = digest
            items.append(item)
    with transaction.atomic():
        outcomes = write_batch(source=source, dataset=source.dataset, items=items) if items else []
        if seen:
            m.PropertySource.objects.filter(source=source, record_hash__in=seen).update(last_seen_at=timezone.now())
        run.unchanged += sum(1 for digest in digests if digest in seen)
        run.processed += len(records)
        run.failed += len(errors)
        for outcome in outcomes:
            setattr(run, outcome, getattr(run, outcome) + 1)
        for error in errors:
            _add_error(run, error)
        _save(run)


def _add_error(run: m.IngestionRun, error: dict) -> None:
    if len(run.errors) < MAX_ERRORS:
        run.errors.append(error)
