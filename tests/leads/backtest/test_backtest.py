"""leads.backtest end to end on synthetic outcomes (pure: no database)."""

import datetime
import itertools
import json
import subprocess
import sys

import pytest

from leads.backtest import (
    LeadOutcome,
    Snapshot,
    backtest_json,
    backtest_run,
    observations_build,
    signal_weights,
    signals_awarded,
    tiers_compare,
)
from leads.backtest.fit import auc, classifier, indicators
from leads.scoring import PropertySignals, ScoringParams, score
from tests.leads.backtest.synthetic import OUTCOME_DAY, SNAPSHOT_DAY, dataset

P = ScoringParams()
STRONG = "absentee_points"  # the active profile's lightest distress signal (6 points)


@pytest.fixture(scope="module")
def planted():
    outcomes, snapshots, facts = dataset(600, seed=7, strong=STRONG, params=P)
    observations = observations_build(outcomes=outcomes, snapshots=snapshots)
    return observations, facts, backtest_run(observations=observations, active=P, population=facts)


def test_a_planted_signal_stands_out_and_the_proposal_ranks_better(planted):
    _, _, result = planted
    assert result.outcomes == 600 and result.without_snapshot == 0
    assert result.shortfall is None
    lifts = {lift.signal: lift for lift in result.signals}
    strong = lifts[STRONG]
    assert strong.lift > 3
    assert strong.ci_low > 1.5  # the interval excludes 1 by far
    assert result.proposal.weights[STRONG] > result.active_weights[STRONG] == 6
    assert result.proposal.weights[STRONG] == max(result.proposal.weights[s] for s in result.model.signals)
    assert result.model.proposed_auc > result.active_auc + 0.1
    assert result.model.proposed_points_auc > result.active_auc + 0.1  # the profile's rounded points too
    assert result.model.proposed_brier < result.model.active_brier  # and better calibrated
    assert result.proposed_auc == result.model.proposed_auc
    # every other signal is noise: its interval covers 1 or sits close to it
    assert all(lift.ci_low < 1.1 for name, lift in lifts.items() if name != STRONG and lift.lift is not None)
    # never seen: no target zips configured, no owner with several distressed parcels
    assert result.proposal.kept == ("portfolio_points", "target_zip_points")
    assert result.proposal.weights["target_zip_points"] == 10


def test_the_proposed_tiers_keep_the_active_shares_roughly(planted):
    _, _, result = planted
    for tier, (active, proposed) in result.proposal.tier_shares.items():
        assert abs(active - proposed) < 0.1, tier


def test_the_comparison_is_what_rescoring_under_the_proposal_gives(planted):
    _, facts, result = planted
    comparison = tiers_compare(facts=enumerate(facts, start=1), active=P, proposed=result.proposal.params)
    rescored = {(score(f, P).tier, score(f, result.proposal.params).tier) for f in facts}
    assert comparison.leads == 600
    assert comparison.changed == sum(change.leads for change in comparison.changes) > 0
    assert {(c.from_tier, c.to_tier) for c in comparison.changes} == {(a, b) for a, b in rescored if a != b}
    for change in comparison.changes:
        assert 1 <= len(change.examples) <= 5
        for lead_id in change.examples:
            signals = facts[lead_id - 1]
            assert score(signals, P).tier == change.from_tier
            assert score(signals, result.proposal.params).tier == change.to_tier
    assert sum(comparison.proposed_tiers.values()) == sum(comparison.active_tiers.values()) == 600


def test_the_out_of_fold_auc_is_cross_val_predicts(planted):
    from sklearn.model_selection import cross_val_predict

    observations, _, result = planted
    model, folds = classifier(random_state=0)
    x, y = indicators(observations.items, result.model.signals)
    probabilities = cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1]
    assert result.model.proposed_auc == auc(y.tolist(), probabilities.tolist())


def test_the_same_outcomes_give_the_same_result(planted):
    observations, facts, result = planted
    again = backtest_run(observations=observations, active=P, population=facts)
    assert again == result
    assert json.dumps(backtest_json(again)) == json.dumps(backtest_json(result))


def test_the_json_has_the_promised_shape(planted):
    _, facts, result = planted
    comparison = tiers_compare(facts=enumerate(facts, start=1), active=P, proposed=result.proposal.params)
    doc = json.loads(json.dumps(backtest_json(result, comparison=comparison)))
    for key in ("outcomes", "by_tier", "signals", "active_auc", "proposed_auc", "active_weights", "proposed_weights"):
        assert key in doc
    assert doc["outcomes"] == 600
    assert list(doc["by_tier"]) == ["A", "B", "C", "D"]
    assert all(set(row) == {"leads", "won", "rate"} for row in doc["by_tier"].values())
    assert sum(row["leads"] for row in doc["by_tier"].values()) == 600
    assert sum(row["won"] for row in doc["by_tier"].values()) == doc["won"] == result.converted
    required = {"signal", "with_rate", "without_rate", "lift", "ci_low", "ci_high", "n"}
    assert all(required <= set(row) for row in doc["signals"])
    strong = next(row for row in doc["signals"] if row["signal"] == STRONG)
    assert strong["n"] == next(s.n_with for s in result.signals if s.signal == STRONG)
    assert strong["ci_low"] > 1
    assert doc["active_weights"] == signal_weights(P)
    assert set(doc["proposed_weights"]) == set(doc["active_weights"])
    assert doc["proposed_weights"][STRONG] > doc["active_weights"][STRONG]
    assert doc["proposed_auc"] > doc["active_auc"]
    assert doc["proposed_points_auc"] > doc["active_auc"]
    assert doc["proposal"]["status"] == "fitted"
    assert doc["proposal"]["columns"] == result.proposal.columns
    assert doc["tier_changes"]["changed"] == comparison.changed
    assert len(doc["calibration"]["proposed"]) == 10
    assert sum(b["leads"] for b in doc["calibration"]["active"]) == 600


