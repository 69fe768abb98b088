"""From fitted coefficients to a scoring profile: point weights, tier thresholds, and when not to fit at all.

Weights. The logistic regression's coefficient of a signal is how much the log-odds of converting rise when a
lead has it, other signals equal. Points follow the credit-scorecard convention of "points to double the
odds" (PDO, default 10): weight = coefficient x PDO / ln 2, rounded, so every PDO points of difference
between two leads' scores means about twice the odds of closing. Weights are never negative (a negative
coefficient - leads with the signal closed less often - gives 0 points: a profile cannot subtract) and never
above the cap of the signal's component. A window signal's weight is its best window's points; the other
windows keep their thresholds and scale with it (leads.backtest.signals.weight_parameters). Signals with too
few leads to fit keep the active profile's weight.

Tier thresholds. The proposed weights change the scale of the scores, so the thresholds are chosen again so
that the same population gets about the same tier shares as under the active profile: tier A's threshold is
the score at which the share of leads at or above it is closest to the active share of tier A (ties go to
the higher threshold), then B's for the share of A + B, then C's for A + B + C, always A > B > C >= 1, and A
at most 3 above the best score seen (a tier the population cannot fill stays open to a lead that scores
higher than any seen, rather than being put out of reach at 99 or 100). The
population is the scored leads' current facts when the caller passes them; otherwise the outcomes' snapshots,
their active tiers as recorded and their proposed scores summed from their signals (each window signal at its
best window's points, components capped).

Too few outcomes. Fitting needs at least MIN_EACH converted and MIN_EACH not converted leads (30: six of each
per fold of a 5-fold cross-validation) and at least MIN_SIGNAL_LEADS (10) leads with and without a signal for
that signal to be fitted; below that the result says how many more are needed rather than fitting noise.
"""

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace

from leads.scoring import ScoringParams, parameter_errors

from .signals import CAP_FIELDS, SIGNAL_COMPONENTS, TIERS, params_with, round_half_up, signal_weights, weight_parameters

MIN_EACH = 30
MIN_SIGNAL_LEADS = 10
POINTS_TO_DOUBLE_ODDS = 10
TIER_FIELDS = ("tier_a_min", "tier_b_min", "tier_c_min")
# The admin validates `parameters` against the rule parameters' defaults; the caps and thresholds are columns.
RULE_DEFAULTS = {f.name: f.default for f in fields(ScoringParams) if f.name not in {*CAP_FIELDS.values(), *TIER_FIELDS}}


@dataclass(frozen=True)
class Shortfall:
    converted: int
    not_converted: int
    more_converted: int
    more_not_converted: int
    more_with_signal: dict[str, int]  # signals that cannot be fitted -> more leads needed with (or without) it
    message: str


@dataclass(frozen=True)
class ProposedProfile:
    weights: dict[str, int]  # every signal, keyed as the profile names it
    kept: tuple[str, ...]  # signals with too few leads to fit, at the active profile's weight
    columns: dict[str, int]  # the profile's tier threshold columns
    parameters: dict[str, object]  # the profile `parameters` to merge over the active profile's
    params: ScoringParams  # the active params with the above applied (for rescoring in memory)
    tier_shares: dict[str, tuple[float, float]]  # tier -> (active share, proposed share) of the population


def signal_shortfalls(counts: Mapping[str, tuple[int, int]]) -> dict[str, int]:
    """Signal -> more leads needed with it (or, for one nearly every lead has, without it); counts are
    (with, without)."""
    return {
        name: max(MIN_SIGNAL_LEADS - n_with, MIN_SIGNAL_LEADS - n_without)
        for name, (n_with, n_without) in counts.items()
        if min(n_with, n_without) < MIN_SIGNAL_LEADS
    }


def shortfall_of(
    *, converted: int, not_converted: int, signal_counts: Mapping[str, tuple[int, int]]
) -> Shortfall | None:
    """Why there can be no fit yet, and how many more outcomes it needs; None when a fit can go ahead."""
    more_converted, more_not = max(MIN_EACH - converted, 0), max(MIN_EACH - not_converted, 0)
    thin = signal_shortfalls(signal_counts)
    if not (more_converted or more_not or len(thin) == len(signal_counts)):
        return None
    seen = f"{converted} converted and {not_converted} not converted"
    if more_converted or more_not:
        needs = " and ".join(
            f"{n} more {what}" for n, what in ((more_converted, "converted"), (more_not, "not converted")) if n
        )
        message = (
            f"Too few outcomes to fit a profile: {seen}; it needs at least {MIN_EACH} of each, so {needs} "
            "(leads that reached a contract, and leads that went dead)."
        )
    else:
        fewest = min(thin.values())
        message = (
            f"Too few outcomes per signal to fit a profile: {seen}, but no signal is on at least "
            f"{MIN_SIGNAL_LEADS} leads and off at least {MIN_SIGNAL_LEADS}; the closest needs {fewest} more."
        )
    return Shortfall(converted, not_converted, more_converted, more_not, thin, message)


