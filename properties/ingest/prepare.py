"""Pure record preparation: one mapped row -> a normalized `Prepared` record (parcel id, address, owner, the
child row and what is derived from it), its content hash, and the merge rule between sources. No database access
(the child models are read for their field names and defaults only); properties/ingest/loader.py writes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.gis.geos import Point

from properties import models as m
from properties.delinquency import delinquency_state
from properties.normalize import (
    is_absentee,
    listing_status_from,
    normalize_address,
    normalize_parcel_id,
    normalize_place,
)

from .base import RawRecord
from .mapping import KEY_TARGET, RowError

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
    "sales": m.Sale,
}
_BASE_FIELDS = {"id", "created_at", "updated_at", "source", "external_id", "raw", "content_hash"}
CHILD_FIELDS = {
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
    names = [n for n in CHILD_FIELDS[model] if n in row and n != "location"]
    child = {n: row[n] for n in names if row[n] is not None}
    external_id = row.get("external_id") or record.external_id
    if dataset == "code_violations":
        child_key = row["case_number"]
    elif dataset == "sales":  # one row per parcel of a document: a deed over three parcels is three sales
        child_key = row.get("external_id") or f"{row['document_id']}:{parcel_id}"
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


def merge_property(existing: dict, incoming: dict, *, authoritative: bool) -> dict:
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


PROPERTY_DEFAULTS = {f: m.Property._meta.get_field(f).get_default() for f in PROPERTY_FIELDS}


def property_hash(values: dict) -> str:
    return content_hash(values.get(f) for f in PROPERTY_FIELDS)
