"""One observation per lead with an outcome: the score snapshot it had before the outcome, and how it ended.

Only a snapshot taken strictly before the outcome date is used: a snapshot on or after that day may already
reflect what happened (a delisting, a redeemed tax sale, a rescore after the status change), so using it
would leak the answer into the backtest. Leads without such a snapshot are left out and counted.

A lead that reached a contract (under contract or closed won) is converted, whatever happened later; its
outcome date is the first day it reached a contract. Any other lead's outcome date is its first outcome.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class LeadOutcome:
    lead_id: int
    outcome_date: datetime.date  # the day the lead reached under contract / closed won, or went dead
    converted: bool  # reached a contract (under contract or closed won)
    days_to_contract: int | None = None  # converted leads: days from the lead's first score to the contract


@dataclass(frozen=True)
class Snapshot:
    lead_id: int
    snapshot_date: datetime.date
    total: int
    tier: str
    signals: frozenset[str]  # signal names as leads.backtest.signals.signals_awarded gives them


@dataclass(frozen=True)
class Observation:
    lead_id: int
    snapshot_date: datetime.date
    outcome_date: datetime.date
    total: int
    tier: str
    signals: frozenset[str]
    converted: bool
    days_to_contract: int | None


@dataclass(frozen=True)
class Observations:
    items: tuple[Observation, ...]
    without_snapshot: int  # leads with an outcome but no snapshot strictly before it (left out)

    @property
    def converted(self) -> int:
        return sum(o.converted for o in self.items)


def _precedence(outcome: LeadOutcome) -> tuple[bool, datetime.date]:
    """The deciding outcome of a lead sorts first: its first contract, else its first outcome."""
    return not outcome.converted, outcome.outcome_date


def observations_build(
    *,
    outcomes: Iterable[LeadOutcome],
    snapshots: Iterable[Snapshot],
    since: datetime.date | None = None,
) -> Observations:
    """Pair each lead's deciding outcome (on or after `since`) with its last snapshot strictly before it.

    `snapshots` may hold any of the leads' snapshots in any order (a selector would send only the last one
    before each outcome); memory stays bounded by the number of outcomes. Observations come in lead id order.
    """
    deciding: dict[int, LeadOutcome] = {}
    for outcome in outcomes:
        held = deciding.get(outcome.lead_id)
        if held is None or _precedence(outcome) < _precedence(held):
            deciding[outcome.lead_id] = outcome
    if since is not None:
        deciding = {lead_id: o for lead_id, o in deciding.items() if o.outcome_date >= since}
    latest: dict[int, Snapshot] = {}
    for snap in snapshots:
        outcome = deciding.get(snap.lead_id)
        if outcome is None or snap.snapshot_date >= outcome.outcome_date:
            continue
        held = latest.get(snap.lead_id)
        if held is None or snap.snapshot_date > held.snapshot_date:
            latest[snap.lead_id] = snap
    items = tuple(
        Observation(
            lead_id=lead_id,
            snapshot_date=snap.snapshot_date,
            outcome_date=deciding[lead_id].outcome_date,
            total=snap.total,
            tier=snap.tier,
            signals=frozenset(snap.signals),
            converted=deciding[lead_id].converted,
            days_to_contract=deciding[lead_id].days_to_contract if deciding[lead_id].converted else None,
        )
        for lead_id, snap in sorted(latest.items())
    )
    return Observations(items=items, without_snapshot=len(deciding) - len(items))
