"""The dashboard's counting panels, computed once per change of what they count instead of on every view.

The lead counts per tier, the Tier A/B leads not yet (or not since their change) in GoHighLevel, the day's new
Tier A leads and the KPIs per list source and signal stack read every lead, or the history of the day, and cost
hundreds of milliseconds to seconds at a million leads. They are cached under a fingerprint read with one query of
index lookups (the newest lead, property, history day, GoHighLevel link and push, outcome, provenance record and
source change, the change generation, the day): any insert, update or push changes it, so the figures are exact
the moment after a write, and a morning of brokers opening the dashboard between writes reads them from the
cache. Writes that leave no such trace (deletions, owner reassignment, an outcome's fee filled in, any admin
save of these records) bump the change generation.

The nightly chain's last step computes them (`dashboard_figures_refresh`), so the morning's first view finds
them ready instead of paying for them (about 15 s at a million leads).
"""

import datetime
import hashlib

from django.core.cache import cache
from django.db import connection
from django.utils import timezone

from dealfinder.common.generations import change_generation
from dealfinder.ops.reports.selectors import report_unsynced_leads
from dealfinder.ops.reports.sql import HOT_SCORE
from leads.kpis import kpis_by_signal_stack, kpis_by_source
from leads.models import Lead, LeadScoreHistory, Outcome
from leads.ui_selectors import lead_new_tier_a, lead_summary
from properties.models import DataSource, Property, PropertySource
from sync.models import ExternalLink

NEW_TIER_A_LIMIT = 20
# A backstop only (an evicted change counter, a write that forgot to bump it): exactness comes from the key. A day,
# so the figures the nightly chain computes last serve the morning.
FIGURES_TIMEOUT = 24 * 60 * 60
# How long one request may hold the turn to compute (longer than a computation at a million leads, about 15 s on
# two cores); a request that dies holding it frees it by this.
COMPUTING_TIMEOUT = 120


def dashboard_figures(*, today: datetime.date) -> dict:
    """{"summary": lead_summary(...), "unsynced": n, "new_tier_a": [...], "kpis_by_source": [...],
    "kpis_by_stack": [...]} for the dashboard, from the cache when nothing they count has changed since they were
    computed.

    When they have changed, one request at a time computes them; the requests that come meanwhile get the figures
    computed last (a few seconds old) rather than each computing them too: while the nightly chain writes, every
    write changes the key, and a morning of brokers each recomputing the panels at a million leads timed out.
    Only with no earlier figures (a cold cache) does a request wait on its own computation."""
    key, last, turn = figures_keys(today)
    figures = cache.get(key)
    if figures is not None:
        return figures
    if not cache.add(turn, 1, COMPUTING_TIMEOUT):
        previous = cache.get(last)
        if previous is not None:
            return previous
    try:
        return _compute(today, key, last)
    finally:
        cache.delete(turn)


def dashboard_figures_refresh() -> dict:
    """The nightly chain's last step: today's figures computed and cached (the morning's first view reads them).
    The lead count and the KPI rows computed, as the step's counts."""
    today = timezone.localdate()
    key, last, _ = figures_keys(today)
    figures = _compute(today, key, last)
    return {
        "leads": figures["summary"]["leads"],
        "kpi_sources": len(figures["kpis_by_source"]),
        "kpi_stacks": len(figures["kpis_by_stack"]),
    }


def _compute(today: datetime.date, key: str, last: str) -> dict:
    figures = {
        "summary": lead_summary(hot_score=HOT_SCORE),
        "unsynced": report_unsynced_leads().count(),
        "new_tier_a": lead_new_tier_a(on=today, limit=NEW_TIER_A_LIMIT),
        "kpis_by_source": kpis_by_source(),
        "kpis_by_stack": kpis_by_signal_stack(),
    }
    cache.set_many({key: figures, last: figures}, FIGURES_TIMEOUT)
    return figures


def figures_keys(today: datetime.date) -> tuple[str, str, str]:
    """The cache keys for `today`'s figures: exact (under the fingerprint), the last computed, the turn to compute."""
    day = today.isoformat()
    return (f"dashboard:figures:{_fingerprint(HOT_SCORE, NEW_TIER_A_LIMIT, day)}", f"dashboard:figures:last:{day}",
            f"dashboard:figures:computing:{day}")  # fmt: skip


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
