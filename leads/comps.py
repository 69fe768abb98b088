"""Comparable sales and ARV (after-repair value) for one subject property. Pure: plain values in, dataclasses out.

A broker's comps, written down so that a machine and a person get the same number:

Market sales. A sale can be a comp, and counts in the county trend, when it is arms-length and not distressed
(properties.sales_rules: no quitclaim, family, nominal, multi-parcel or corrective transfer; no sheriff's,
tax or bank-owned sale unless `include_distressed`) and has a price above $0.

County trend (time adjustment): leads/comps_trend.py.

Rules, in this order, for each candidate sale (the first that fails is the reason it was dropped):
1. a market sale (above); 2. not the subject's own parcel; 3. sold on or before the as-of date; 4. the same
property type as the subject (a subject of unknown type has no comps); 5. a known distance (given, or from
both points), at most the widest radius (`tiers[-1]`: 1 mile); 6. sold within the widest window
(`tiers[-1]`: 24 months, calendar months back from the as-of date, that day included); 7. living area within
`size_tolerance` (20%) of the subject's, both ends included (a comp with no living area cannot be compared; a
subject with no living area skips this rule and the size adjustment, and its confidence is at most low);
8. beds within `beds_tolerance` (1) when both are known.
Widening: the survivors fall in tiers (0.5 mile & 12 months, then 1 mile & 12 months, then 1 mile & 24
months: each tier contains the one before); the first tier holding at least `min_comps` (3) comps is used,
else the widest. Radius widens before time: time has the county trend to adjust it, location has nothing.
Within the tier the comps are ranked by distance, then the latest sale, then sale id, and the first
`max_comps` (10) are kept.

Adjustments, per kept comp (floating point, in this order):
    price_per_sqft = price / comp sqft
    time_factor    = index(as-of month) / index(sale month)
    size_factor    = 1 + size_adjustment_rate x (subject sqft / comp sqft - 1)    (1 without both areas)
    adjusted_value = price x time_factor x size_factor
The size adjustment prices the square feet the subject has more (or fewer) than the comp at
`size_adjustment_rate` (half) of the comp's time-adjusted $/sqft: land, kitchen and baths do not grow with the
house, so a marginal square foot is worth less than an average one (rate 1 = plain $/sqft x subject sqft).

ARV, band and confidence: ARV is the median adjusted value, the band (low, high) the 25th and 75th percentiles
(`band`), all by PostgreSQL's percentile_cont (linear between the two nearest ranks), rounded half up to
whole dollars from 15 significant digits (PostgreSQL's float8 -> numeric). The spread is the coefficient of
dispersion (IAAO): the mean absolute deviation from the median / the median. Confidence: `high` with at
least 5 comps and a spread of at most 10%, `medium` with at least 3 and at most 20%, `low` otherwise (and for
a subject with no living area), `none` without comps (no ARV).

`ArvResult.as_json()` is the promised shape of `manage.py comps PARCEL_ID --json` and
`GET /api/v1/leads/{id}/comps/`: `{"arv", "low", "high", "confidence", "comps": [...]}`, each comp with its
sale id, parcel, address, distance, date, price, living area, beds, $/sqft, factors, adjusted value and why it
was kept. `as_json(explain=True)` adds the dropped sales with their reasons, the tier used and the notes.

Set-based, for the nightly chain (leads/comps_sql.py implements it; tests hold it equal to this module):
    1. stage the market sales (above) within the widest window plus the trend's reach in a temporary table
       with a GiST-indexed point per sale in its property type's own band of longitude;
    2. the trend: generate_series over the months x window half-widths, LEFT JOIN the sales by month (those
       recorded before the as-of month),
       COUNT and percentile_cont(0.5) per (month, width); DISTINCT ON (month) the narrowest width with
       enough sales; a LATERAL nearest-month fill;
    3. the pairs: every subject (lead + property) JOIN the staged sales whose point lies in its box (its
       point +- 1.01 x the radius in its type's band: the index) and rules 2-8 as plain conditions, the exact
       distance by dealfinder.common.geo's haversine (the same double as here) and each pair's tier (a CASE);
       ring by ring: within the narrowest tier's radius first, then within each wider one only for the subjects
       still short of `min_comps` in the tiers covered so far (a tier decides with its own pairs alone);
    4. per subject, COUNT(*) FILTER (WHERE tier <= k) for each tier picks the tier, row_number() OVER
       (PARTITION BY subject ORDER BY distance, sale_date DESC, sale id) keeps `max_comps`;
    5. the adjustments as columns (a join to the trend by month), then per subject
       percentile_cont(ARRAY[0.25, 0.5, 0.75]) WITHIN GROUP (ORDER BY adjusted), the spread
       AVG(|adjusted - median| ORDER BY adjusted, sale id) / median, the confidence as a CASE and
       array_agg(sale id ORDER BY rank) for the comps; one UPDATE ... FROM that result writes every lead.

How to integrate: a Sale model (properties) with the sales_rules flags stored; a selector that builds the
`Subject` from a lead's property and the candidate `CompSale`s within 1 mile (one spatial query); the trend
built once per county and run (`county_trend`, cached for the night); `comps_and_arv` behind
`manage.py comps PARCEL_ID --json`, `GET /api/v1/leads/{id}/comps/` and the lead admin (comps on the
minimap: each comp's point); `comps_sql.comps_arv_all` in the nightly chain before scoring; the deal
analyzer takes this ARV before the appraiser's market value (leads.deals: MAO = ARV x the profile's
percentage - repairs - fee). Parameters on the scoring profile (`CompParams.from_mapping`).
"""

