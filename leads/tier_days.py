"""The per-day tier counts of the score history (LeadTierDay), kept exact by the writes that change it.

Only scoring writes history (today's snapshot, leads.services.leads_score_all) and only folding merged leads
deletes it (leads_fold_merged, every day of the folded leads): each calls `lead_tier_days_refresh(dates=...)`
for the days it touched, which recounts those days from the history's (snapshot_date, tier) index in one
statement per call. The dashboard reads at most a month of these rows instead of a month of history.
"""

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Count

from .models import LeadScoreHistory, LeadTierDay


@transaction.atomic
def lead_tier_days_refresh(*, dates: Iterable[datetime.date]) -> int:
    """Recount these days' leads per tier from the history (days without history keep no rows)."""
    dates = sorted(set(dates))
    if not dates:
        return 0
    counts = (
        LeadScoreHistory.objects.filter(snapshot_date__in=dates)
        .order_by()
        .values_list("snapshot_date", "tier")
        .annotate(n=Count("id"))
    )
    rows = [LeadTierDay(snapshot_date=day, tier=tier, leads=n) for day, tier, n in counts]
    LeadTierDay.objects.filter(snapshot_date__in=dates).delete()
    LeadTierDay.objects.bulk_create(rows)
    return len(rows)
