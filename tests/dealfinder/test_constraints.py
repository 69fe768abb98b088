"""The database itself enforces the domain's invariants."""

import datetime

import pytest
from django.db import IntegrityError, transaction

from leads.models import Lead, LeadScoreHistory, ScoringProfile
from tests.factories import (
    BuyerFactory,
    CodeViolationFactory,
    DataSourceFactory,
    LeadFactory,
    LeadScoreHistoryFactory,
    PropertyFactory,
    PropertyMatchFactory,
    ScoringProfileFactory,
)

pytestmark = pytest.mark.django_db


def raises_integrity(fn):
    with pytest.raises(IntegrityError), transaction.atomic():
        fn()


def test_parcel_id_is_unique():
    PropertyFactory(parcel_id="292228885002050")
    raises_integrity(lambda: PropertyFactory(parcel_id="292228885002050"))


def test_one_history_row_per_lead_per_day():
    row = LeadScoreHistoryFactory(snapshot_date=datetime.date(2026, 11, 1))
    raises_integrity(lambda: LeadScoreHistory.objects.create(lead=row.lead, snapshot_date=row.snapshot_date))


def test_one_match_per_property_and_buyer():
    match = PropertyMatchFactory()
    raises_integrity(lambda: PropertyMatchFactory(property=match.property, buyer=match.buyer))


def test_violation_case_number_unique_per_source():
    violation = CodeViolationFactory(case_number="CE2024-0001")
    raises_integrity(lambda: CodeViolationFactory(source=violation.source, case_number="CE2024-0001"))
    # The same case number from another source is a different record.
    CodeViolationFactory(source=DataSourceFactory(slug="other-city"), case_number="CE2024-0001")


@pytest.mark.parametrize("field", ["distress", "value", "location_score", "urgency", "total"])
def test_lead_scores_stay_within_0_100(field):
    lead = LeadFactory()
    raises_integrity(lambda: Lead.objects.filter(pk=lead.pk).update(**{field: 101}))


def test_lead_tier_is_a_to_d():
    lead = LeadFactory()
    raises_integrity(lambda: Lead.objects.filter(pk=lead.pk).update(tier="E"))
    raises_integrity(lambda: LeadScoreHistoryFactory(lead=lead, tier="Z"))


def test_match_score_stays_within_0_100():
    raises_integrity(lambda: PropertyMatchFactory(score=150))


def test_only_one_active_scoring_profile():
    ScoringProfileFactory(name="Default", is_active=True)
    ScoringProfileFactory(name="Draft", is_active=False)
    raises_integrity(lambda: ScoringProfileFactory(name="Aggressive", is_active=True))
    assert ScoringProfile.objects.filter(is_active=True).count() == 1


def test_scoring_profile_tiers_must_be_ordered():
    raises_integrity(lambda: ScoringProfileFactory(name="Broken", tier_a_min=50, tier_b_min=60))


def test_buyer_price_range_ordered():
    raises_integrity(lambda: BuyerFactory(min_price=300000, max_price=100000))


def test_lead_is_one_per_property():
    lead = LeadFactory()
    raises_integrity(lambda: LeadFactory(property=lead.property))


def test_soft_delete_keeps_the_row():
    prop = PropertyFactory()
    prop.is_active = False
    prop.save()
    assert PropertyFactory._meta.model.objects.filter(pk=prop.pk, is_active=False).exists()