from __future__ import annotations

import calendar
import datetime
import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, fields
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from dealfinder.common.geo import haversine_miles

if TYPE_CHECKING:
    from leads.comps_trend import Trend

UNKNOWN_TYPES = ("", "other")


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


@dataclass(frozen=True)
class CompParams:
    tiers: tuple[tuple[float, int], ...] = ((0.5, 12), (1.0, 12), (1.0, 24))  # (miles, months), widening
    min_comps: int = 3
    max_comps: int = 10
    size_tolerance: float = 0.20
    beds_tolerance: int = 1
    size_adjustment_rate: float = 0.5
    include_distressed: bool = False
    band: tuple[float, float] = (0.25, 0.75)
    high_confidence: tuple[int, float] = (5, 0.10)  # at least this many comps, at most this spread
    medium_confidence: tuple[int, float] = (3, 0.20)
    trend_half_window: int = 1
    trend_max_half_window: int = 6
    trend_min_sales: int = 10

    def __post_init__(self):
        tiers = self.tiers
        if not tiers or any(len(t) != 2 or t[0] <= 0 or t[1] <= 0 for t in tiers):
            raise ValueError("tiers must be a non-empty list of [miles > 0, months > 0] pairs")
        if any(b[0] < a[0] or b[1] < a[1] for a, b in itertools.pairwise(tiers)):
            raise ValueError("each tier must contain the one before it (miles and months never shrink)")
        if not 1 <= self.min_comps <= self.max_comps:
            raise ValueError("need 1 <= min_comps <= max_comps")
        if not 0 <= self.size_tolerance < 1 or self.beds_tolerance < 0 or not 0 <= self.size_adjustment_rate <= 1:
            raise ValueError("need 0 <= size_tolerance < 1, beds_tolerance >= 0 and 0 <= size_adjustment_rate <= 1")
        if not 0 <= self.band[0] <= 0.5 <= self.band[1] <= 1:
            raise ValueError("band must be [low, high] percentiles with low <= 0.5 <= high, e.g. [0.25, 0.75]")
        if not 0 <= self.trend_half_window <= self.trend_max_half_window or self.trend_min_sales < 1:
            raise ValueError("need 0 <= trend_half_window <= trend_max_half_window and trend_min_sales >= 1")

    @property
    def widest(self) -> tuple[float, int]:
        return self.tiers[-1]

    @classmethod
    def from_mapping(cls, values: Mapping) -> CompParams:
        """Build from a profile's `parameters` JSON (unknown keys are ignored; lists become tuples)."""
        known = {f.name for f in fields(cls)}
        return cls(**{key: _tuples(value) for key, value in values.items() if key in known})