def _null_outcomes() -> tuple[list[LeadOutcome], list[Snapshot]]:
    """Every combination of four signals on 20 leads, exactly 5 of which converted: no signal says anything."""
    outcomes, snapshots = [], []
    lead_id = 0
    for flags in itertools.product((False, True), repeat=4):
        signals = PropertySignals(
            is_absentee=flags[0], is_vacant=flags[1], tax_delinquent=flags[2], price_reductions=int(flags[3])
        )
        result = score(signals, P)
        for i in range(20):
            lead_id += 1
            outcomes.append(LeadOutcome(lead_id, OUTCOME_DAY, converted=i < 5, days_to_contract=30 if i < 5 else None))
            snapshots.append(Snapshot(lead_id, SNAPSHOT_DAY, result.total, result.tier, signals_awarded(signals, P)))
    return outcomes, snapshots


def test_signals_that_say_nothing_have_lift_one_and_get_no_points():
    outcomes, snapshots = _null_outcomes()
    result = backtest_run(observations=observations_build(outcomes=outcomes, snapshots=snapshots), active=P)
    four = ("absentee_points", "vacant_points", "tax_delinquent_points", "price_reduction_points")
    for lift in result.signals:
        if lift.signal in four:
            assert (lift.n_with, lift.won_with, lift.n_without, lift.won_without) == (160, 40, 160, 40)
            assert lift.lift == pytest.approx(1.0)
            assert lift.ci_low < 1 < lift.ci_high
        else:
            assert (lift.n_with, lift.lift) == (0, None)
    assert set(result.model.signals) == set(four)
    assert all(result.proposal.weights[name] == 0 for name in four)
    assert result.proposed_auc < 0.6
    assert result.proposal.weights["tax_sale_points"] == 16  # never seen: the active weight is kept


def test_too_few_outcomes_say_how_many_more_instead_of_fitting():
    outcomes, snapshots, _ = dataset(120, seed=3, strong=STRONG, params=P, base_logit=-3.5, effect=0.5)
    observations = observations_build(outcomes=outcomes, snapshots=snapshots)
    converted = observations.converted
    assert converted < 30
    result = backtest_run(observations=observations, active=P)
    assert result.model is None and result.proposal is None and result.proposed_auc is None
    assert result.shortfall.more_converted == 30 - converted
    assert result.shortfall.message.startswith(f"Too few outcomes to fit a profile: {converted} converted")
    assert result.active_auc is not None  # the active score is still measured
    doc = backtest_json(result)
    assert doc["proposed_auc"] is None and doc["proposed_weights"] is None
    assert doc["proposal"] == {
        "status": "insufficient",
        "message": result.shortfall.message,
        "needs": {"won": 30 - converted, "not_won": 0, "signals": result.shortfall.more_with_signal},
    }
    assert doc["calibration"] == {"active": [], "proposed": []}


def test_no_outcomes_at_all():
    result = backtest_run(observations=observations_build(outcomes=[], snapshots=[]), active=P)
    doc = json.loads(json.dumps(backtest_json(result)))
    assert doc["outcomes"] == 0 and doc["active_auc"] is None and doc["proposed_auc"] is None
    assert doc["by_tier"]["A"] == {"leads": 0, "won": 0, "rate": None}
    assert doc["by_decile"] == []
    assert doc["proposal"]["needs"]["won"] == doc["proposal"]["needs"]["not_won"] == 30


def test_a_snapshot_taken_after_the_outcome_never_reaches_the_backtest():
    """Each converted lead also has a snapshot on and after its outcome day carrying every signal and a score
    of 100 (what a leaky backtest would read); the observations must equal those without these snapshots."""
    outcomes, snapshots, _ = dataset(200, seed=11, strong=STRONG, params=P)
    leaks = [
        Snapshot(
            o.lead_id,
            OUTCOME_DAY + datetime.timedelta(days=delta),
            100,
            "A",
            frozenset({"tax_sale_points", "vacant_points"}),
        )
        for o in outcomes
        if o.converted
        for delta in (0, 1, 30)
    ]
    clean = observations_build(outcomes=outcomes, snapshots=snapshots)
    leaky = observations_build(outcomes=outcomes, snapshots=[*leaks, *snapshots])
    assert leaky == clean
    assert all(o.snapshot_date == SNAPSHOT_DAY for o in leaky.items)


def test_importing_the_backtest_does_not_import_numpy_or_scikit_learn():
    code = (
        "import sys, leads.backtest, leads.backtest.fit\n"
        "print(sorted(m for m in ('numpy', 'scipy', 'sklearn') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)  # noqa: S603
    assert out.stdout.strip() == "[]"
