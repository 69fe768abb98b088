"""leads.backtest.observations: the snapshot a lead had before its outcome, never one after (pure)."""

import datetime

from leads.backtest.observations import LeadOutcome, Observation, Snapshot, observations_build

DAY = datetime.date(2026, 3, 2)


def day(n: int) -> datetime.date:
    return DAY + datetime.timedelta(days=n)


def snap(lead_id: int, n: int, total: int, tier: str, *signals: str) -> Snapshot:
    return Snapshot(lead_id, day(n), total, tier, frozenset(signals))


def test_the_last_snapshot_strictly_before_the_outcome_is_used_never_one_on_or_after_it():
    outcomes = [LeadOutcome(1, DAY, converted=True, days_to_contract=30)]
    snapshots = [
        snap(1, -30, 20, "D"),
        snap(1, 1, 95, "A", "tax_sale_points", "auction_points"),  # after: leaks the answer
        snap(1, -1, 42, "C", "absentee_points"),  # the one
        snap(1, 0, 90, "A", "tax_sale_points"),  # the outcome day: may already reflect it
        snap(1, -2, 41, "C"),
    ]
    result = observations_build(outcomes=outcomes, snapshots=snapshots)
    assert result.items == (
        Observation(1, day(-1), DAY, 42, "C", frozenset({"absentee_points"}), converted=True, days_to_contract=30),
    )
    assert result.without_snapshot == 0


def test_leads_with_only_later_snapshots_or_none_are_left_out_and_counted():
    outcomes = [
        LeadOutcome(1, DAY, converted=False),
        LeadOutcome(2, DAY, converted=True, days_to_contract=12),  # scored only after its contract
        LeadOutcome(3, DAY, converted=False),  # never scored
    ]
    snapshots = [snap(1, -5, 30, "D"), snap(2, 0, 80, "A"), snap(2, 3, 80, "A"), snap(4, -5, 70, "B")]
    result = observations_build(outcomes=outcomes, snapshots=snapshots)
    assert [o.lead_id for o in result.items] == [1]
    assert result.without_snapshot == 2
    assert result.converted == 0


def test_a_lead_that_reached_a_contract_is_converted_as_of_its_first_contract():
    outcomes = [
        LeadOutcome(1, day(-20), converted=False),  # went dead, came back
        LeadOutcome(1, day(10), converted=True, days_to_contract=40),  # closed later
        LeadOutcome(1, day(0), converted=True, days_to_contract=30),  # first contract
        LeadOutcome(2, day(5), converted=False),
        LeadOutcome(2, day(-3), converted=False),  # first outcome decides
    ]
    snapshots = [
        snap(1, -25, 10, "D"),
        snap(1, -1, 50, "C"),
        snap(1, 5, 70, "B"),
        snap(2, -4, 20, "D"),
        snap(2, 1, 60, "B"),
    ]
    result = observations_build(outcomes=outcomes, snapshots=snapshots)
    assert [(o.lead_id, o.outcome_date, o.snapshot_date, o.converted, o.days_to_contract) for o in result.items] == [
        (1, day(0), day(-1), True, 30),
        (2, day(-3), day(-4), False, None),
    ]


def test_since_keeps_outcomes_from_that_day_on():
    outcomes = [LeadOutcome(1, day(-1), converted=True, days_to_contract=3), LeadOutcome(2, day(0), converted=False)]
    snapshots = [snap(1, -10, 50, "C"), snap(2, -10, 50, "C")]
    result = observations_build(outcomes=outcomes, snapshots=snapshots, since=DAY)
    assert [o.lead_id for o in result.items] == [2]
    assert result.without_snapshot == 0


def test_days_to_contract_is_dropped_for_leads_that_did_not_convert():
    result = observations_build(
        outcomes=[LeadOutcome(1, DAY, converted=False, days_to_contract=9)], snapshots=[snap(1, -1, 5, "D")]
    )
    assert result.items[0].days_to_contract is None
