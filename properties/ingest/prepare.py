"""Batched, set-based upserts of mapped records into the parcel master, recorded as an IngestionRun.

Per batch a constant number of queries: fetch existing rows by key IN (...), one upsert per table for the
rows that are new or changed (content hash), one transaction. Unchanged rows are not rewritten.

A key (parcel, case, listing ...) repeated within one run is resolved the same way every run: the first record
read with it is kept (lowest object id, first row of a file), later ones are skipped and reported as duplicates.
The run records how each mapped field read (IngestionRun.field_stats) and how many stored records have no point.
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
from properties.delinquency import delinquency_state
from properties.normalize import (
    is_absentee,
    listing_status_from,
    normalize_address,
    normalize_parcel_id,
    normalize_place,
)

from .base import Page, RawRecord, SourceError
from .mapping import BAD, FILLED, KEY_TARGET, FieldMapping, Mapped, RowError
from .points import Placed, batch_points
from .schema import checked_specs, mapped_attributes, missing_attributes, missing_message, schema_drift
from .stats import EXAMPLES, LOCATION, NOT_COUNTED, FieldStats

logger = logging.getLogger(__name__)

MAX_ERRORS = 100
LOADER_VERSION = 2  # bump when prepare() or the merge rules change, so unchanged records are re-derived once
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
    "tax_delinquencies": m.TaxDelinquency,
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
    # parcels/valuations: the tax delinquency the record reports, the values of an open one, or the status that
    # resolves an open one from this source under this key when the record says nothing is owed
    delinquency: dict[str, Any] | str | None = None
    dropped: list[tuple[str, str]] = field(default_factory=list)  # (target, why) values prepare() had to drop
    flags: str = ""  # how the fields and the point read (FieldStats)


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


def prepare(
    row: dict, record: RawRecord, *, dataset: str, parcel_format: str, location: tuple[float, float] | None = None
) -> Prepared:
    """Normalize one mapped row placed at `location` (WGS84, already checked); RowError(reason) when it cannot
    be a record."""
    try:
        parcel_id = normalize_parcel_id(row["parcel_id"], parcel_format)
    except ValueError as exc:
        raise RowError(str(exc), field="parcel_id") from None
    prop = {"parcel_id_raw": row["parcel_id"][:64]}
    prop.update({k: row[k] for k in _PLAIN_PROPERTY if row.get(k) is not None})
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
    elif row.get("city") or row.get("state") or row.get("zip"):
        city, state, zip5 = normalize_place(row.get("city"), row.get("state"), row.get("zip"))
        prop.update({k: v for k, v in (("city", city[:100]), ("state", state), ("zip", zip5)) if v})
    mailing_line = row.get("mailing_street") or row.get("owner_mailing_address")
    if mailing_line:  # one parser for the mailing address, in parts or on one line
        mailing = normalize_address(mailing_line, row.get("mailing_city"), row.get("mailing_state"),
                                    row.get("mailing_zip"))  # fmt: skip
        prop["owner_mailing_address"] = mailing.normalized[:255]
        if situs:
            prop["is_absentee"] = is_absentee(situs, mailing)
    if row.get("property_type"):
        prop["property_type"] = row["property_type"]  # read through the source's vocabulary by the mapping
    if location is not None:  # locations travel as (x, y) pairs in SRID 4326 until they are written
        prop["location"] = location

    model = CHILD_MODELS[dataset]
    names = [n for n in _CHILD_FIELDS[model] if n in row and n != "location"]
    child = {n: row[n] for n in names if row[n] is not None}
    external_id = row.get("external_id") or record.external_id
    if dataset == "code_violations":
        child_key = row["case_number"]
    elif dataset in ("parcels", "valuations", "tax_delinquencies"):
        year = child.get("tax_year")
        child_key = row.get("external_id") or (f"{parcel_id}:{year}" if year else parcel_id)
    else:
        child_key = row.get("external_id") or row.get(KEY_TARGET.get(dataset, "")) or record.external_id
    dropped: list[tuple[str, str]] = []
    delinquency = None
    if dataset == "parcels" and not child:
        child = None
    else:
        delinquency = _derive_child(dataset, row, child, prop, dropped)
    history = {k: row[k] for k in _PRICE_HISTORY if row.get(k) is not None}
    return Prepared(record.external_id, parcel_id, prop, str(child_key)[:128], str(external_id)[:128], child,
                    _json_safe(record.attributes), history, delinquency=delinquency, dropped=dropped)  # fmt: skip


def _derive_child(dataset: str, row: dict, child: dict, prop: dict, dropped: list) -> dict | bool | None:
    """Derived child values (listing status, equity, tax rate, delinquency); returns the tax delinquency a
    parcels/valuations record reports (Prepared.delinquency). A value that contradicts another is dropped."""
    if dataset == "listings":
        child["status"] = listing_status_from(child.get("status"))
    elif dataset == "code_violations":
        opened, closed = child.get("opened_at"), child.get("closed_at")
        if opened and closed and closed < opened:
            del child["closed_at"]
            dropped.append(("closed_at", f"closed {closed} is before opened {opened}: closed date dropped"))
        if prop.get("location"):
            child["location"] = prop["location"]
    elif dataset == "tax_delinquencies":
        child["amount_owed"] = row.get("delinquent_amount")
        state = delinquency_state(
            flag=row.get("tax_delinquent"),
            amount=child["amount_owed"],
            status=child.get("status"),
            resolved_at=child.get("resolved_at"),
            listed=True,
        )
        child["is_open"], child["status"] = state.is_open, state.status[:64]
    elif dataset in ("parcels", "valuations"):
        market, sale, taxes, taxable = (
            child.get(k) for k in ("market_value", "last_sale_price", "annual_taxes", "taxable_value")
        )
        if market and sale:  # a $0 sale is no sale: it would make 100% equity
            equity = (market - sale) / market * 100
            child["equity_percent"] = max(equity, Decimal(-999)).quantize(Decimal("0.01"))
        if taxes is not None and taxable:
            child["tax_rate"] = min(taxes / taxable, Decimal(99)).quantize(Decimal("0.00001"))
        amount = child.get("delinquent_amount")
        state = delinquency_state(flag=child.get("tax_delinquent"), amount=amount)
        if state is None:
            return None
        child["tax_delinquent"] = state.is_open  # an amount owed above zero means delinquent
        if not state.is_open:
            return state.status
        return {"tax_year": child.get("tax_year"), "amount_owed": amount, "status": state.status, "is_open": True}
    return None


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
        incoming[item.parcel_id] = _merge(incoming.get(item.parcel_id, {}), item.prop, authoritative=True)
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
    defaults = _CHILD_FIELDS[model]
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
            run.status, run.message = m.IngestionRun.Status.FAILED, f"{type(exc).__name__}: {exc}"[:2000]
        else:
            landed = run.inserted + run.updated + run.unchanged
            if run.failed or run.pages_failed:
                run.status = m.IngestionRun.Status.PARTIAL if landed else m.IngestionRun.Status.FAILED
                run.message = "" if landed else _nothing_loaded(run)
            else:
                run.status = m.IngestionRun.Status.SUCCESS
        finally:
            if hasattr(reader, "close"):
                reader.close()
        run.incremental_since = getattr(reader, "since", None)
        run.stored = run.inserted + run.updated + run.unchanged
        run.field_stats = _with_earlier_examples(run, tally.stats.as_json())
        run.finished_at = timezone.now()
        _save(run)
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
