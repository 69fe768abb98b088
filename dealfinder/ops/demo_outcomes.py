"""Demo outcomes: a quarter of history in which one signal predicts closing strongly, to try the backtest on.

The leads are scored as of `DAYS_AGO` days back (a real score snapshot that day), then get outcomes dated after
it, chosen deterministically from the lead id: leads with the planted signal reach a contract about 60% of the
time, the others about 10%; the rest go dead with a reason. Then everything is rescored today. Running it again
records nothing twice (an outcome is unique per lead, kind and day; leads already decided are left alone).
"""

import datetime
import hashlib

from django.utils import timezone

from dealfinder.ops.scoring import leads_score
from leads.choices import LeadStatus
from leads.models import Lead, Outcome
from leads.services import lead_bulk_change_status

DAYS_AGO = 90
SIGNAL = "absentee_points"
RATE_WITH, RATE_WITHOUT = 0.6, 0.1
DEAD_REASONS = (Outcome.Reason.NO_ANSWER, Outcome.Reason.NOT_MOTIVATED, Outcome.Reason.PRICE, Outcome.Reason.LISTED)


def _draw(lead_id: int) -> float:
    """A stable number in [0, 1) per lead (the same on every run and every machine)."""
    return int(hashlib.sha256(str(lead_id).encode()).hexdigest()[:8], 16) / 2**32


def demo_outcomes_plant(*, signal: str = SIGNAL, today: datetime.date | None = None) -> dict[str, int]:
    """Score as of DAYS_AGO, plant outcomes on the leads still undecided, rescore today; counts per outcome."""
    today = today or timezone.localdate()
    then = today - datetime.timedelta(days=DAYS_AGO)
    leads_score(today=then)
    undecided = Lead.objects.filter(outcomes__isnull=True).exclude(status__in=[s.value for s in Outcome.Kind])
    won, dead = [], {reason: [] for reason in DEAD_REASONS}
    for lead_id, signals in undecided.values_list("id", "signals").iterator():
        draw = _draw(lead_id)
        if draw < (RATE_WITH if signal in signals.split() else RATE_WITHOUT):
            won.append(lead_id)
        else:
            dead[DEAD_REASONS[int(draw * 1000) % len(DEAD_REASONS)]].append(lead_id)
    on = today - datetime.timedelta(days=DAYS_AGO // 3)
    note = "Demo outcome"
    counts = {"won": 0, "dead": 0}
    for lead_ids, status, key in (
        (won, LeadStatus.CLOSED_WON, "won"),
        ([i for ids in dead.values() for i in ids], LeadStatus.DEAD, "dead"),
    ):
        counts[key] = lead_bulk_change_status(
            leads=Lead.objects.filter(id__in=lead_ids), status=status, actor=None, note=note, source="import", on=on
        )
    for reason, lead_ids in dead.items():
        Outcome.objects.filter(lead_id__in=lead_ids, kind=LeadStatus.DEAD, reason="").update(reason=reason)
    Outcome.objects.filter(lead_id__in=won, kind=LeadStatus.CLOSED_WON, fee__isnull=True).update(fee=10_000)
    leads_score(today=today)
    return counts
