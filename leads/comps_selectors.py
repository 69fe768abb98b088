"""Reading comps from the database: one lead's subject, its candidate sales within the widest radius (one
spatial query) and its county's trend (one query), handed to the pure leads.comps rules.

How they are used: `lead_comps` behind `manage.py comps PARCEL_ID --json`, `GET /api/v1/leads/{id}/comps/` and the
lead admin; leads/comps_refresh.py computes every lead's ARV at once (set-based on PostGIS).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping

from django.contrib.gis.geos import Polygon
from django.utils import timezone

from dealfinder.common.geo import EARTH_RADIUS_MILES
from leads.comps import ArvResult, CompParams, CompSale, Subject, comps_and_arv, month_number
from leads.comps_trend import county_trend
from leads.models import Lead, ScoringProfile
from properties.models import Property, Sale

COMPS_PARAMETERS = "comps"  # the scoring profile's parameters key holding CompParams overrides

_SALE_FIELDS = (
    "id",
    "sale_date",
    "sale_price",
    "property__property_type",
    "property__living_sqft",
    "property__beds",
    "property__location",
    "property__parcel_id",
    "property__address_normalized",
    "is_arms_length",
    "is_distressed",
    "flags",
    "recording_date",
)


def comp_params_for(*, profile: ScoringProfile | None) -> CompParams:
    values = ((profile.parameters or {}) if profile else {}).get(COMPS_PARAMETERS) or {}
    return CompParams.from_mapping(values if isinstance(values, Mapping) else {})


def subject_for(*, prop: Property, as_of: datetime.date) -> Subject:
    point = prop.location
    return Subject(
        as_of=as_of,
        property_type=prop.property_type,
        lat=point.y if point else None,
        lon=point.x if point else None,
        living_sqft=prop.living_sqft,
        beds=prop.beds,
        parcel_id=prop.parcel_id,
    )


def _comp_sale(row: tuple) -> CompSale:
    pk, day, price, ptype, sqft, beds, point, parcel, address, arms, distressed, flags, recorded = row
    return CompSale(
        sale_id=pk,
        sale_date=day,
        price=price,
        property_type=ptype,
        living_sqft=sqft,
        beds=beds,
        lat=point.y if point else None,
        lon=point.x if point else None,
        parcel_id=parcel,
        address=address,
        is_arms_length=arms,
        is_distressed=distressed,
        flags=tuple(f.get("reason", "") for f in flags or () if isinstance(f, dict)),
        recorded_on=recorded,
    )


def _box(lon: float, lat: float, miles: float) -> Polygon:
    dlat = math.degrees(miles / EARTH_RADIUS_MILES) * 1.01
    dlon = dlat / max(math.cos(math.radians(abs(lat) + dlat)), 0.01)
    return Polygon.from_bbox((lon - dlon, lat - dlat, lon + dlon, lat + dlat))


def dated_sales():
    """Sales that can be read as comps or trend points at all: a date and a parcel."""
    return Sale.objects.filter(sale_date__isnull=False)


def county_sales(*, county: str, as_of: datetime.date, params: CompParams) -> list[CompSale]:
    """The county's market sales the trend can read (the widest window plus the trend's reach)."""
    first = month_number(as_of) - params.widest[1] - params.trend_max_half_window
    start = datetime.date(first // 12, first % 12 + 1, 1)
    rows = (
        dated_sales()
        .filter(property__county=county, sale_date__gte=start, sale_date__lte=as_of, is_arms_length=True)
        .values_list(*_SALE_FIELDS)
    )
    return [_comp_sale(row) for row in rows]


def lead_comps(*, lead: Lead, as_of: datetime.date | None = None, params: CompParams | None = None) -> ArvResult:
    """The lead's comps and ARV as of `as_of` (today), by the active profile's parameters unless given."""
    as_of = as_of or timezone.localdate()
    if params is None:
        params = comp_params_for(profile=ScoringProfile.objects.filter(is_active=True).first())
    prop = lead.property
    subject = subject_for(prop=prop, as_of=as_of)
    candidates: list[CompSale] = []
    if prop.location is not None:
        near = _box(prop.location.x, prop.location.y, params.widest[0])
        rows = dated_sales().filter(property__location__within=near, sale_date__lte=as_of)
        candidates = [_comp_sale(row) for row in rows.values_list(*_SALE_FIELDS)]
    trend = county_trend(county_sales(county=prop.county, as_of=as_of, params=params), as_of=as_of, params=params)
    return comps_and_arv(subject, candidates, trend=trend, params=params)
