"""leads.backtest.signals: signal names as the profile names them, which ones a lead earned, weights (pure)."""

from dataclasses import fields, replace
from decimal import Decimal

import pytest

from leads.backtest.signals import (
    COMPANIONS,
    SIGNAL_LABELS,
    SIGNALS,
    params_with,
    signal_weights,
    signals_awarded,
    weight_parameters,
)
from leads.backtest.signals import (
    TIERS as BACKTEST_TIERS,
)
from leads.choices import TIERS
from leads.scoring import PropertySignals, ScoringParams, score

P = ScoringParams()


def test_every_points_parameter_of_the_profile_is_a_signal_or_scales_with_one():
    points = {f.name for f in fields(ScoringParams) if f.name.endswith("_points")}
    companions = {name for names in COMPANIONS.values() for name in names}
    assert points == set(SIGNALS) | companions
    assert set(SIGNAL_LABELS) == set(SIGNALS)
    assert BACKTEST_TIERS == TIERS


def test_hot_lead_earns_its_signals_and_only_those():
    hot = PropertySignals(
        has_active_tax_sale=True,
        days_to_tax_sale=12,
        has_foreclosure=True,
        days_to_auction=30,
        foreclosure_filed_days_ago=90,  # outside the 60-day fresh-filing window
        open_violations=2,
        is_absentee=True,
        equity_percent=Decimal("52"),
        market_value=Decimal("250000"),
    )
    assert signals_awarded(hot, P) == {
        "tax_sale_points",
        "auction_points",
        "violation_points",
        "absentee_points",
        "equity_points",
        "value_band_points",
        "event_points",  # both the sale and the auction: counted once
    }


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        (PropertySignals(), set()),
        (
            PropertySignals(has_foreclosure=True, foreclosure_filed_days_ago=20),
            {"foreclosure_filed_points", "fresh_filing_points"},
        ),
        (PropertySignals(tax_delinquent=True, is_vacant=True), {"tax_delinquent_points", "vacant_points"}),
        (
            PropertySignals(
                price_reductions=2,
                latest_reduction_days_ago=10,
                market_value=Decimal("500000"),  # above the value band
                list_price=Decimal("420000"),  # 16% below market
            ),
            {"price_reduction_points", "recent_reduction_points", "discount_points"},
        ),
        (PropertySignals(equity_percent=Decimal("14")), set()),  # below the lowest equity window
        (PropertySignals(buyer_demand=1, zip="32805"), {"buyer_demand_points"}),
        (PropertySignals(has_active_tax_sale=True, days_to_tax_sale=121), {"tax_sale_points"}),  # beyond the windows
    ],
)
def test_signals_awarded_follow_the_scoring_rules(signals, expected):
    assert signals_awarded(signals, P) == expected


def test_a_signal_counts_by_the_profiles_thresholds_even_when_it_is_worth_no_points():
    params = replace(P, target_zips=("32805",), target_zip_points=0, fresh_filing_points=((60, 0),))
    signals = PropertySignals(zip="32805", has_foreclosure=True, foreclosure_filed_days_ago=5)
    assert score(signals, params).location_score == 0
    assert signals_awarded(signals, params) == {"target_zip_points", "foreclosure_filed_points", "fresh_filing_points"}
    assert signals_awarded(PropertySignals(zip="32801"), params) == set()


def test_a_portfolio_worth_no_points_still_counts_and_a_cap_hides_no_signal():
    landlord = PropertySignals(owner_parcels=5, owner_distressed_parcels=3, is_absentee=True)
    free = score(landlord, replace(P, portfolio_points=0))
    assert (free.distress, free.reasons, free.signals) == (
        6,
        ["Absentee owner (+6)"],
        {"portfolio_points", "absentee_points"},
    )
    capped = score(landlord, replace(P, distress_cap=1))
    assert (capped.distress, capped.signals) == (1, {"portfolio_points", "absentee_points"})


def test_weights_are_the_profiles_points_and_a_window_signal_weighs_its_best_window():
    weights = signal_weights(P)
    assert list(weights) == list(SIGNALS)
    assert weights["tax_sale_points"] == 16
    assert weights["equity_points"] == 15
    assert weights["event_points"] == 10
    assert signal_weights(replace(P, discount_points=()))["discount_points"] == 0


def test_weight_parameters_keep_thresholds_and_scale_windows_and_violation_extras():
    parameters = weight_parameters(P, {"violation_points": 16, "event_points": 20, "absentee_points": 3})
    assert parameters == {
        "violation_points": 16,
        "violation_extra_points": 4,
        "violation_max_points": 24,
        "event_points": [[30, 20], [60, 14], [120, 8]],
        "absentee_points": 3,
    }
    assert weight_parameters(P, {"violation_points": 0}) == {
        "violation_points": 0,
        "violation_extra_points": 0,
        "violation_max_points": 0,
    }
    zeroed = replace(P, fresh_filing_points=((60, 0), (90, 0)))
    assert weight_parameters(zeroed, {"fresh_filing_points": 4}) == {"fresh_filing_points": [[60, 4], [90, 4]]}


def test_the_active_weights_written_back_give_the_same_params():
    assert params_with(P, weight_parameters(P, signal_weights(P))) == P