@dataclass(frozen=True)
class Subject:
    as_of: datetime.date
    property_type: str
    lat: float | None = None
    lon: float | None = None
    living_sqft: int | None = None
    beds: int | None = None
    parcel_id: str = ""


@dataclass(frozen=True)
class CompSale:
    sale_id: int | str
    sale_date: datetime.date
    price: Decimal | None
    property_type: str
    living_sqft: int | None = None
    beds: int | None = None
    distance_miles: float | None = None  # or lat/lon, and it is computed
    lat: float | None = None
    lon: float | None = None
    parcel_id: str = ""
    address: str = ""
    is_arms_length: bool = True
    is_distressed: bool = False
    flags: tuple[str, ...] = ()  # sales_rules reasons, quoted when the sale is dropped
    recorded_on: datetime.date | None = None  # when the deed was recorded (None: taken as the sale date)


def is_market_sale(sale: CompSale, params: CompParams) -> bool:
    return (
        sale.is_arms_length
        and (params.include_distressed or not sale.is_distressed)
        and sale.price is not None
        and sale.price > 0
    )


def month_number(day: datetime.date) -> int:
    return day.year * 12 + day.month - 1


def month_label(number: int) -> str:
    return f"{number // 12:04d}-{number % 12 + 1:02d}"


def months_before(day: datetime.date, months: int) -> datetime.date:
    """The same day `months` calendar months earlier, clamped to the month's end (PostgreSQL's date - interval)."""
    year, month0 = divmod(month_number(day) - months, 12)
    return datetime.date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def percentile(ordered: Sequence[float], fraction: float) -> float:
    """PostgreSQL's percentile_cont over ascending values: linear between the two nearest ranks."""
    position = fraction * (len(ordered) - 1)
    first, second = math.floor(position), math.ceil(position)
    if second > first:
        return ordered[first] + (ordered[second] - ordered[first]) * (position - first)
    return ordered[first]


