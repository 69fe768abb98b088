"""LeadTierDay (issue 26): the per-day tier counts the dashboard reads stay equal to a count of the history."""

import pytest
from django.db.models import Count

from leads.models import LeadScoreHistory, LeadTierDay
from leads.services import leads_score_all
from leads.tier_days import lead_tier_days_refresh
from tests import factories as pf
from tests.factories import LeadFactory, LeadScoreHistoryFactory, ScoringProfileFactory
from tests.leads.conftest import TODAY, days


@pytest.fixture
def profile(db):
    return ScoringProfileFactory(name="Orlando", is_active=True, parameters={"target_zips": ["32805"]})


def _counted() -> dict:
    rows = LeadScoreHistory.objects.order_by().values_list("snapshot_date", "tier").annotate(n=Count("id"))
    return {(d, t): n for d, t, n in rows}


def _kept() -> dict:
    return {(r.snapshot_date, r.tier): r.leads for r in LeadTierDay.objects.all()}


def test_scoring_keeps_each_day_s_counts_across_days_and_reruns(county, profile):
    leads_score_all(today=TODAY)
    assert _kept() == _counted() and sum(_kept().values()) == 6
    leads_score_all(today=TODAY)  # the same day again: nothing doubles
    assert _kept() == _counted()
    pf.ForeclosureFactory(property=county["warm"], auction_date=days(20), filing_date=days(-5))
    leads_score_all(today=days(1))
    assert _kept() == _counted()
    assert {t: n for (d, t), n in _kept().items() if d == days(1)} == {"A": 2, "C": 2, "D": 2}


def test_a_partial_rescore_recounts_its_day(county, profile):
    leads_score_all(today=TODAY)
    pf.ForeclosureFactory(property=county["warm"], auction_date=days(20), filing_date=days(-5))
    leads_score_all(today=TODAY, property_ids=[county["warm"].pk])
    assert _kept() == _counted()


def test_folding_merged_leads_recounts_the_days_of_their_history(profile):
    survivor = pf.PropertyFactory(parcel_id="KEEP")
    duplicate = pf.PropertyFactory(parcel_id="DUP", is_active=False, merged_into=survivor)
    kept, folded = LeadFactory(property=survivor), LeadFactory(property=duplicate)
    for lead in (kept, folded):
        LeadScoreHistoryFactory(lead=lead, snapshot_date=days(-3), tier="B")
    lead_tier_days_refresh(dates=[days(-3)])
    assert _kept() == {(days(-3), "B"): 2}
    leads_score_all(today=TODAY)
    assert _kept() == _counted() and _kept()[(days(-3), "B")] == 1


def test_a_day_without_history_keeps_no_rows(db):
    LeadTierDay.objects.create(snapshot_date=days(-9), tier="A", leads=5)
    assert lead_tier_days_refresh(dates=[days(-9)]) == 0
    assert not LeadTierDay.objects.exists()
