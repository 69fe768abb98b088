"""Bulk upserts (INSERT ... ON CONFLICT) and updates for many rows, by COPY through a staging table on PostgreSQL.

Used by ingest (properties), scoring (leads) and matching (buyers); it knows models, not domains.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable, Iterable, Sequence

from django.contrib.gis.geos import Point
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model
from django.utils import timezone

# Fields whose Python values psycopg adapts as they are: no get_db_prep_save per value (it dominates COPY otherwise).
_AS_IS = {"CharField", "TextField", "SlugField", "EmailField", "URLField", "IntegerField", "SmallIntegerField",
          "BigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "PositiveBigIntegerField",
          "BooleanField", "ForeignKey", "OneToOneField"}  # fmt: skip


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


BULK_UPDATE_BATCH = 500  # rows per UPDATE of QuerySet.bulk_update (not on PostgreSQL)


def bulk_update_by_pk(model: type[Model], objs: list[Model], *, fields: list[str]) -> int:
    """Write `fields` of saved instances, by primary key; returns how many rows were updated.

    On PostgreSQL the values travel by COPY into a temporary staging table and land in one UPDATE ... FROM: Django's
    bulk_update sends a CASE with one WHEN per row for each field, whose SQL grows with the batch and which
    PostgreSQL evaluates row by row (2,000 sales of 7 fields: 4 s, mostly building the expressions). Elsewhere
    it is QuerySet.bulk_update by batches.
    """
    if not objs:
        return 0
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        return model.objects.bulk_update(objs, fields, batch_size=BULK_UPDATE_BATCH)
    written = [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    return _update_from_stage(model, written, map(_row_writer(written, db), objs))


def bulk_update_rows(model: type[Model], rows: list[Sequence], *, fields: list[str]) -> int:
    """bulk_update_by_pk for plain rows (pk, then the values of `fields` in order, as the database takes them: an
    id for a foreign key), without model instances; returns how many rows were updated."""
    if not rows:
        return 0
    meta = model._meta
    written = [meta.pk, *(meta.get_field(name) for name in fields)]
    if connections[DEFAULT_DB_ALIAS].vendor != "postgresql":
        objs = [model(**{f.attname: value for f, value in zip(written, row, strict=True)}) for row in rows]
        return model.objects.bulk_update(objs, fields, batch_size=BULK_UPDATE_BATCH)
    return _update_from_stage(model, written, rows)


def _update_from_stage(model: type[Model], written: list, rows: Iterable[Sequence]) -> int:
    """PostgreSQL: COPY the rows (the primary key, then the other `written` fields' values) into a staging table and
    UPDATE ... FROM it."""
    db = connections[DEFAULT_DB_ALIAS]
    meta, qn = model._meta, db.ops.quote_name
    columns = ", ".join(qn(f.column) for f in written)
    # One staging table per column set and connection (copy_to_stage keeps it for the next call).
    digest = hashlib.blake2b(columns.encode(), digest_size=4).hexdigest()
    table, stage, pk = qn(meta.db_table), qn(f"stage_{meta.db_table}_{digest}"), qn(meta.pk.column)
    sets = ", ".join(f"{qn(f.column)} = s.{qn(f.column)}" for f in written[1:])
    with db.cursor() as cursor:
        copy_to_stage(cursor, table=table, stage=stage, columns=columns, rows=rows)
        cursor.execute(f"UPDATE {table} AS t SET {sets} FROM {stage} AS s WHERE t.{pk} = s.{pk}")  # noqa: S608
        return cursor.rowcount


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
