"""The backtest in one call, and the JSON the `backtest --json` command prints."""

from collections.abc import Iterable
from dataclasses import dataclass

from leads.scoring import PropertySignals, ScoringParams, score

from .compare import TierComparison
from .fit import CalibrationBin, ModelFit, auc, model_fit
from .observations import Observations
from .proposal import (
    ProposedProfile,
    Shortfall,
    indicator_total,
    proposal_build,
    shortfall_of,
    signal_shortfalls,
    weighted_params,
    weights_from_coefficients,
)
from .rates import (
    ScoreBin,
    SignalLift,
    TierRate,
    TierTiming,
    rates_by_decile,
    rates_by_tier,
    signal_lifts,
    time_to_contract,
)
from .signals import signal_weights


@dataclass(frozen=True)
class BacktestResult:
    outcomes: int  # observations used (leads with an outcome and a snapshot before it)
    converted: int
    without_snapshot: int  # leads with an outcome left out: no snapshot before it
    by_tier: tuple[TierRate, ...]
    by_decile: tuple[ScoreBin, ...]
    signals: tuple[SignalLift, ...]
    time_to_contract: tuple[TierTiming, ...]
    active_auc: float | None  # the snapshot totals' AUC; None unless both converted and other leads
    active_weights: dict[str, int]
    shortfall: Shortfall | None  # why there is no proposal (then model and proposal are None)
    model: ModelFit | None
    proposal: ProposedProfile | None

    @property
    def proposed_auc(self) -> float | None:
        return self.model.proposed_auc if self.model else None


def backtest_run(
    *,
    observations: Observations,
    active: ScoringParams,
    population: Iterable[PropertySignals] | None = None,
    random_state: int = 0,
) -> BacktestResult:
    """Rates, lifts and timings of the outcomes; with enough of them a fitted model and a proposed profile.

    `population` (the scored leads' current facts, streamed) is what the proposed tier thresholds keep the
    active tier shares on; without it the outcomes' own snapshots stand in (leads.backtest.proposal).
    """
    items = observations.items
    converted = sum(o.converted for o in items)
    lifts = signal_lifts(items)
    counts = {lift.signal: (lift.n_with, lift.n_without) for lift in lifts}
    shortfall = shortfall_of(converted=converted, not_converted=len(items) - converted, signal_counts=counts)
    model = proposal = None
    if shortfall is None:
        thin = signal_shortfalls(counts)

        def points_for(coefficients: dict[str, float]):
            weights = weights_from_coefficients(coefficients, active)
            return lambda o: indicator_total(o.signals, weights, active)

        fitted = [name for name in counts if name not in thin]
        model = model_fit(items, fitted, random_state=random_state, points_for=points_for)
        weights = weights_from_coefficients(model.coefficients, active)
        if population is None:
            pairs = ((o.tier, indicator_total(o.signals, weights, active)) for o in items)
        else:
            weighted = weighted_params(active, weights)
            pairs = ((score(f, active).tier, score(f, weighted).total) for f in population)
        proposal = proposal_build(active=active, weights=weights, kept=sorted(thin), pairs=pairs)
    return BacktestResult(
        outcomes=len(items),
        converted=converted,
        without_snapshot=observations.without_snapshot,
        by_tier=rates_by_tier(items),
        by_decile=rates_by_decile(items),
        signals=lifts,
        time_to_contract=time_to_contract(items),
        active_auc=auc([o.converted for o in items], [o.total for o in items]),
        active_weights=signal_weights(active),
        shortfall=shortfall,
        model=model,
        proposal=proposal,
    )


def _num(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _calibration(bins: Iterable[CalibrationBin]) -> list[dict]:
    return [
        {
            "low": _num(b.low),
            "high": _num(b.high),
            "leads": b.leads,
            "predicted": _num(b.predicted),
            "observed": _num(b.observed),
        }
        for b in bins
    ]


def backtest_json(result: BacktestResult, *, comparison: TierComparison | None = None) -> dict:
    """The `backtest --json` document: the issue's keys exactly (`outcomes`, `by_tier`, `signals`, `active_auc`,
    `proposed_auc`, `active_weights`, `proposed_weights`) plus more detail under other keys. Rates, lifts and
    AUCs are rounded to 4 decimals; what cannot be computed is null."""
    proposal, model = result.proposal, result.model
    proposed_weights = proposal.weights if proposal else None
    doc = {
        "outcomes": result.outcomes,
        "by_tier": {t.tier: {"leads": t.leads, "won": t.won, "rate": _num(t.rate)} for t in result.by_tier},
        "signals": [
            {
                "signal": s.signal,
                "with_rate": _num(s.with_rate),
                "without_rate": _num(s.without_rate),
                "lift": _num(s.lift),
                "ci_low": _num(s.ci_low),
                "ci_high": _num(s.ci_high),
                "n": s.n_with,
                "label": s.label,
                "won_with": s.won_with,
                "n_without": s.n_without,
                "won_without": s.won_without,
                "corrected": s.corrected,
                "active_weight": result.active_weights[s.signal],
                "proposed_weight": proposed_weights[s.signal] if proposed_weights else None,
            }
            for s in result.signals
        ],
        "active_auc": _num(result.active_auc),
        "proposed_auc": _num(result.proposed_auc),
        "active_weights": result.active_weights,
        "proposed_weights": proposed_weights,
        "proposed_points_auc": _num(model.proposed_points_auc) if model else None,
        "won": result.converted,
        "without_snapshot": result.without_snapshot,
        "by_decile": [
            {"decile": b.index, "low": b.low, "high": b.high, "leads": b.leads, "won": b.won, "rate": _num(b.rate)}
            for b in result.by_decile
        ],
        "time_to_contract": {
            t.tier: {"contracts": t.contracts, "median_days": t.median_days, "q1_days": t.q1_days, "q3_days": t.q3_days}
            for t in result.time_to_contract
        },
        "calibration": {
            "active": _calibration(model.active_calibration) if model else [],
            "proposed": _calibration(model.calibration) if model else [],
        },
        "proposal": _proposal_json(result),
    }
    if comparison is not None:
        doc["tier_changes"] = {
            "leads": comparison.leads,
            "changed": comparison.changed,
            "active_tiers": comparison.active_tiers,
            "proposed_tiers": comparison.proposed_tiers,
            "changes": [
                {"from": c.from_tier, "to": c.to_tier, "leads": c.leads, "examples": list(c.examples)}
                for c in comparison.changes
            ],
        }
    return doc


def _proposal_json(result: BacktestResult) -> dict:
    if result.shortfall is not None:
        s = result.shortfall
        return {
            "status": "insufficient",
            "message": s.message,
            "needs": {"won": s.more_converted, "not_won": s.more_not_converted, "signals": s.more_with_signal},
        }
    model, proposal = result.model, result.proposal
    return {
        "status": "fitted",
        "columns": proposal.columns,
        "parameters": proposal.parameters,
        "kept_active_weight": list(proposal.kept),
        "tier_shares": {t: {"active": _num(a), "proposed": _num(p)} for t, (a, p) in proposal.tier_shares.items()},
        "coefficients": {name: _num(c) for name, c in model.coefficients.items()},
        "intercept": _num(model.intercept),
        "regularisation_c": _num(model.regularisation_c),
        "brier": {"active": _num(model.active_brier), "proposed": _num(model.proposed_brier)},
    }
