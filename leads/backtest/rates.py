"""Conversion rates: by tier, by score decile, per signal (lift with a 95% interval), and time to contract.

Lift of a signal = conversion rate of the leads with it / rate of the leads without it. Its 95% confidence
interval is Katz's log method for a ratio of two independent proportions (Katz et al., Biometrics 1978):
with a of n1 leads with the signal converting and c of n0 without,

    ln(lift) +- 1.96 * sqrt(1/a - 1/n1 + 1/c - 1/n0)

When a or c is 0 the logarithm is undefined, so 0.5 is added to each of the four cells (a, n1 - a, c,
n0 - c; the Haldane-Anscombe correction) for both the lift and its interval, and the row says `corrected`.
There is no lift (None) when no lead has the signal, every lead has it, or no lead converted at all.
"""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from .observations import Observation
from .signals import SIGNAL_LABELS, SIGNALS, TIERS

Z95 = statistics.NormalDist().inv_cdf(0.975)  # 1.959963984540054
DECILES = 10


@dataclass(frozen=True)
class TierRate:
    tier: str
    leads: int
    won: int
    rate: float | None  # None when the tier had no leads


@dataclass(frozen=True)
class ScoreBin:
    """Leads whose snapshot score fell in one quantile group (equal scores always share a group)."""

    index: int  # 1 = the lowest scores
    low: int
    high: int
    leads: int
    won: int
    rate: float


@dataclass(frozen=True)
class SignalLift:
    signal: str
    label: str
    n_with: int
    won_with: int
    n_without: int
    won_without: int
    with_rate: float | None
    without_rate: float | None
    lift: float | None
    ci_low: float | None
    ci_high: float | None
    corrected: bool  # 0.5 added to each cell because a zero count made the log undefined


@dataclass(frozen=True)
class TierTiming:
    tier: str
    contracts: int  # converted leads with a known time to contract
    median_days: float | None
    q1_days: float | None
    q3_days: float | None


def _rate(won: int, leads: int) -> float | None:
    return won / leads if leads else None


def rates_by_tier(observations: Sequence[Observation]) -> tuple[TierRate, ...]:
    counts = {tier: [0, 0] for tier in TIERS}
    for o in observations:
        counts[o.tier][0] += 1
        counts[o.tier][1] += o.converted
    return tuple(TierRate(tier, leads, won, _rate(won, leads)) for tier, (leads, won) in counts.items())


def quantile_groups(values: Sequence[float], groups: int) -> list[list[int]]:
    """Indices of `values` in up to `groups` groups of about equal size, ascending by value; equal values share
    a group (the group of the first of them by rank), so there are fewer groups when values repeat a lot."""
    order = sorted(range(len(values)), key=values.__getitem__)
    out: dict[int, list[int]] = {}
    start = 0
    while start < len(order):
        end = start
        while end < len(order) and values[order[end]] == values[order[start]]:
            end += 1
        out.setdefault(start * groups // len(order), []).extend(order[start:end])
        start = end
    return [out[key] for key in sorted(out)]


def rates_by_decile(observations: Sequence[Observation]) -> tuple[ScoreBin, ...]:
    totals = [o.total for o in observations]
    bins = []
    for index, members in enumerate(quantile_groups(totals, DECILES), start=1):
        won = sum(observations[i].converted for i in members)
        scores = [totals[i] for i in members]
        bins.append(ScoreBin(index, min(scores), max(scores), len(members), won, won / len(members)))
    return tuple(bins)


def lift_interval(a: int, n1: int, c: int, n0: int) -> tuple[float | None, float | None, float | None, bool]:
    """(lift, ci_low, ci_high, corrected) for a of n1 converting with the signal and c of n0 without."""
    if n1 == 0 or n0 == 0 or a + c == 0:
        return None, None, None, False
    corrected = a == 0 or c == 0
    if corrected:
        a, n1, c, n0 = a + 0.5, n1 + 1, c + 0.5, n0 + 1
    log_lift = math.log((a / n1) / (c / n0))
    half = Z95 * math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    return math.exp(log_lift), math.exp(log_lift - half), math.exp(log_lift + half), corrected


def signal_lifts(observations: Sequence[Observation]) -> tuple[SignalLift, ...]:
    """Every signal's lift, in the profile's signal order (signals no lead had included, with no lift)."""
    total, won = len(observations), sum(o.converted for o in observations)
    with_counts = {name: [0, 0] for name in SIGNALS}
    for o in observations:
        for name in o.signals:
            if name in with_counts:
                with_counts[name][0] += 1
                with_counts[name][1] += o.converted
    lifts = []
    for name, (n_with, won_with) in with_counts.items():
        n_without, won_without = total - n_with, won - won_with
        lift, low, high, corrected = lift_interval(won_with, n_with, won_without, n_without)
        lifts.append(
            SignalLift(
                signal=name,
                label=SIGNAL_LABELS[name],
                n_with=n_with,
                won_with=won_with,
                n_without=n_without,
                won_without=won_without,
                with_rate=_rate(won_with, n_with),
                without_rate=_rate(won_without, n_without),
                lift=lift,
                ci_low=low,
                ci_high=high,
                corrected=corrected,
            )
        )
    return tuple(lifts)


def time_to_contract(observations: Sequence[Observation]) -> tuple[TierTiming, ...]:
    """Median and quartiles (inclusive method) of the days to contract of each tier's converted leads."""
    days: dict[str, list[int]] = {tier: [] for tier in TIERS}
    for o in observations:
        if o.converted and o.days_to_contract is not None:
            days[o.tier].append(o.days_to_contract)
    timings = []
    for tier, values in days.items():
        if not values:
            timings.append(TierTiming(tier, 0, None, None, None))
            continue
        q1, median, q3 = statistics.quantiles(values, n=4, method="inclusive") if len(values) > 1 else values * 3
        timings.append(TierTiming(tier, len(values), float(median), float(q1), float(q3)))
    return tuple(timings)
