"""leads.backtest.rates: conversion by tier and decile, lift with Katz intervals, time to contract (pure)."""

import datetime
import math

import pytest
from scipy.stats.contingency import relative_risk

from leads.backtest.observations import Observation
from leads.backtest.rates import (
    Z95,
    ScoreBin,
    TierRate,
    TierTiming,
    lift_interval,
    quantile_groups,
    rates_by_decile,
    rates_by_tier,
    signal_lifts,
    time_to_contract,
)
from leads.backtest.signals import SIGNALS

DAY = datetime.date(2026, 3, 2)


def obs(lead_id: int, total: int, tier: str, converted: bool, *signals: str, days: int | None = None) -> Observation:
    return Observation(lead_id, DAY, DAY, total, tier, frozenset(signals), converted, days if converted else None)


@pytest.mark.parametrize(("a", "n1", "c", "n0"), [(30, 100, 20, 200), (7, 9, 40, 400), (5, 60, 5, 60), (1, 3, 2, 5)])
def test_lift_and_interval_are_katz_log_method(a, n1, c, n0):
    lift, low, high, corrected = lift_interval(a, n1, c, n0)
    reference = relative_risk(a, n1, c, n0)
    interval = reference.confidence_interval(0.95)
    assert lift == pytest.approx(reference.relative_risk, rel=1e-12)
    assert (low, high) == (pytest.approx(interval.low, rel=1e-9), pytest.approx(interval.high, rel=1e-9))
    assert corrected is False


def test_lift_by_hand():
    lift, low, high, _ = lift_interval(30, 100, 20, 200)
    half = 1.959963984540054 * math.sqrt(1 / 30 - 1 / 100 + 1 / 20 - 1 / 200)
    assert lift == pytest.approx(3.0)
    assert (low, high) == (pytest.approx(3 * math.exp(-half)), pytest.approx(3 * math.exp(half)))
    assert (round(low, 4), round(high, 4)) == (1.7973, 5.0076)
    assert pytest.approx(1.959963984540054) == Z95


def test_a_zero_cell_adds_half_to_every_cell():
    lift, low, high, corrected = lift_interval(0, 50, 10, 100)
    a, n1, c, n0 = 0.5, 51, 10.5, 101
    half = Z95 * math.sqrt(1 / a - 1 / n1 + 1 / c - 1 / n0)
    expected = (a / n1) / (c / n0)
    assert corrected is True
    assert lift == pytest.approx(expected)
    assert (low, high) == (pytest.approx(expected * math.exp(-half)), pytest.approx(expected * math.exp(half)))
    assert low < 1 < high  # none of 50 with it closed against 10 of 100 without: not enough to tell
    assert lift_interval(0, 200, 20, 200)[2] < 1  # none of 200 against 10%: clearly lower
    assert lift_interval(12, 12, 0, 30)[3] is True  # every lead with it closed, none without


@pytest.mark.parametrize(("a", "n1", "c", "n0"), [(0, 0, 5, 50), (5, 50, 0, 0), (0, 20, 0, 30)])
def test_no_lift_without_leads_on_both_sides_or_without_any_conversion(a, n1, c, n0):
    assert lift_interval(a, n1, c, n0) == (None, None, None, False)


def test_rates_by_tier_list_every_tier():
    observations = [obs(1, 80, "A", True), obs(2, 78, "A", False), obs(3, 65, "B", True), obs(4, 10, "D", False)]
    assert rates_by_tier(observations) == (
        TierRate("A", 2, 1, 0.5),
        TierRate("B", 1, 1, 1.0),
        TierRate("C", 0, 0, None),
        TierRate("D", 1, 0, 0.0),
    )


def test_quantile_groups_keep_equal_scores_together():
    values = [0, 50, 0, 10, 0, 20, 0, 30, 0, 40]
    assert quantile_groups(values, 10) == [[0, 2, 4, 6, 8], [3], [5], [7], [9], [1]]
    assert quantile_groups([7] * 4, 10) == [[0, 1, 2, 3]]
    assert quantile_groups([], 10) == []
    assert [len(g) for g in quantile_groups(list(range(100)), 10)] == [10] * 10


def test_rates_by_decile():
    observations = [obs(i, total, "D", i % 2 == 0) for i, total in enumerate([0, 0, 0, 0, 0, 10, 20, 30, 40, 50])]
    assert rates_by_decile(observations) == (
        ScoreBin(1, 0, 0, 5, 3, 0.6),
        ScoreBin(2, 10, 10, 1, 0, 0.0),
        ScoreBin(3, 20, 20, 1, 1, 1.0),
        ScoreBin(4, 30, 30, 1, 0, 0.0),
        ScoreBin(5, 40, 40, 1, 1, 1.0),
        ScoreBin(6, 50, 50, 1, 0, 0.0),
    )


def test_signal_lifts_count_each_side_in_profile_order():
    observations = [
        obs(1, 60, "B", True, "absentee_points", "vacant_points"),
        obs(2, 40, "C", True, "absentee_points"),
        obs(3, 30, "D", False, "absentee_points"),
        obs(4, 20, "D", False),
        obs(5, 20, "D", True, "vacant_points"),
        obs(6, 20, "D", False, "not_a_profile_signal"),
    ]
    lifts = {lift.signal: lift for lift in signal_lifts(observations)}
    assert list(lifts) == list(SIGNALS)
    absentee = lifts["absentee_points"]
    assert (absentee.n_with, absentee.won_with, absentee.n_without, absentee.won_without) == (3, 2, 3, 1)
    assert (absentee.with_rate, absentee.without_rate) == (pytest.approx(2 / 3), pytest.approx(1 / 3))
    assert absentee.lift == pytest.approx(2.0)
    assert absentee.ci_low < 1 < absentee.ci_high  # six leads prove nothing
    assert absentee.label == "Absentee owner"
    unseen = lifts["tax_sale_points"]
    assert (unseen.n_with, unseen.with_rate, unseen.lift, unseen.ci_low, unseen.ci_high) == (0, None, None, None, None)


def test_time_to_contract_by_tier():
    observations = [
        *(obs(i, 80, "A", True, days=d) for i, d in enumerate([10, 20, 30, 40])),
        obs(9, 80, "A", False),
        obs(10, 65, "B", True, days=45),
        obs(11, 65, "B", True),  # converted, date unknown
    ]
    assert time_to_contract(observations) == (
        TierTiming("A", 4, 25.0, 17.5, 32.5),
        TierTiming("B", 1, 45.0, 45.0, 45.0),
        TierTiming("C", 0, None, None, None),
        TierTiming("D", 0, None, None, None),
    )
