"""Discovered cash buyers in the database: recorded purchases read into buyers.discovery (pure), the result stored
as DiscoveredBuyer rows, and "Create buyer" turning one into a Buyer (or linking the one it already is)."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from buyers.discovery import DiscoveredBuyer as Found
from buyers.discovery import DiscoveryParams, Transfer, discover_buyers
from buyers.models import Buyer, DiscoveredBuyer
from leads.comps import months_before
from properties.models import Sale
from properties.party_names import party_key

MORTGAGE_TARGET = "mortgage_amount"


def transfers_for_discovery(*, as_of: datetime.date, params: DiscoveryParams) -> list[Transfer]:
    """The purchases recorded in the look-back window (and the resales after them), as discovery reads them."""
    rows = (
        Sale.objects.filter(
            is_purchase=True, sale_date__gt=months_before(as_of, params.lookback_months), sale_date__lte=as_of
        )
        .order_by("sale_date", "id")
        .values_list(
            "document_id",
            "property__parcel_id",
            "sale_date",
            "grantee",
            "grantor",
            "property__zip",
            "sale_price",
            "property__property_type",
            "mortgage_amount",
            "source__field_mapping",
            "parcel_count",
        )
    )
    return [
        Transfer(
            document_id=doc,
            parcel_id=parcel,
            sale_date=day,
            grantee=grantee,
            grantor=grantor,
            zip=zip_code,
            price=price,
            property_type=ptype,
            mortgage_amount=mortgage,
            mortgages_published=MORTGAGE_TARGET in (mapping or {}),
            parcel_count=count,
        )
        for doc, parcel, day, grantee, grantor, zip_code, price, ptype, mortgage, mapping, count in rows
    ]


def buyers_discover(*, as_of: datetime.date | None = None, params: DiscoveryParams | None = None) -> list[Found]:
    as_of = as_of or timezone.localdate()
    params = params or DiscoveryParams()
    return discover_buyers(transfers_for_discovery(as_of=as_of, params=params), as_of=as_of, params=params)


# What a run stores of each discovered buyer (the buyer link is kept once made).
_STORED = ("name", "kind", "style", "cash", "purchases", "purchase_count", "zips", "property_types", "reasons",
           "min_price", "max_price", "buy_box", "buyer")  # fmt: skip


@dataclass
class DiscoverySummary:
    discovered: int = 0
    linked: int = 0
    removed: int = 0

    def __str__(self):
        return f"{self.discovered} buyers discovered ({self.linked} already in the buyer list), {self.removed} gone"


def _buyer_keys() -> dict[str, int]:
    """Every buyer by the party key of its company and of its full name (one query)."""
    keys = {}
    for pk, company, first, last in Buyer.objects.order_by("id").values_list(
        "id", "company", "first_name", "last_name"
    ):
        for name in (company, f"{last} {first}", f"{first} {last}"):
            if key := party_key(name):
                keys.setdefault(key, pk)
    return keys


@transaction.atomic
def discovered_buyers_refresh(*, as_of: datetime.date | None = None) -> tuple[list[Found], DiscoverySummary]:
    """Store this run's discovered buyers by key (upsert), link those already in the buyer list, drop the ones no
    longer discovered that no buyer was made from."""
    found = buyers_discover(as_of=as_of)
    keys = _buyer_keys()
    stored = {d.key: d for d in DiscoveredBuyer.objects.filter(key__in=[b.key for b in found])}
    summary = DiscoverySummary(discovered=len(found))
    new, changed, now = [], [], timezone.now()
    for b in found:
        row = stored.get(b.key) or DiscoveredBuyer(key=b.key)
        box = b.buy_box()
        box.update(min_price=_text(box["min_price"]), max_price=_text(box["max_price"]))
        values = {
            "name": b.name[:500],
            "kind": b.kind.value,
            "style": b.style,
            "cash": b.cash,
            "purchases": [e.as_json() for e in b.purchases],
            "purchase_count": len(b.purchases),
            "zips": list(b.zips),
            "property_types": list(b.property_types),
            "reasons": list(b.reasons),
            "min_price": b.min_price,
            "max_price": b.max_price,
            "buy_box": box,
            "buyer_id": row.buyer_id or keys.get(row.key),
        }
        summary.linked += values["buyer_id"] is not None
        if row.pk is not None and all(getattr(row, name) == value for name, value in values.items()):
            continue  # as stored: not rewritten, its updated_at kept
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
        (new if row.pk is None else changed).append(row)
    DiscoveredBuyer.objects.bulk_create(new)
    DiscoveredBuyer.objects.bulk_update(changed, [*_STORED, "updated_at"], batch_size=1000)
    gone = DiscoveredBuyer.objects.exclude(key__in=[b.key for b in found]).filter(buyer__isnull=True)
    summary.removed = gone.delete()[0]
    return found, summary


def _text(value):
    return str(value) if value is not None else None


@transaction.atomic
def discovered_buyer_create_buyer(*, discovered: DiscoveredBuyer) -> tuple[Buyer, bool]:
    """The Buyer this discovered buyer is: the linked one, one with the same name (company or person) or
    GoHighLevel contact, else a new one with its buy box. (buyer, created)."""
    discovered = DiscoveredBuyer.objects.select_for_update().get(pk=discovered.pk)
    if discovered.buyer_id:
        return discovered.buyer, False
    existing = _buyer_keys().get(discovered.key)
    if existing is not None:
        discovered.buyer_id = existing
        discovered.save(update_fields=["buyer", "updated_at"])
        return discovered.buyer, False
    box = dict(discovered.buy_box)
    name = "" if box.get("company") else discovered.name
    buyer = Buyer(source=Buyer.Source.IMPORT, last_name=name[:100], tags=["discovered"], **box)
    buyer.full_clean()
    buyer.save()
    discovered.buyer = buyer
    discovered.save(update_fields=["buyer", "updated_at"])
    return buyer, True
