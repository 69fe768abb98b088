"""Rule-by-rule tests of leads.scoring (pure: no database)."""

from decimal import Decimal

import pytest

from leads.scoring import PropertySignals, ScoringParams, score

P = ScoringParams()


def test_clean_owner_occupied_parcel_scores_value_only_and_is_tier_d():
    result = score(PropertySignals(equity_percent=Decimal("52"), market_value=Decimal("250000")), P)
    assert result.reasons == ["Equity 52% (+15)", "Market value $250,000 in the target band (+5)"]
    assert (result.distress, result.value, result.location_score, result.urgency) == (0, 20, 0, 0)
    assert (result.total, result.tier, result.stack_count) == (20, "D", 0)


def test_nothing_known_scores_zero():
    result = score(PropertySignals(), P)
    assert (result.total, result.tier, result.reasons, result.stack_count) == (0, "D", [], 0)


def test_stacked_distress_with_soon_sale_is_tier_a_and_caps_are_explained():
    signals = PropertySignals(
        has_active_tax_sale=True,
        days_to_tax_sale=12,
        has_foreclosure=True,
        days_to_auction=30,
        foreclosure_filed_days_ago=90,
        open_violations=2,
        is_absentee=True,
        equity_percent=Decimal("52"),
        market_value=Decimal("250000"),
    )
    result = score(signals, P)
    assert result.reasons == [
        "Active tax-deed sale (+16)",
        "Foreclosure auction scheduled (+16)",
        "2 open code violations (+10)",
        "Absentee owner (+6)",
        "Distress capped at 40 (-8)",
        "Equity 52% (+15)",
        "Market value $250,000 in the target band (+5)",
        "Tax-deed sale in 12 days (+10)",
        "Foreclosure auction in 30 days (+10)",
        "Urgency capped at 15 (-5)",
    ]
    assert (result.distress, result.value, result.location_score, result.urgency) == (40, 20, 0, 15)
    assert (result.total, result.tier, result.stack_count) == (75, "A", 4)


@pytest.mark.parametrize(
    ("kwargs", "reason", "stack"),
    [
        ({"has_active_tax_sale": True}, "Active tax-deed sale (+16)", 1),
        ({"has_foreclosure": True, "days_to_auction": 200}, "Foreclosure auction scheduled (+16)", 1),
        ({"has_foreclosure": True}, "Foreclosure filed (+10)", 1),
        ({"open_violations": 1}, "1 open code violation (+8)", 1),
        ({"open_violations": 2}, "2 open code violations (+10)", 1),
        ({"open_violations": 9}, "9 open code violations (+12)", 1),
        ({"tax_delinquent": True}, "Property taxes delinquent (+8)", 1),
        ({"is_absentee": True}, "Absentee owner (+6)", 1),
        ({"is_vacant": True}, "Vacant (+8)", 1),
        ({"price_reductions": 2, "latest_reduction_days_ago": 90}, "2 price reductions (+6)", 1),
    ],
)
def test_each_distress_signal(kwargs, reason, stack):
    result = score(PropertySignals(**kwargs), P)
    assert result.reasons == [reason]
    assert result.distress == result.total == int(reason.rsplit("+", 1)[1].rstrip(")"))
    assert result.stack_count == stack


@pytest.mark.parametrize(
    ("equity", "reasons"),
    [
        ("50", ["Equity 50% (+15)"]),
        ("49.6", ["Equity 50% (+10)"]),
        ("30", ["Equity 30% (+10)"]),
        ("15", ["Equity 15% (+5)"]),
        ("14", []),
    ],
)
def test_equity_bands(equity, reasons):
    assert score(PropertySignals(equity_percent=Decimal(equity)), P).reasons == reasons


@pytest.mark.parametrize(
    ("market", "listed", "reasons", "value"),
    [
        ("500000", "400000", ["Listed 20% below market value (+10)"], 10),
        (
            "200000",
            "180000",
            ["Market value $200,000 in the target band (+5)", "Listed 10% below market value (+5)"],
            10,
        ),
        ("200000", "190000", ["Market value $200,000 in the target band (+5)"], 5),
        ("200000", "250000", ["Market value $200,000 in the target band (+5)"], 5),
        ("50000", None, [], 0),
    ],
)
def test_value_band_and_discount(market, listed, reasons, value):
    signals = PropertySignals(market_value=Decimal(market), list_price=Decimal(listed) if listed else None)
    result = score(signals, P)
    assert (result.reasons, result.value) == (reasons, value)


def test_value_rules_together_reach_exactly_the_cap():
    signals = PropertySignals(
        equity_percent=Decimal("80"), market_value=Decimal("300000"), list_price=Decimal("200000")
    )
    result = score(signals, P)
    assert result.value == 30
    assert result.reasons == [
        "Equity 80% (+15)",
        "Market value $300,000 in the target band (+5)",
        "Listed 33% below market value (+10)",
    ]


