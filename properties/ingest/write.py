"""Writing one batch of prepared records: the properties (merged by the sources' rules), their child rows, the
provenance of each value, delinquencies and reported price changes, each in one set-based upsert per table."""

from __future__ import annotations

import datetime as dt

from django.db.models import F
from django.utils import timezone

from dealfinder.common.bulk import bulk_upsert_rows
from dealfinder.common.lookups import AnyOf
from properties import models as m
from properties.normalize import normalize_parcel_id

from .prepare import (
    CHILD_FIELDS,
    CHILD_MODELS,
    PROPERTY_DEFAULTS,
    PROPERTY_FIELDS,
    Prepared,
    content_hash,
    merge_property,
    property_hash,
)


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
            AnyOf(F("external_id"), wanted), source=source
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
        stamp_seen(m.PropertySource.objects.filter(AnyOf(F("external_id"), seen), source=source), now)


def stamp_seen(records, now) -> int:
    """Mark the provenance rows `records` as listed by their source `now`, at day precision: a row already
    stamped today is not written again (what reads last_seen_at counts whole days unlisted), so a second run on
    the same day writes nothing for what it saw again."""
    return records.filter(last_seen_at__lt=start_of_day(now)).update(last_seen_at=now)


def start_of_day(now: dt.datetime) -> dt.datetime:
    """Midnight of `now`'s day in the current time zone."""
    return dt.datetime.combine(timezone.localdate(now), dt.time.min, tzinfo=timezone.get_current_timezone())


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
