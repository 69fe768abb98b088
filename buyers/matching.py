"""Pure scoring of one (property/lead, buyer) pair against the buyer's buy box.

No ORM here: the selector fetches plain values, this module turns them into a score
0-100 with one reason per awarded point.

Price fit compares the price a buyer would pay: the lead's MAO when there is one
(what the wholesaler can sell the contract for), else the active listing's list price,
else the ARV. A price outside the box by at most `price_tolerance` (10 % by default)
earns half the price points; further out it is a hard miss.

Hard filters (score 0, never kept): a property type the box does not list (when it
lists any), beds/baths under the minimum, a year built outside the range, a price too
far outside the range, and a property outside every location criterion of the box.
Unknown beds, baths or year built pass (public records often lack them); an unknown
price earns no price points but is not a miss. A box with no target area, no zips and
no radius matches nothing: a buy box must say where.

Each buyer keeps at most `max_matches_per_buyer` matches (200 by default): the best by
score, then by the lead's own score (the better deal first), then the oldest property.
A disposition team sends a buyer a handful of deals, never a thousand; the cap also
bounds the work and the rows a nightly run writes.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

EARTH_RADIUS_MILES = 3958.7613  # mean Earth radius, 6,371,008.8 m
# Part of every stored match's fingerprint: bump it when score_match gives another score or reasons for the same
# inputs, so the next run re-scores every match instead of keeping the old sentences.
RULES_VERSION = 1


@dataclass(frozen=True)
class MatchCandidate:
    property_id: int
    zip: str
    property_type: str
    beds: int | None
    baths: Decimal | None
    year_built: int | None
    mao: Decimal | None
    list_price: Decimal | None
    arv: Decimal | None
    in_area: bool = False
    distance_miles: float | None = None
    lead_score: int = 0  # the lead's own 0-100 score: breaks ties between equal matches

    @classmethod
    def from_row(cls, row, *, center: tuple[float, float] | None) -> "MatchCandidate":
        """A candidate from a row of selectors.CANDIDATE_FIELDS values (id, zip, type, beds, baths, year built,
        MAO, list price, ARV, in area, lon, lat, lead score), with its distance to the buyer's `center` (lon, lat)."""
        pid, zip_, ptype, beds, baths, year, mao, list_price, arv, in_area, lon, lat, lead_score = row
        distance = haversine_miles(center[0], center[1], lon, lat) if center and lon is not None else None
        return cls(
            property_id=pid,
            zip=zip_,
            property_type=ptype,
            beds=beds,
            baths=baths,
            year_built=year,
            mao=mao,
            list_price=list_price,
            arv=arv,
            in_area=bool(in_area),
            distance_miles=distance,
            lead_score=lead_score,
        )

    @property
    def price_basis(self) -> tuple[str, Decimal] | None:
        """(label, value) of the price a buyer would pay: MAO, else list price, else ARV."""
        for label, value in (("MAO", self.mao), ("List price", self.list_price), ("ARV", self.arv)):
            if value is not None:
                return label, value
        return None

    @property
    def price(self) -> Decimal | None:
        basis = self.price_basis
        return basis[1] if basis else None


@dataclass(frozen=True)
class BuyBox:
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    property_types: tuple[str, ...] = ()
    min_beds: int | None = None
    min_baths: Decimal | None = None
    min_year_built: int | None = None
    max_year_built: int | None = None
    zips: tuple[str, ...] = ()
    has_area: bool = False
    center: tuple[float, float] | None = None  # (lon, lat)
    radius_miles: float | None = None
    cash_buyer: bool = False
    proof_of_funds: bool = False

    @property
    def has_radius(self) -> bool:
        return self.center is not None and bool(self.radius_miles)

    @property
    def has_location(self) -> bool:
        return self.has_area or bool(self.zips) or self.has_radius


@dataclass(frozen=True)
class MatchWeights:
    location: int = 40
    price: int = 25
    type: int = 15
    cash: int = 10
    proof_of_funds: int = 10
    threshold: int = 70
    price_tolerance: Decimal = Decimal("0.10")
    max_matches_per_buyer: int | None = 200  # None: keep every match at or above the threshold


@dataclass(frozen=True)
class MatchResult:
    score: int
    reasons: list[str]
    keep: bool


