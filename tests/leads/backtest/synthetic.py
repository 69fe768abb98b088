"""Synthetic outcomes for the backtest tests: random but seeded property facts scored by the real rules."""

import datetime
import math
import random
from decimal import Decimal

from leads.backtest.observations import LeadOutcome, Snapshot
from leads.backtest.signals import signals_awarded
from leads.scoring import PropertySignals, ScoringParams, score

OUTCOME_DAY = datetime.date(2026, 3, 2)
SNAPSHOT_DAY = OUTCOME_DAY - datetime.timedelta(days=10)


def random_facts(rng: random.Random) -> PropertySignals:
    foreclosure = rng.random() < 0.2
    reductions = rng.randint(1, 3) if rng.random() < 0.15 else 0
    market_value = Decimal(rng.randrange(50_000, 500_000, 1_000))
    return PropertySignals(
        has_active_tax_sale=(tax_sale := rng.random() < 0.2),
        days_to_tax_sale=rng.randint(1, 200) if tax_sale else None,
        has_foreclosure=foreclosure,
        days_to_auction=rng.randint(1, 150) if foreclosure and rng.random() < 0.5 else None,
        foreclosure_filed_days_ago=rng.randint(1, 300) if foreclosure else None,
        open_violations=rng.choice((0, 0, 0, 1, 2)),
        tax_delinquent=rng.random() < 0.25,
        is_absentee=rng.random() < 0.35,
        is_vacant=rng.random() < 0.15,
        price_reductions=reductions,
        latest_reduction_days_ago=rng.randint(1, 120) if reductions else None,
        equity_percent=Decimal(rng.randint(0, 80)) if rng.random() < 0.8 else None,
        market_value=market_value,
        list_price=market_value * Decimal(rng.choice(("0.75", "0.85", "0.95", "1.05"))) if reductions else None,
        zip=rng.choice(("32801", "32805", "32808")),
        buyer_demand=rng.randint(0, 4),
    )


def dataset(
    n: int, *, seed: int, strong: str | None, params: ScoringParams, base_logit: float = -2.4, effect: float = 2.2
) -> tuple[list[LeadOutcome], list[Snapshot], list[PropertySignals]]:
    """`n` leads with one outcome each and one snapshot 10 days before it; a lead converts with probability
    logistic(base_logit + effect if it has the `strong` signal), so no other signal matters."""
    rng = random.Random(seed)
    outcomes, snapshots, facts = [], [], []
    for lead_id in range(1, n + 1):
        signals = random_facts(rng)
        result, names = score(signals, params), signals_awarded(signals, params)
        logit = base_logit + (effect if strong in names else 0.0)
        converted = rng.random() < 1 / (1 + math.exp(-logit))
        outcomes.append(LeadOutcome(lead_id, OUTCOME_DAY, converted, rng.randint(5, 90) if converted else None))
        snapshots.append(Snapshot(lead_id, SNAPSHOT_DAY, result.total, result.tier, names))
        facts.append(signals)
    return outcomes, snapshots, facts