def weights_from_coefficients(
    coefficients: Mapping[str, float], active: ScoringParams, *, points_to_double_odds: float = POINTS_TO_DOUBLE_ODDS
) -> dict[str, int]:
    """Every signal's weight: fitted signals from their coefficient (see the module doc), the rest as active."""
    points_per_logit = points_to_double_odds / math.log(2)
    weights = signal_weights(active)
    for name, coefficient in coefficients.items():
        cap = getattr(active, CAP_FIELDS[SIGNAL_COMPONENTS[name]])
        weights[name] = min(round_half_up(max(coefficient, 0.0) * points_per_logit), cap)
    return weights


def indicator_total(signals: Iterable[str], weights: Mapping[str, int], params: ScoringParams) -> int:
    """A score from signal indicators alone: each signal's weight, summed per component and capped."""
    components = dict.fromkeys(CAP_FIELDS, 0)
    for name in signals:
        if name in weights:
            components[SIGNAL_COMPONENTS[name]] += weights[name]
    return min(sum(min(points, getattr(params, CAP_FIELDS[c])) for c, points in components.items()), 100)


def tier_thresholds(pairs: Iterable[tuple[str, int]]) -> tuple[tuple[int, int, int], dict[str, tuple[float, float]]]:
    """(tier_a_min, tier_b_min, tier_c_min) giving the proposed scores about the active tier shares, and each
    tier's (active, proposed) share; `pairs` are (active tier, proposed total) per lead. An empty population
    gives the default thresholds and no shares."""
    at_score = [0] * 102
    active = dict.fromkeys(TIERS, 0)
    for tier, total in pairs:
        active[tier] += 1
        at_score[min(max(total, 0), 100)] += 1
    n = sum(active.values())
    if n == 0:
        defaults = ScoringParams()
        return (defaults.tier_a_min, defaults.tier_b_min, defaults.tier_c_min), {}
    at_least = [0] * 102  # at_least[t]: leads scoring t or more
    for t in range(100, -1, -1):
        at_least[t] = at_least[t + 1] + at_score[t]

    def closest(share: float, lowest: int, highest: int) -> int:
        return min(range(highest, lowest - 1, -1), key=lambda t: abs(at_least[t] / n - share))

    cumulative = [sum(active[t] for t in TIERS[: i + 1]) / n for i in range(3)]
    best = max(t for t in range(101) if at_score[t])
    a = closest(cumulative[0], 3, min(best + 3, 100))
    b = closest(cumulative[1], 2, a - 1)
    c = closest(cumulative[2], 1, b - 1)
    at_or_above = (at_least[a], at_least[b], at_least[c], n)
    proposed = dict(zip(TIERS, (at_or_above[0], *(hi - lo for lo, hi in itertools.pairwise(at_or_above))), strict=True))
    return (a, b, c), {tier: (active[tier] / n, proposed[tier] / n) for tier in TIERS}


def weighted_params(active: ScoringParams, weights: Mapping[str, int]) -> ScoringParams:
    """The active params with `weights` applied (thresholds unchanged)."""
    return params_with(active, weight_parameters(active, weights))


def proposal_build(
    *, active: ScoringParams, weights: dict[str, int], kept: Iterable[str], pairs: Iterable[tuple[str, int]]
) -> ProposedProfile:
    """The proposed profile for `weights`; `pairs` yields (active tier, total under weighted_params(active,
    weights)) for each lead of the population the tier shares are kept on."""
    (a, b, c), shares = tier_thresholds(pairs)
    columns = dict(zip(TIER_FIELDS, (a, b, c), strict=True))
    parameters = weight_parameters(active, weights)
    errors = parameter_errors(parameters, defaults=RULE_DEFAULTS)
    if errors:  # a bug here, never the data's fault
        raise ValueError(f"proposed parameters are not a valid profile: {errors}")
    return ProposedProfile(
        weights=weights,
        kept=tuple(kept),
        columns=columns,
        parameters=parameters,
        params=replace(params_with(active, parameters), **columns),
        tier_shares=shares,
    )
