"""Pure lead-scoring rules: property signals in, score components, tier and reasons out.

Four components, each capped: distress (stacked distress signals), value (equity, value
band, discount to market), location (target zips, buyer demand) and urgency (days to
sale or auction, fresh filings, recent price reductions). Every awarded point carries a
sentence ending with its points; when a component exceeds its cap a "capped" reason
takes the excess back, so the reasons always add up to the total. The result also names
the signals whose rule matched, whatever points the profile gives them (the backtest's
`signals_awarded`), from the same pass.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from decimal import Decimal

# Points by "days until / since" window: the first window the value falls in wins.
Windows = tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class PropertySignals:
    has_active_tax_sale: bool = False
    days_to_tax_sale: int | None = None
    has_foreclosure: bool = False
    days_to_auction: int | None = None
    foreclosure_filed_days_ago: int | None = None
    open_violations: int = 0
    tax_delinquent: bool = False  # an open tax delinquency its source still lists
    tax_delinquent_since: int | None = None  # the earliest tax year owed
    tax_delinquent_amount: Decimal | None = None  # owed over the open delinquencies, when sources say
    tax_delinquency_ended: str = ""  # why a delinquency on record no longer counts ("paid", "no longer listed ...")
    is_absentee: bool = False
    is_vacant: bool = False
    owner_parcels: int = 0  # parcels its owner holds (this one included), when the owner is resolved
    owner_distressed_parcels: int = 0  # of those, parcels with distress records (this one included)
    price_reductions: int = 0
    latest_reduction_days_ago: int | None = None
    equity_percent: Decimal | None = None
    market_value: Decimal | None = None
    list_price: Decimal | None = None
    zip: str = ""
    buyer_demand: int = 0


@dataclass(frozen=True)
class ScoringParams:
    distress_cap: int = 40
    value_cap: int = 30
    location_cap: int = 15
    urgency_cap: int = 15
    tier_a_min: int = 75
    tier_b_min: int = 60
    tier_c_min: int = 40
    # distress: three strong signals (e.g. tax-deed sale + auction + a violation) fill the cap, so
    # stacked distress with good equity and a sale or auction within a month reaches Tier A.
    tax_sale_points: int = 16
    auction_points: int = 16
    foreclosure_filed_points: int = 10
    violation_points: int = 8
    violation_extra_points: int = 2
    violation_max_points: int = 12
    tax_delinquent_points: int = 8
    absentee_points: int = 6
    vacant_points: int = 8
    # portfolio: an owner holding several distressed parcels (a tired landlord) is one call worth making
    portfolio_points: int = 6
    portfolio_min_distressed: int = 2
    price_reduction_points: int = 6
    # value: equity thresholds (percent, points), highest first
    equity_points: Windows = ((50, 15), (30, 10), (15, 5))
    value_band: tuple[int, int] = (75_000, 400_000)
    value_band_points: int = 5
    discount_points: Windows = ((20, 10), (10, 5))
    # location
    target_zips: tuple[str, ...] = ()
    target_zip_points: int = 10
    buyer_demand_points: Windows = ((3, 5), (1, 3))
    # urgency: (max days ahead / ago, points)
    event_points: Windows = ((30, 10), (60, 7), (120, 4))
    fresh_filing_points: Windows = ((60, 3),)
    recent_reduction_points: Windows = ((30, 3),)
    # which records count as live signals (used when gathering signals)
    foreclosure_filing_window_days: int = 365
    price_reduction_window_days: int = 180
    # a tax delinquency stands until a source resolves it, or until its source has not listed it for this many
    # days (0: it never ages out)
    tax_delinquency_unlisted_days: int = 730

    @classmethod
    def from_mapping(cls, values: Mapping) -> "ScoringParams":
        """Build from a profile's columns and `parameters` JSON (unknown keys are ignored)."""
        known = {f.name: f for f in fields(cls)}
        kwargs = {}
        for key, value in values.items():
            if key not in known:
                continue
            default = known[key].default
            if isinstance(default, tuple):
                value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
            kwargs[key] = value
        return cls(**kwargs)

    def tier_for(self, total: int) -> str:
        if total >= self.tier_a_min:
            return "A"
        if total >= self.tier_b_min:
            return "B"
        if total >= self.tier_c_min:
            return "C"
        return "D"


