"""Side by side: which leads change tier when the proposed profile replaces the active one.

Both profiles rescore the leads' facts in memory with leads.scoring.score (the same rules the nightly score
runs), so the comparison says exactly what activating the proposal and rescoring will do to these facts.
Memory stays bounded: counts per (from, to) pair and the first few lead ids of each as examples.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from leads.scoring import PropertySignals, ScoringParams, score

from .signals import TIERS

EXAMPLES = 5


@dataclass(frozen=True)
class TierChange:
    from_tier: str
    to_tier: str
    leads: int
    examples: tuple[int, ...]  # the first lead ids met (in the order the facts came)


@dataclass(frozen=True)
class TierComparison:
    leads: int
    changed: int
    active_tiers: dict[str, int]
    proposed_tiers: dict[str, int]
    changes: tuple[TierChange, ...]  # only pairs that differ, best "from" tier first, then best "to" tier


def tiers_compare(
    *,
    facts: Iterable[tuple[int, PropertySignals]],
    active: ScoringParams,
    proposed: ScoringParams,
    examples: int = EXAMPLES,
) -> TierComparison:
    """Rescore each (lead id, signals) under both profiles and count the tier moves."""
    active_tiers, proposed_tiers = dict.fromkeys(TIERS, 0), dict.fromkeys(TIERS, 0)
    moves: dict[tuple[str, str], list] = {}  # (from, to) -> [count, example ids]
    leads = 0
    for lead_id, signals in facts:
        before, after = score(signals, active).tier, score(signals, proposed).tier
        leads += 1
        active_tiers[before] += 1
        proposed_tiers[after] += 1
        if before != after:
            move = moves.setdefault((before, after), [0, []])
            move[0] += 1
            if len(move[1]) < examples:
                move[1].append(lead_id)
    changes = tuple(
        TierChange(before, after, count, tuple(ids))
        for (before, after), (count, ids) in sorted(
            moves.items(), key=lambda m: (TIERS.index(m[0][0]), TIERS.index(m[0][1]))
        )
    )
    return TierComparison(
        leads=leads,
        changed=sum(change.leads for change in changes),
        active_tiers=active_tiers,
        proposed_tiers=proposed_tiers,
        changes=changes,
    )