def test_location_target_zip_and_buyer_demand():
    params = ScoringParams(target_zips=("32801",))
    result = score(PropertySignals(zip="32801", buyer_demand=4), params)
    assert result.reasons == ["ZIP 32801 is a target area (+10)", "4 cash buyers nearby (+5)"]
    assert result.location_score == 15
    assert score(PropertySignals(zip="32805", buyer_demand=1), params).reasons == ["1 cash buyer nearby (+3)"]
    assert score(PropertySignals(zip="32805", buyer_demand=0), params).reasons == []


@pytest.mark.parametrize(
    ("days", "reason"),
    [
        (0, "Tax-deed sale today (+10)"),
        (1, "Tax-deed sale in 1 day (+10)"),
        (30, "Tax-deed sale in 30 days (+10)"),
        (31, "Tax-deed sale in 31 days (+7)"),
        (60, "Tax-deed sale in 60 days (+7)"),
        (61, "Tax-deed sale in 61 days (+4)"),
        (120, "Tax-deed sale in 120 days (+4)"),
    ],
)
def test_urgency_windows_for_sale(days, reason):
    result = score(PropertySignals(has_active_tax_sale=True, days_to_tax_sale=days), P)
    assert result.reasons == ["Active tax-deed sale (+16)", reason]


def test_no_urgency_for_far_sale_stale_filing_or_old_price_cut():
    signals = PropertySignals(
        has_active_tax_sale=True,
        days_to_tax_sale=121,
        has_foreclosure=True,
        foreclosure_filed_days_ago=61,
        price_reductions=1,
        latest_reduction_days_ago=31,
    )
    assert score(signals, P).urgency == 0


def test_fresh_filing_and_recent_price_cut():
    signals = PropertySignals(
        has_foreclosure=True, foreclosure_filed_days_ago=1, price_reductions=1, latest_reduction_days_ago=0
    )
    result = score(signals, P)
    assert result.reasons == [
        "Foreclosure filed (+10)",
        "1 price reduction (+6)",
        "Foreclosure filed 1 day ago (+3)",
        "Price cut today (+3)",
    ]
    assert (result.distress, result.urgency, result.stack_count) == (16, 6, 2)


@pytest.mark.parametrize(
    ("total", "tier"), [(100, "A"), (75, "A"), (74, "B"), (60, "B"), (59, "C"), (40, "C"), (39, "D")]
)
def test_tier_thresholds(total, tier):
    assert P.tier_for(total) == tier


def test_params_from_mapping_reads_columns_and_json_and_ignores_unknown_keys():
    params = ScoringParams.from_mapping(
        {
            "distress_cap": 30,
            "tier_a_min": 80,
            "target_zips": ["32801", "32805"],
            "event_points": [[7, 12], [30, 4]],
            "repair_base_per_sqft": 20,
        }
    )
    assert params.distress_cap == 30
    assert params.tier_a_min == 80
    assert params.target_zips == ("32801", "32805")
    assert params.event_points == ((7, 12), (30, 4))
    result = score(PropertySignals(has_active_tax_sale=True, days_to_tax_sale=5, zip="32805"), params)
    assert result.reasons == [
        "Active tax-deed sale (+16)",
        "ZIP 32805 is a target area (+10)",
        "Tax-deed sale in 5 days (+12)",
    ]


def test_reasons_always_add_up_to_total():
    signals = PropertySignals(
        has_active_tax_sale=True,
        days_to_tax_sale=3,
        has_foreclosure=True,
        days_to_auction=3,
        foreclosure_filed_days_ago=3,
        open_violations=5,
        tax_delinquent=True,
        is_absentee=True,
        is_vacant=True,
        price_reductions=3,
        latest_reduction_days_ago=2,
        equity_percent=Decimal("90"),
        market_value=Decimal("300000"),
        list_price=Decimal("150000"),
        zip="32801",
        buyer_demand=10,
    )
    result = score(signals, ScoringParams(target_zips=("32801",)))
    assert result.total == 100
    assert result.stack_count == 7
    points = [int(r.rsplit("(", 1)[1].strip(")+")) for r in result.reasons]
    assert sum(points) == 100


def test_an_owner_holding_several_distressed_parcels_earns_the_portfolio_points():
    result = score(PropertySignals(owner_parcels=5, owner_distressed_parcels=3), P)
    assert result.reasons == ["Owner holds 3 distressed parcels of 5 (tired landlord) (+6)"]
    assert (result.distress, result.stack_count) == (6, 0)  # the owner's, not another distress on this parcel


@pytest.mark.parametrize("distressed", [0, 1])
def test_one_distressed_parcel_is_no_portfolio(distressed):
    assert score(PropertySignals(owner_parcels=4, owner_distressed_parcels=distressed), P).reasons == []


def test_the_portfolio_weight_comes_from_the_profile():
    params = ScoringParams.from_mapping({"portfolio_points": 10, "portfolio_min_distressed": 3})
    assert score(PropertySignals(owner_parcels=3, owner_distressed_parcels=2), params).reasons == []
    assert score(PropertySignals(owner_parcels=3, owner_distressed_parcels=3), params).distress == 10