def haversine_miles(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance on a sphere of the mean Earth radius."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(math.sqrt(a))


def money(value: Decimal) -> str:
    return f"${value:,.0f}"


def price_range_text(low: Decimal | None, high: Decimal | None) -> str:
    if low is not None and high is not None:
        return f"{money(low)}-{money(high)}"
    return f"{money(low)} or more" if low is not None else f"up to {money(high)}"


class _Miss(Exception):
    """A hard filter failed; the message says which."""


def _location(c: MatchCandidate, box: BuyBox, points: int) -> str:
    if not box.has_location:
        raise _Miss("The buy box has no target area, zips or radius")
    if box.has_area and c.in_area:
        return f"Inside the buyer's target area (+{points})"
    if c.zip in box.zips:
        return f"In target zip {c.zip} (+{points})"
    if box.has_radius and c.distance_miles is not None and c.distance_miles <= box.radius_miles:
        return f"{c.distance_miles:.1f} mi from the buyer's center, within {box.radius_miles:g} mi (+{points})"
    raise _Miss("Outside the buyer's target area, zips and radius")


def _price(c: MatchCandidate, box: BuyBox, w: MatchWeights) -> tuple[int, str]:
    if box.min_price is None and box.max_price is None:
        return w.price, f"Any price (+{w.price})"
    wanted = price_range_text(box.min_price, box.max_price)
    basis = c.price_basis
    if basis is None:
        return 0, f"No MAO, list price or ARV to compare with {wanted} (+0)"
    label, value = basis
    below = box.min_price is not None and value < box.min_price
    above = box.max_price is not None and value > box.max_price
    if not (below or above):
        return w.price, f"{label} {money(value)} within {wanted} (+{w.price})"
    edge = box.min_price if below else box.max_price
    off = abs(value - edge) / edge if edge else Decimal("Infinity")
    if off > w.price_tolerance:
        raise _Miss(f"{label} {money(value)} outside {wanted}")
    points = w.price // 2
    return points, f"{label} {money(value)} is {off:.0%} {'under' if below else 'over'} {wanted} (+{points})"


def _hard_filters(c: MatchCandidate, box: BuyBox) -> None:
    if box.property_types and c.property_type not in box.property_types:
        raise _Miss(f"Property type {c.property_type} not in {', '.join(box.property_types)}")
    if box.min_beds is not None and c.beds is not None and c.beds < box.min_beds:
        raise _Miss(f"{c.beds} beds, the buyer wants {box.min_beds}+")
    if box.min_baths is not None and c.baths is not None and c.baths < box.min_baths:
        raise _Miss(f"{c.baths:g} baths, the buyer wants {box.min_baths:g}+")
    if c.year_built is not None:
        if box.min_year_built is not None and c.year_built < box.min_year_built:
            raise _Miss(f"Built {c.year_built}, before {box.min_year_built}")
        if box.max_year_built is not None and c.year_built > box.max_year_built:
            raise _Miss(f"Built {c.year_built}, after {box.max_year_built}")


def score_match(candidate: MatchCandidate, box: BuyBox, weights: MatchWeights) -> MatchResult:
    """Score one pair 0-100; `keep` when no hard filter failed and the score reaches the threshold."""
    try:
        _hard_filters(candidate, box)
        reasons = [_location(candidate, box, weights.location)]
        score = weights.location
        price_points, price_reason = _price(candidate, box, weights)
    except _Miss as miss:
        return MatchResult(score=0, reasons=[str(miss)], keep=False)
    score += price_points
    reasons.append(price_reason)
    if box.property_types:
        reasons.append(f"Property type {candidate.property_type} wanted (+{weights.type})")
    else:
        reasons.append(f"Any property type (+{weights.type})")
    score += weights.type
    if box.cash_buyer:
        score += weights.cash
        reasons.append(f"Cash buyer (+{weights.cash})")
    if box.proof_of_funds:
        score += weights.proof_of_funds
        reasons.append(f"Proof of funds on file (+{weights.proof_of_funds})")
    score = min(score, 100)
    return MatchResult(score=score, reasons=reasons, keep=score >= weights.threshold)


def rank_key(candidate: MatchCandidate, result: MatchResult) -> tuple:
    """Sort key of a buyer's matches, best first: score, then the lead's score, then the oldest property."""
    return (-result.score, -candidate.lead_score, candidate.property_id)


def best_matches(
    scored: list[tuple[MatchCandidate, MatchResult]], weights: MatchWeights
) -> list[tuple[MatchCandidate, MatchResult]]:
    """One buyer's kept matches, best first, at most `max_matches_per_buyer` of them."""
    kept = sorted(((c, r) for c, r in scored if r.keep), key=lambda pair: rank_key(*pair))
    return kept if weights.max_matches_per_buyer is None else kept[: weights.max_matches_per_buyer]
