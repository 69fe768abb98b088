"""Reads for buyers and matches through the ORM (a buyer's candidates, blast lists, demand per zip). The
set-based SQL that matches every buyer at once is matching_sql.py."""

import math
from collections import Counter

from django.contrib.gis.geos import Polygon
from django.contrib.gis.measure import D
from django.db.models import (
    BooleanField,
    Case,
    ExpressionWrapper,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from leads.models import Lead
from properties.models import Listing, Property

from .matching import EARTH_RADIUS_MILES, BuyBox, MatchCandidate, MatchWeights
from .models import Buyer, MatchingProfile, PropertyMatch

# Leads that are finished are not offered to buyers.
CLOSED_LEAD_STATUSES = (Lead.Status.CLOSED_WON, Lead.Status.DEAD)

CANDIDATE_FIELDS = (
    "id",
    "zip",
    "property_type",
    "beds",
    "baths",
    "year_built",
    "lead__mao",
    "list_price",
    "lead__arv",
    "in_area",
    "lon",
    "lat",
    "lead__total",
)


def matching_weights() -> MatchWeights:
    """The active MatchingProfile's weights, or the defaults when none is active."""
    profile = MatchingProfile.objects.filter(is_active=True).first()
    if profile is None:
        return MatchWeights()
    return MatchWeights(
        location=profile.location_weight,
        price=profile.price_weight,
        type=profile.type_weight,
        cash=profile.cash_weight,
        proof_of_funds=profile.proof_of_funds_weight,
        threshold=profile.threshold,
        price_tolerance=profile.price_tolerance_percent / 100,
        max_matches_per_buyer=profile.max_matches_per_buyer,
    )


def buyer_buy_box(*, buyer: Buyer) -> BuyBox:
    return BuyBox(
        min_price=buyer.min_price,
        max_price=buyer.max_price,
        property_types=tuple(buyer.property_types),
        min_beds=buyer.min_beds,
        min_baths=buyer.min_baths,
        min_year_built=buyer.min_year_built,
        max_year_built=buyer.max_year_built,
        zips=tuple(str(z) for z in buyer.target_zips),
        has_area=buyer.target_area is not None,
        center=buyer.center.coords if buyer.center else None,
        radius_miles=float(buyer.radius_miles) if buyer.radius_miles else None,
        cash_buyer=buyer.cash_buyer,
        proof_of_funds=buyer.proof_of_funds,
    )


def _circle_bbox(center, miles: float) -> Polygon:
    """A lon/lat box a little larger than the circle, so the spatial index narrows the rows first."""
    dlat = math.degrees(miles / EARTH_RADIUS_MILES) * 1.01
    dlon = dlat / max(math.cos(math.radians(abs(center.y) + dlat)), 0.01)
    return Polygon.from_bbox((center.x - dlon, center.y - dlat, center.x + dlon, center.y + dlat))


def _location_q(buyer: Buyer) -> Q | None:
    parts = []
    if buyer.target_area is not None:
        parts.append(Q(location__intersects=buyer.target_area))
    if buyer.target_zips:
        parts.append(Q(zip__in=[str(z) for z in buyer.target_zips]))
    if buyer.center is not None and buyer.radius_miles:
        box = _circle_bbox(buyer.center, float(buyer.radius_miles))
        box.srid = 4326
        parts.append(
            Q(location__intersects=box, location__distance_lte=(buyer.center, D(mi=float(buyer.radius_miles))))
        )
    if not parts:
        return None
    q = parts[0]
    for part in parts[1:]:
        q |= part
    return q


def buyer_has_location(buyer: Buyer) -> bool:
    """Whether the buy box says where: a target area, zips, or a centre with a radius (else it matches nothing)."""
    return _location_q(buyer) is not None


def _or_null(field: str, lookup: str, value) -> Q:
    return Q(**{f"{field}__{lookup}": value}) | Q(**{f"{field}__isnull": True})


def buyer_candidates(*, buyer: Buyer, weights: MatchWeights | None = None) -> QuerySet:
    """Active properties with an open lead that fit the buyer's box, in one indexed query.

    Location is an OR of the box's target area, zips and radius (a buyer with none gets the same
    annotated queryset, empty); price (MAO, else active list price, else ARV, widened by the price
    tolerance), types, beds, baths and years are filtered here too. Unknown values pass, as in matching.py.
    Annotated with `list_price`, `price`, `in_area`, `lon`, `lat`; `.values(*CANDIDATE_FIELDS)` feeds MatchCandidate.
    """
    location = _location_q(buyer)
    tolerance = (weights or MatchWeights()).price_tolerance
    active_price = (
        Listing.objects.filter(property=OuterRef("pk"), status=Listing.Status.ACTIVE, list_price__isnull=False)
        .order_by("-listed_at", "-id")
        .values("list_price")[:1]
    )
    in_area = (
        Case(When(location__intersects=buyer.target_area, then=Value(True)), default=Value(False))
        if buyer.target_area is not None
        else Value(False)
    )
    qs = (
        Property.objects.filter(location or Q(pk__in=[]), is_active=True, lead__isnull=False)
        .exclude(lead__status__in=CLOSED_LEAD_STATUSES)
        .annotate(
            list_price=Subquery(active_price),
            price=Coalesce("lead__mao", "list_price", "lead__arv"),
            in_area=ExpressionWrapper(in_area, output_field=BooleanField()),
            lon=Func("location", function="ST_X", output_field=FloatField()),
            lat=Func("location", function="ST_Y", output_field=FloatField()),
        )
    )
    if buyer.min_price is not None:
        qs = qs.filter(_or_null("price", "gte", buyer.min_price * (1 - tolerance)))
    if buyer.max_price is not None:
        qs = qs.filter(_or_null("price", "lte", buyer.max_price * (1 + tolerance)))
    if buyer.property_types:
        qs = qs.filter(property_type__in=buyer.property_types)
    if buyer.min_beds is not None:
        qs = qs.filter(_or_null("beds", "gte", buyer.min_beds))
    if buyer.min_baths is not None:
        qs = qs.filter(_or_null("baths", "gte", buyer.min_baths))
    if buyer.min_year_built is not None:
        qs = qs.filter(_or_null("year_built", "gte", buyer.min_year_built))
    if buyer.max_year_built is not None:
        qs = qs.filter(_or_null("year_built", "lte", buyer.max_year_built))
    return qs.order_by()


def buyer_match_candidates(*, buyer: Buyer, weights: MatchWeights | None = None) -> list[MatchCandidate]:
    """The buyer's candidates as plain MatchCandidates (distance to the buyer's center filled in)."""
    center = buyer.center.coords if buyer.center else None
    rows = buyer_candidates(buyer=buyer, weights=weights).values_list(*CANDIDATE_FIELDS)
    return [MatchCandidate.from_row(row, center=center) for row in rows]


def match_blast_row(match: PropertyMatch) -> list:
    """A blast list row for one match (buyer, property and score selected with it), in BLAST_HEADER's columns."""
    return [
        str(match.buyer),
        match.buyer.phone,
        match.buyer.email,
        "yes" if match.buyer.sms_opt_in else "no",
        match.property.address_normalized or match.property.address,
        match.score,
        "; ".join(match.reasons),
    ]


BLAST_HEADER = ["buyer", "phone", "email", "sms_opt_in", "property_address", "score", "reasons"]


def buyer_demand_by_zip() -> dict[str, int]:
    """Zip -> how many active buyers list it in their target zips (one query; feeds the lead location score)."""
    demand: Counter[str] = Counter()
    for zips in Buyer.objects.filter(is_active=True).values_list("target_zips", flat=True).iterator():
        demand.update({str(z) for z in zips or [] if z})
    return dict(demand)
