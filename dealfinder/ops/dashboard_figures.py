"""The dashboard's counting panels, computed once per change of what they count instead of on every view.

The lead counts per tier, the Tier A/B leads not yet (or not since their change) in GoHighLevel, the day's new
Tier A leads and the KPIs per list source and signal stack read every lead, or the history of the day, and cost
hundreds of milliseconds to seconds at a million leads. They are cached under a fingerprint read with one query of
index lookups (the newest lead, property, history day, GoHighLevel link and push, outcome, provenance record and
source change, the change generation, the day): any insert, update or push changes it, so the figures are exact
the moment after a write, and a morning of brokers opening the dashboard between writes reads them from the
cache. Writes that leave no such trace (deletions, owner reassignment, an outcome's fee filled in, any admin
save of these records) bump the change generation.
"""

import datetime
import hashlib

from django.core.cache import cache
from django.db import connection

from dealfinder.common.generations import change_generation
from dealfinder.ops.reports.selectors import report_unsynced_leads
from leads.kpis import kpis_by_signal_stack, kpis_by_source
from leads.models import Lead, LeadScoreHistory, Outcome
from leads.ui_selectors import lead_new_tier_a, lead_summary
from properties.models import DataSource, Property, PropertySource
from sync.models import ExternalLink

# A backstop only (an evicted change counter, a write that forgot to bump it): exactness comes from the key.
FIGURES_TIMEOUT = 15 * 60
# How long one request may hold the turn to compute (longer than a computation at a million leads, about 15 s on
# two cores); a request that dies holding it frees it by this.
COMPUTING_TIMEOUT = 120


def dashboard_figures(*, hot_score: int, today: datetime.date, new_tier_a_limit: int) -> dict:
    """{"summary": lead_summary(...), "unsynced": n, "new_tier_a": [...], "kpis_by_source": [...],
    "kpis_by_stack": [...]} for the dashboard, from the cache when nothing they count has changed since they were
    computed.

    When they have changed, one request at a time computes them; the requests that come meanwhile get the figures
    computed last (a few seconds old) rather than each computing them too: while the nightly chain writes, every
    write changes the key, and a morning of brokers each recomputing the panels at a million leads timed out.
    Only with no earlier figures (a cold cache) does a request wait on its own computation."""
    args = f"{hot_score}:{today.isoformat()}:{new_tier_a_limit}"
    key = f"dashboard:figures:{_fingerprint(hot_score, today, new_tier_a_limit)}"
    figures = cache.get(key)
    if figures is not None:
        return figures
    last, turn = f"dashboard:figures:last:{args}", f"dashboard:figures:computing:{args}"
    if not cache.add(turn, 1, COMPUTING_TIMEOUT):
        previous = cache.get(last)
        if previous is not None:
            return previous
    try:
        figures = {
            "summary": lead_summary(hot_score=hot_score),
            "unsynced": report_unsynced_leads().count(),
            "new_tier_a": lead_new_tier_a(on=today, limit=new_tier_a_limit),
            "kpis_by_source": kpis_by_source(),
            "kpis_by_stack": kpis_by_signal_stack(),
        }
        cache.set_many({key: figures, last: figures}, FIGURES_TIMEOUT)
    finally:
        cache.delete(turn)
    return figures


# (model, column): each maximum is one index lookup (every column is the first of an index).
NEWEST = (
    (Lead, "updated_at"),
    (Lead, "id"),
    (Property, "updated_at"),
    (LeadScoreHistory, "snapshot_date"),
    (ExternalLink, "last_synced_at"),
    (ExternalLink, "id"),
    (Outcome, "id"),
    (PropertySource, "id"),
    (DataSource, "updated_at"),
)


def _fingerprint(*args) -> str:
    q = connection.ops.quote_name
    # Names from the models, no input.
    newest = ", ".join(f"(SELECT MAX({q(column)}) FROM {q(model._meta.db_table)})" for model, column in NEWEST)  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {newest}")
        stamps = (*args, *cursor.fetchone(), change_generation())
    return hashlib.sha256(repr(stamps).encode()).hexdigest()[:32]