def dollars(value: float) -> Decimal:
    """Whole dollars, half up, from 15 significant digits (as PostgreSQL's round(float8::numeric))."""
    return Decimal(f"{value:.15g}").quantize(Decimal(1), rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Comp:
    sale: CompSale
    distance_miles: float
    price_per_sqft: float | None
    time_factor: float
    size_factor: float
    adjusted_value: float
    why: str

    def as_json(self) -> dict:
        s = self.sale
        return {
            "sale_id": s.sale_id,
            "parcel_id": s.parcel_id,
            "address": s.address,
            "distance_miles": round(self.distance_miles, 2),
            "sale_date": s.sale_date.isoformat(),
            "price": int(s.price.quantize(Decimal(1), rounding=ROUND_HALF_UP)),
            "living_sqft": s.living_sqft,
            "beds": s.beds,
            "price_per_sqft": round(self.price_per_sqft, 2) if self.price_per_sqft is not None else None,
            "time_factor": round(self.time_factor, 4),
            "size_factor": round(self.size_factor, 4),
            "adjusted_value": int(dollars(self.adjusted_value)),
            "why": self.why,
        }


@dataclass(frozen=True)
class Dropped:
    sale: CompSale
    reason: str

    def as_json(self) -> dict:
        return {"sale_id": self.sale.sale_id, "parcel_id": self.sale.parcel_id, "reason": self.reason}


@dataclass(frozen=True)
class ArvResult:
    arv: Decimal | None
    low: Decimal | None
    high: Decimal | None
    confidence: str
    comps: tuple[Comp, ...]
    dropped: tuple[Dropped, ...] = ()
    radius_miles: float | None = None
    months: int | None = None
    dispersion: float | None = None
    notes: tuple[str, ...] = ()

    def as_json(self, *, explain: bool = False) -> dict:
        money = (self.arv, self.low, self.high)
        arv, low, high = (int(v) if v is not None else None for v in money)
        result = {
            "arv": arv,
            "low": low,
            "high": high,
            "confidence": self.confidence,
            "comps": [c.as_json() for c in self.comps],
        }
        if explain:
            result["radius_miles"] = self.radius_miles
            result["months"] = self.months
            result["dispersion"] = round(self.dispersion, 4) if self.dispersion is not None else None
            result["notes"] = list(self.notes)
            result["dropped"] = [d.as_json() for d in self.dropped]
        return result


def _distance(subject: Subject, sale: CompSale) -> float | None:
    if sale.distance_miles is not None:
        return sale.distance_miles
    if None in (subject.lon, subject.lat, sale.lon, sale.lat):
        return None
    return haversine_miles(subject.lon, subject.lat, sale.lon, sale.lat)


def _drop_reason(subject: Subject, sale: CompSale, distance: float | None, params: CompParams) -> str | None:
    """Why `sale` cannot be a comp at any tier (rules 1-8), or None."""
    radius, months = params.widest
    if not is_market_sale(sale, params):
        if not sale.is_arms_length:
            return "Not arms-length" + (f": {'; '.join(sale.flags)}" if sale.flags else "")
        if sale.is_distressed and not params.include_distressed:
            return "Distressed sale" + (f": {'; '.join(sale.flags)}" if sale.flags else "")
        return "No price"
    if subject.parcel_id and sale.parcel_id == subject.parcel_id:
        return "The subject's own sale"
    if sale.sale_date > subject.as_of:
        return f"Sold {sale.sale_date.isoformat()}, after the as-of date"
    if sale.property_type != subject.property_type:
        return f"A {sale.property_type or 'property of unknown type'}, not a {subject.property_type}"
    if distance is None:
        return "No location to measure the distance from"
    if distance > radius:
        return f"{distance:.2f} mi away, over {radius:g} mi"
    if sale.sale_date < months_before(subject.as_of, months):
        return f"Sold {sale.sale_date.isoformat()}, over {months} months before"
    size = subject.living_sqft
    if size:
        if not sale.living_sqft:
            return "Living area unknown: cannot compare size"
        if not size * (1 - params.size_tolerance) <= sale.living_sqft <= size * (1 + params.size_tolerance):
            diff = (sale.living_sqft / size - 1) * 100
            return f"{sale.living_sqft:,} sqft is {diff:+.0f}% from {size:,} (over {params.size_tolerance:.0%})"
    if subject.beds is not None and sale.beds is not None and abs(sale.beds - subject.beds) > params.beds_tolerance:
        return f"{sale.beds} beds vs {subject.beds} (more than {params.beds_tolerance} apart)"
    return None


def _tier(sale: CompSale, distance: float, as_of: datetime.date, params: CompParams) -> int:
    for index, (radius, months) in enumerate(params.tiers):
        if distance <= radius and sale.sale_date >= months_before(as_of, months):
            return index
    raise AssertionError("an eligible sale lies within the widest tier")  # pragma: no cover


def confidence_for(count: int, dispersion: float | None, *, sized: bool, params: CompParams) -> str:
    if count == 0 or dispersion is None:
        return "none"
    if not sized:
        return "low"
    (high_n, high_spread), (medium_n, medium_spread) = params.high_confidence, params.medium_confidence
    if count >= high_n and dispersion <= high_spread:
        return "high"
    if count >= medium_n and dispersion <= medium_spread:
        return "medium"
    return "low"


def _why(subject: Subject, sale: CompSale, distance: float, tier: int, params: CompParams) -> str:
    radius, months = params.tiers[tier]
    ago = month_number(subject.as_of) - month_number(sale.sale_date)
    parts = [f"Arms-length {sale.property_type} sale {distance:.2f} mi away", f"sold {sale.sale_date.isoformat()}"]
    parts[-1] += f" ({ago} month{'s' if ago != 1 else ''} before)"
    if sale.living_sqft:
        diff = f" ({(sale.living_sqft / subject.living_sqft - 1) * 100:+.0f}%)" if subject.living_sqft else ""
        parts.append(f"{sale.living_sqft:,} sqft{diff}")
    if sale.beds is not None:
        parts.append(f"{sale.beds} beds")
    return ", ".join(parts) + f": within {radius:g} mi and {months} months"


def comps_and_arv(
    subject: Subject, candidates: Iterable[CompSale], *, trend: Trend, params: CompParams | None = None
) -> ArvResult:
    params = params or CompParams()
    if subject.property_type in UNKNOWN_TYPES:
        return ArvResult(None, None, None, "none", (), notes=("The subject's property type is unknown: no comps",))
    dropped: list[Dropped] = []
    eligible: list[tuple[int, float, CompSale]] = []
    for sale in candidates:
        distance = _distance(subject, sale)
        reason = _drop_reason(subject, sale, distance, params)
        if reason:
            dropped.append(Dropped(sale, reason))
        else:
            eligible.append((_tier(sale, distance, subject.as_of, params), distance, sale))
    chosen = len(params.tiers) - 1
    for index in range(len(params.tiers)):
        if sum(1 for tier, _, _ in eligible if tier <= index) >= params.min_comps:
            chosen = index
            break
    radius, months = params.tiers[chosen]
    ranked = sorted(
        (e for e in eligible if e[0] <= chosen), key=lambda e: (e[1], -e[2].sale_date.toordinal(), e[2].sale_id)
    )
    for tier, _, sale in eligible:
        if tier > chosen:
            dropped.append(Dropped(sale, f"Outside {radius:g} mi and {months} months: enough comps closer in"))
    for _, _, sale in ranked[params.max_comps :]:
        dropped.append(Dropped(sale, f"Beyond the {params.max_comps} closest comps"))
    comps = []
    for tier, distance, sale in ranked[: params.max_comps]:
        price = float(sale.price)
        per_sqft = price / sale.living_sqft if sale.living_sqft else None
        time_factor = trend.factor(sale.sale_date)
        size_factor = 1.0
        if subject.living_sqft and sale.living_sqft:
            size_factor = 1 + params.size_adjustment_rate * (subject.living_sqft / sale.living_sqft - 1)
        adjusted = price * time_factor * size_factor
        why = _why(subject, sale, distance, tier, params)
        comps.append(Comp(sale, distance, per_sqft, time_factor, size_factor, adjusted, why))
    notes = []
    if chosen > 0:
        first_radius, first_months = params.tiers[0]
        notes.append(
            f"Fewer than {params.min_comps} comps within {first_radius:g} mi and {first_months} months: "
            f"widened to {radius:g} mi and {months} months"
        )
    if trend.is_flat:
        notes.append("Too few county sales for a trend: prices are not adjusted for time")
    if not subject.living_sqft:
        notes.append("The subject's living area is unknown: no size rule or adjustment, confidence at most low")
    if not comps:
        return ArvResult(None, None, None, "none", (), tuple(dropped), radius, months, None, tuple(notes))
    ordered = sorted(comps, key=lambda c: (c.adjusted_value, c.sale.sale_id))
    values = [c.adjusted_value for c in ordered]
    median = percentile(values, 0.5)
    deviation = 0.0
    for value in values:  # left to right, as PostgreSQL's AVG(... ORDER BY ...) adds them
        deviation += abs(value - median)
    dispersion = deviation / len(values) / median
    level = confidence_for(len(comps), dispersion, sized=bool(subject.living_sqft), params=params)
    return ArvResult(
        arv=dollars(median),
        low=dollars(percentile(values, params.band[0])),
        high=dollars(percentile(values, params.band[1])),
        confidence=level,
        comps=tuple(comps),
        dropped=tuple(dropped),
        radius_miles=radius,
        months=months,
        dispersion=dispersion,
        notes=tuple(notes),
    )
