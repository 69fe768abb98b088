"""Reads about owners: an owner's portfolio (its parcels, their distress records, its equity)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, OuterRef, Q, Subquery

from properties import models as m


@dataclass(frozen=True)
class Portfolio:
    parcels: list[m.Property]  # each annotated: tax_sales_n, foreclosures_n, delinquencies_n, violations_open_n
    total_equity: Decimal | None  # sum of the parcels' equity in dollars (latest valuation); None if none known
    points: list[tuple[float, float, str]] = field(default_factory=list)  # (lon, lat, parcel id) for the map


def _latest_valuation(column: str):
    latest = m.Valuation.objects.filter(property=OuterRef("pk")).order_by("-tax_year", "-pk")
    return Subquery(latest.values(column)[:1])


def owner_parcels(*, owner_id: int):
    """The owner's active parcels with their distress counts and latest value and equity, in one query."""
    return (
        m.Property.objects.filter(owner_id=owner_id, is_active=True)
        .annotate(
            tax_sales_n=Count("tax_sales", distinct=True),
            foreclosures_n=Count("foreclosures", distinct=True),
            delinquencies_n=Count("tax_delinquencies", filter=Q(tax_delinquencies__is_open=True), distinct=True),
            violations_open_n=Count(
                "code_violations", filter=Q(code_violations__closed_at__isnull=True), distinct=True
            ),
            market_value=_latest_valuation("market_value"),
            equity_percent=_latest_valuation("equity_percent"),
        )
        .order_by("parcel_id")
    )


def owner_portfolio(*, owner: m.Owner) -> Portfolio:
    parcels = list(owner_parcels(owner_id=owner.pk))
    equities = [
        p.market_value * p.equity_percent / 100
        for p in parcels
        if p.market_value is not None and p.equity_percent is not None
    ]
    points = [(p.location.x, p.location.y, p.parcel_id) for p in parcels if p.location is not None]
    total = sum(equities, Decimal(0)).quantize(Decimal("0.01")) if equities else None
    return Portfolio(parcels=parcels, total_equity=total, points=points)


def owner_same_name_count(*, owner: m.Owner) -> int:
    """Other owners holding parcels under this owner's name (another mailing address or none): kept separate by
    the resolution, a broker may merge them. Counted when shown, so one parcel changing hands does not rewrite
    every owner of a common name."""
    if not owner.canonical_name:
        return 0
    return (
        m.Owner.objects.filter(canonical_name=owner.canonical_name, property_count__gt=0).exclude(pk=owner.pk).count()
    )