@dataclass(frozen=True)
class ScoreResult:
    distress: int
    value: int
    location_score: int
    urgency: int
    total: int
    tier: str
    reasons: list[str] = field(default_factory=list)
    stack_count: int = 0
    # The signals (profile parameter names: "tax_sale_points", "equity_points", ...) whose rule matched, whatever
    # points the profile gives them: a flat signal when its condition holds, a window signal when its value falls
    # in any window. Caps do not change them.
    signals: frozenset[str] = frozenset()


def _window(value: float | None, windows: Windows, *, at_least: bool = False) -> int | None:
    """Points of the first window `value` falls in (<= limit, or >= limit when at_least); None when it falls in
    none (or is unknown)."""
    if value is None:
        return None
    for limit, points in windows:
        if (value >= limit) if at_least else (value <= limit):
            return points
    return None


def _days(n: int) -> str:
    return "today" if n == 0 else f"in {n} day{'s' if n != 1 else ''}"


def _ago(n: int) -> str:
    return "today" if n == 0 else f"{n} day{'s' if n != 1 else ''} ago"


def _money(value: Decimal) -> str:
    return f"${value:,.0f}"


class _Component:
    __slots__ = ("cap", "label", "matched", "points", "reasons")

    def __init__(self, label: str, cap: int, matched: list[str]):
        self.label, self.cap, self.points, self.reasons, self.matched = label, cap, 0, [], matched

    def add(self, points: int | None, text: str, signal: str) -> None:
        """`signal`'s rule matched, for `points` (None: its value fell in none of its windows, so it did not)."""
        if points is None:
            return
        self.matched.append(signal)
        if points > 0:
            self.points += points
            self.reasons.append(f"{text} (+{points})")

    def note(self, text: str) -> None:
        """A reason that awards nothing: why a signal on record no longer counts."""
        self.reasons.append(f"{text} (+0)")

    def capped(self) -> int:
        if self.points > self.cap:
            self.reasons.append(f"{self.label} capped at {self.cap} (-{self.points - self.cap})")
            self.points = self.cap
        return self.points


def _distress(s: PropertySignals, p: ScoringParams, matched: list[str]) -> tuple[_Component, int]:
    c = _Component("Distress", p.distress_cap, matched)
    stack = 0
    if s.has_active_tax_sale:
        stack += 1
        c.add(p.tax_sale_points, "Active tax-deed sale", "tax_sale_points")
    if s.has_foreclosure:
        stack += 1
        if s.days_to_auction is not None:
            c.add(p.auction_points, "Foreclosure auction scheduled", "auction_points")
        else:
            c.add(p.foreclosure_filed_points, "Foreclosure filed", "foreclosure_filed_points")
    if s.open_violations > 0:
        stack += 1
        points = min(p.violation_points + p.violation_extra_points * (s.open_violations - 1), p.violation_max_points)
        plural = "s" if s.open_violations != 1 else ""
        c.add(points, f"{s.open_violations} open code violation{plural}", "violation_points")
    if s.tax_delinquent:
        stack += 1
        since = f" since {s.tax_delinquent_since}" if s.tax_delinquent_since else ""
        owed = f", {_money(s.tax_delinquent_amount)} owed" if s.tax_delinquent_amount else ""
        c.add(p.tax_delinquent_points, f"Property taxes delinquent{since}{owed}", "tax_delinquent_points")
    elif s.tax_delinquency_ended:
        c.note(f"Tax delinquency {s.tax_delinquency_ended}: no longer counted")
    if s.is_absentee:
        stack += 1
        c.add(p.absentee_points, "Absentee owner", "absentee_points")
    if s.is_vacant:
        stack += 1
        c.add(p.vacant_points, "Vacant", "vacant_points")
    if s.owner_distressed_parcels >= max(p.portfolio_min_distressed, 1):
        c.add(
            p.portfolio_points,
            f"Owner holds {s.owner_distressed_parcels} distressed parcels of {s.owner_parcels} (tired landlord)",
            "portfolio_points",
        )
    if s.price_reductions > 0:
        stack += 1
        plural = "s" if s.price_reductions != 1 else ""
        c.add(p.price_reduction_points, f"{s.price_reductions} price reduction{plural}", "price_reduction_points")
    return c, stack


