"""leads.backtest.proposal: coefficients to weights, tier thresholds, too-few-outcomes (pure)."""

import math
from dataclasses import replace

import pytest

from leads.backtest.proposal import (
    MIN_EACH,
    MIN_SIGNAL_LEADS,
    indicator_total,
    proposal_build,
    shortfall_of,
    tier_thresholds,
    weighted_params,
    weights_from_coefficients,
)
from leads.backtest.signals import SIGNALS, signal_weights
from leads.models import ScoringProfile
from leads.scoring import ScoringParams

P = ScoringParams()
ENOUGH = dict.fromkeys(SIGNALS, (50, 50))


def test_enough_outcomes_and_signals_fit():
    assert shortfall_of(converted=MIN_EACH, not_converted=MIN_EACH, signal_counts=ENOUGH) is None


def test_too_few_converted_says_how_many_more():
    shortfall = shortfall_of(converted=12, not_converted=400, signal_counts=ENOUGH)
    assert (shortfall.converted, shortfall.not_converted) == (12, 400)
    assert (shortfall.more_converted, shortfall.more_not_converted) == (18, 0)
    assert shortfall.message == (
        "Too few outcomes to fit a profile: 12 converted and 400 not converted; it needs at least 30 of each, "
        "so 18 more converted (leads that reached a contract, and leads that went dead)."
    )


def test_too_few_of_both():
    shortfall = shortfall_of(converted=0, not_converted=29, signal_counts=ENOUGH)
    assert (shortfall.more_converted, shortfall.more_not_converted) == (30, 1)
    assert "so 30 more converted and 1 more not converted" in shortfall.message


def test_thin_signals_are_listed_and_no_fit_when_every_signal_is_thin():
    counts = {**dict.fromkeys(SIGNALS, (3, 97)), "absentee_points": (95, 5), "vacant_points": (0, 100)}
    shortfall = shortfall_of(converted=40, not_converted=60, signal_counts=counts)
    assert shortfall.more_with_signal["absentee_points"] == 5  # on nearly every lead: 5 more without it
    assert shortfall.more_with_signal["vacant_points"] == MIN_SIGNAL_LEADS
    assert shortfall.more_with_signal["tax_sale_points"] == 7
    assert (shortfall.more_converted, shortfall.more_not_converted) == (0, 0)
    assert shortfall.message == (
        "Too few outcomes per signal to fit a profile: 40 converted and 60 not converted, but no signal is on at "
        "least 10 leads and off at least 10; the closest needs 5 more."
    )
    assert shortfall_of(converted=40, not_converted=60, signal_counts={**counts, "tax_sale_points": (10, 90)}) is None


def test_weights_are_ten_points_per_doubling_of_the_odds_never_negative_never_over_the_cap():
    weights = weights_from_coefficients(
        {"absentee_points": math.log(2), "vacant_points": -1.2, "target_zip_points": 3.0, "tax_sale_points": 0.03},
        P,
    )
    assert weights["absentee_points"] == 10  # doubles the odds
    assert weights["vacant_points"] == 0  # closed less often: a profile cannot subtract
    assert weights["target_zip_points"] == 15  # 43 points, capped at the location cap
    assert weights["tax_sale_points"] == 0  # 0.43 rounds to 0
    assert weights["auction_points"] == 16  # not fitted: the active weight
    assert (
        weights_from_coefficients({"absentee_points": math.log(4)}, P, points_to_double_odds=20)["absentee_points"]
        == 40
    )


def test_indicator_total_caps_each_component():
    weights = {**signal_weights(P), "absentee_points": 30}
    assert indicator_total({"absentee_points", "tax_sale_points"}, weights, P) == 40  # 46 capped at 40
    assert indicator_total({"absentee_points", "equity_points", "unknown"}, weights, P) == 45
    assert indicator_total(set(), weights, P) == 0


def test_tier_thresholds_keep_the_active_shares():
    # 100 leads: 10 A, 20 B, 30 C, 40 D under the active profile; proposed totals 0..99
    pairs = [("A" if t >= 90 else "B" if t >= 70 else "C" if t >= 40 else "D", t) for t in range(100)]
    (a, b, c), shares = tier_thresholds(pairs)
    assert (a, b, c) == (90, 70, 40)
    assert shares == {"A": (0.1, 0.1), "B": (0.2, 0.2), "C": (0.3, 0.3), "D": (0.4, 0.4)}


def test_tier_thresholds_stay_ordered_on_a_lumpy_population():
    pairs = [("A", 0)] * 5 + [("D", 0)] * 95  # every proposed score the same
    assert tier_thresholds(pairs) == ((3, 2, 1), {"A": (0.05, 0.0), "B": (0, 0.0), "C": (0, 0.0), "D": (0.95, 1.0)})


def test_a_tier_the_population_cannot_fill_stays_within_reach():
    # proposed scores 0, 10 or 20; the active profile put 2% in A and 8% in B: no threshold gives A 2%
    pairs = [("A", 20)] * 2 + [("B", 20)] * 8 + [("C", 20)] * 20 + [("D", 10)] * 30 + [("D", 0)] * 40
    (a, b, c), shares = tier_thresholds(pairs)
    assert (a, b, c) == (23, 22, 20)  # A and B empty but reachable above the best score seen (20)
    assert shares == {"A": (0.02, 0.0), "B": (0.08, 0.0), "C": (0.2, 0.3), "D": (0.7, 0.7)}
    assert tier_thresholds([]) == ((75, 60, 40), {})


def test_a_proposal_is_a_profile_the_admin_accepts_and_loads_back():
    weights = weights_from_coefficients({"absentee_points": 2.0, "event_points": 0.5, "violation_points": 1.0}, P)
    weighted = weighted_params(P, weights)
    proposal = proposal_build(
        active=P, weights=weights, kept=["target_zip_points"], pairs=[("A", 70), ("B", 50), ("C", 30), ("D", 10)]
    )
    assert proposal.columns == {"tier_a_min": 70, "tier_b_min": 50, "tier_c_min": 30}
    assert proposal.params == replace(weighted, tier_a_min=70, tier_b_min=50, tier_c_min=30)
    assert signal_weights(proposal.params) == weights
    assert proposal.parameters["event_points"] == [[30, 7], [60, 5], [120, 3]]
    assert proposal.kept == ("target_zip_points",)
    profile = ScoringProfile(name="Backtest proposal", parameters=proposal.parameters, **proposal.columns)
    profile.clean_fields()
    profile.clean()  # the admin's validation of `parameters`; no database needed


@pytest.mark.parametrize("bad", [{"absentee_points": -1}, {"event_points": 3}])
def test_the_admins_validation_rejects_what_a_proposal_never_contains(bad):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        ScoringProfile(name="x", parameters=bad).clean()
