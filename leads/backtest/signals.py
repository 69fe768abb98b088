"""The scoring profile's weighted signals: their names, which ones a lead earned, their weights.

A signal is named by the profile parameter that holds its points (`tax_sale_points`, `equity_points`, ...),
so the weights the backtest reports and proposes drop straight into a profile's `parameters`. A signal is
either a flat number of points or a list of [threshold, points] windows (equity, discount, buyer demand,
days to an event, fresh filing, recent price cut); a window signal's weight is its best window's points.

Which signals a lead earned is read from `leads.scoring.score` itself (never a copy of its rules): each rule
names its signal when it matches, whatever points the profile gives it (`ScoreResult.signals`), so the nightly
scoring gets them from the pass that scores the lead.
"""

from dataclasses import fields

from leads.scoring import PropertySignals, ScoringParams, Windows, score

# The profile parameter of each signal -> the component whose cap bounds its points.
SIGNAL_COMPONENTS: dict[str, str] = {
    "tax_sale_points": "distress",
    "auction_points": "distress",
    "foreclosure_filed_points": "distress",
    "violation_points": "distress",
    "tax_delinquent_points": "distress",
    "absentee_points": "distress",
    "vacant_points": "distress",
    "portfolio_points": "distress",
    "price_reduction_points": "distress",
    "equity_points": "value",
    "value_band_points": "value",
    "discount_points": "value",
    "target_zip_points": "location",
    "buyer_demand_points": "location",
    "event_points": "urgency",
    "fresh_filing_points": "urgency",
    "recent_reduction_points": "urgency",
}
SIGNALS = tuple(SIGNAL_COMPONENTS)
SIGNAL_LABELS = {
    "tax_sale_points": "Active tax-deed sale",
    "auction_points": "Foreclosure auction scheduled",
    "foreclosure_filed_points": "Foreclosure filed (no auction yet)",
    "violation_points": "Open code violations",
    "tax_delinquent_points": "Taxes delinquent",
    "absentee_points": "Absentee owner",
    "vacant_points": "Vacant",
    "portfolio_points": "Owner holds several distressed parcels",
    "price_reduction_points": "Price reductions",
    "equity_points": "Equity",
    "value_band_points": "Market value in the target band",
    "discount_points": "Listed below market value",
    "target_zip_points": "Target ZIP",
    "buyer_demand_points": "Cash buyers nearby",
    "event_points": "Sale or auction soon",
    "fresh_filing_points": "Fresh foreclosure filing",
    "recent_reduction_points": "Recent price cut",
}
# Parameters that scale with a signal's points: more violations add `violation_extra_points` each, up to
# `violation_max_points`.
COMPANIONS = {"violation_points": ("violation_extra_points", "violation_max_points")}
# The profile columns capping each component.
CAP_FIELDS = {"distress": "distress_cap", "value": "value_cap", "location": "location_cap", "urgency": "urgency_cap"}
TIERS = ("A", "B", "C", "D")  # as ScoringParams.tier_for hands them out, best first


def _is_windows(value) -> bool:
    return isinstance(value, tuple)


def signals_awarded(signals: PropertySignals, params: ScoringParams) -> frozenset[str]:
    """The signals (profile parameter names) that earn `signals`' property points under `params`' rules,
    whatever points `params` gives them (a window signal counts when the value falls in any window)."""
    return score(signals, params).signals


def signal_weights(params: ScoringParams) -> dict[str, int]:
    """Each signal's points under `params` (a window signal: its best window's points)."""
    weights = {}
    for name in SIGNALS:
        value = getattr(params, name)
        weights[name] = max((points for _, points in value), default=0) if _is_windows(value) else value
    return weights


def _scaled_windows(windows: Windows, weight: int) -> list[list[int]]:
    """The windows with their thresholds kept and their points scaled so the best one is worth `weight`."""
    best = max((points for _, points in windows), default=0)
    if best <= 0:
        return [[limit, weight] for limit, _ in windows]
    return [[limit, round_half_up(points * weight / best)] for limit, points in windows]


def round_half_up(value: float) -> int:
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def weight_parameters(params: ScoringParams, weights: dict[str, int]) -> dict[str, object]:
    """A profile `parameters` fragment (JSON values) giving each signal in `weights` its points, starting from
    `params`: windows keep their thresholds and scale their points; violation extras scale with
    `violation_points` (the maximum never below one violation's points)."""
    out: dict[str, object] = {}
    for name, weight in weights.items():
        current = getattr(params, name)
        if _is_windows(current):
            out[name] = _scaled_windows(current, weight)
            continue
        out[name] = weight
        for companion in COMPANIONS.get(name, ()):
            ratio = weight / current if current > 0 else 0
            out[companion] = round_half_up(getattr(params, companion) * ratio)
        if name == "violation_points":
            out["violation_max_points"] = max(out["violation_max_points"], weight)
    return out


def params_with(params: ScoringParams, parameters: dict[str, object]) -> ScoringParams:
    """`params` with a profile `parameters` fragment (and column values) applied, as a profile would load it."""
    known = {f.name for f in fields(ScoringParams)}
    current = {name: getattr(params, name) for name in known}
    return ScoringParams.from_mapping({**current, **{k: v for k, v in parameters.items() if k in known}})