def _value(s: PropertySignals, p: ScoringParams, matched: list[str]) -> _Component:
    # Each sentence is only formatted when its rule matched.
    c = _Component("Value", p.value_cap, matched)
    equity, market_value, list_price = s.equity_percent, s.market_value, s.list_price
    points = _window(equity, p.equity_points, at_least=True)
    if points is not None:
        c.add(points, f"Equity {equity:.0f}%", "equity_points")
    if market_value is not None and p.value_band[0] <= market_value <= p.value_band[1]:
        c.add(p.value_band_points, f"Market value {_money(market_value)} in the target band", "value_band_points")
    if market_value and list_price is not None and list_price < market_value:
        discount = (market_value - list_price) * 100 / market_value
        points = _window(discount, p.discount_points, at_least=True)
        if points is not None:
            c.add(points, f"Listed {discount:.0f}% below market value", "discount_points")
    return c


def _location(s: PropertySignals, p: ScoringParams, matched: list[str]) -> _Component:
    c = _Component("Location", p.location_cap, matched)
    if s.zip and s.zip in p.target_zips:
        c.add(p.target_zip_points, f"ZIP {s.zip} is a target area", "target_zip_points")
    points = _window(s.buyer_demand, p.buyer_demand_points, at_least=True)
    if points is not None:
        plural = "s" if s.buyer_demand != 1 else ""
        c.add(points, f"{s.buyer_demand} cash buyer{plural} nearby", "buyer_demand_points")
    return c


def _urgency(s: PropertySignals, p: ScoringParams, matched: list[str]) -> _Component:
    c = _Component("Urgency", p.urgency_cap, matched)
    if s.has_active_tax_sale and s.days_to_tax_sale is not None:
        c.add(_window(s.days_to_tax_sale, p.event_points), f"Tax-deed sale {_days(s.days_to_tax_sale)}", "event_points")
    if s.has_foreclosure and s.days_to_auction is not None:
        c.add(
            _window(s.days_to_auction, p.event_points),
            f"Foreclosure auction {_days(s.days_to_auction)}",
            "event_points",
        )
    if s.has_foreclosure and s.foreclosure_filed_days_ago is not None:
        c.add(
            _window(s.foreclosure_filed_days_ago, p.fresh_filing_points),
            f"Foreclosure filed {_ago(s.foreclosure_filed_days_ago)}",
            "fresh_filing_points",
        )
    if s.price_reductions and s.latest_reduction_days_ago is not None:
        c.add(
            _window(s.latest_reduction_days_ago, p.recent_reduction_points),
            f"Price cut {_ago(s.latest_reduction_days_ago)}",
            "recent_reduction_points",
        )
    return c


def score(signals: PropertySignals, params: ScoringParams) -> ScoreResult:
    matched: list[str] = []
    distress, stack_count = _distress(signals, params, matched)
    value, location = _value(signals, params, matched), _location(signals, params, matched)
    urgency = _urgency(signals, params, matched)
    d, v, loc, u = distress.capped(), value.capped(), location.capped(), urgency.capped()
    total = min(d + v + loc + u, 100)
    return ScoreResult(
        distress=d,
        value=v,
        location_score=loc,
        urgency=u,
        total=total,
        tier=params.tier_for(total),
        reasons=distress.reasons + value.reasons + location.reasons + urgency.reasons,
        stack_count=stack_count,
        signals=frozenset(matched),
    )


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def parameter_errors(parameters, *, defaults: Mapping[str, object]) -> dict[str, str]:
    """What is wrong with a profile's `parameters` JSON, per key, against the rule parameters' defaults:
    numbers where the default is a number, [days, points] pairs for windows, strings for zip lists."""
    if not isinstance(parameters, dict):
        return {"parameters": f"must be an object of rule parameters, not {type(parameters).__name__}"}
    errors = {}
    for key, value in parameters.items():
        if key not in defaults:
            errors[key] = "unknown rule parameter"
            continue
        default = defaults[key]
        if not isinstance(default, tuple):
            ok = _is_number(value)
            want = "a number >= 0"
        elif default and isinstance(default[0], tuple):
            ok = isinstance(value, list) and all(
                isinstance(pair, list) and len(pair) == 2 and all(map(_is_number, pair)) for pair in value
            )
            want = "a list of [threshold, points] pairs, e.g. [[30, 10], [60, 7]]"
        elif default and _is_number(default[0]):
            ok = isinstance(value, list) and len(value) == len(default) and all(map(_is_number, value))
            want = f"a list of {len(default)} numbers, e.g. {list(default)}"
        else:
            ok = isinstance(value, list) and all(isinstance(item, str) and item for item in value)
            want = 'a list of strings, e.g. ["32805"]'
        if not ok:
            errors[key] = f"must be {want}"
    return errors
