"""Scoring outside a transaction on PostgreSQL: chunks read ahead and written on connections of their own while the
caller scores (leads.services.leads_score_all with dealfinder.common.prefetch's WriteBehind). The results must be
those of the inline path, chunk after chunk; elsewhere (SpatiaLite) the same tests run the inline path."""

import functools

import pytest
from django.db import connection

from leads import services
from leads.models import Lead, LeadScoreHistory
from leads.selectors import property_facts_chunks
from leads.services import leads_score_all
from tests.factories import ScoringProfileFactory
from tests.leads.conftest import TODAY
from tests.leads.test_score_service import EXPECTED

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def profile(transactional_db):
    return ScoringProfileFactory(name="Orlando", is_active=True, parameters={"target_zips": ["32805"]})


@pytest.fixture
def small_chunks(monkeypatch):
    """Two properties a chunk: the six of the county fixture make three chunks, read, scored and written apart."""
    monkeypatch.setattr(services, "property_facts_chunks", functools.partial(property_facts_chunks, chunk_size=2))


def test_chunks_read_and_written_apart_give_the_inline_results(county, profile, small_chunks):
    assert services.prefetch_possible() is (connection.vendor == "postgresql")

    summary = leads_score_all(today=TODAY)

    assert (summary.scored, summary.created, summary.changed, summary.unchanged) == (6, 6, 0, 0)
    assert summary.tiers == {"A": 1, "B": 1, "C": 2, "D": 2}
    assert summary.new_tier_a == [Lead.objects.get(property=county["hot"]).pk]
    assert summary.history_written == 6
    leads = {lead.property.parcel_id: lead for lead in Lead.objects.select_related("property")}
    actual = {parcel: (lead.tier, lead.total, lead.stack_count, lead.reasons) for parcel, lead in leads.items()}
    assert actual == EXPECTED
    history = {h.lead.property.parcel_id: (h.snapshot_date, h.tier, h.total) for h in LeadScoreHistory.objects.all()}
    assert history == {parcel: (TODAY, tier, total) for parcel, (tier, total, _, _) in EXPECTED.items()}

    before = sorted(Lead.objects.values_list("id", "updated_at", "scored_at"))
    history_before = sorted(LeadScoreHistory.objects.values_list("id", "updated_at"))
    again = leads_score_all(today=TODAY)
    assert (again.changed, again.created, again.unchanged, again.history_written) == (0, 0, 6, 0)
    assert sorted(Lead.objects.values_list("id", "updated_at", "scored_at")) == before
    assert sorted(LeadScoreHistory.objects.values_list("id", "updated_at")) == history_before


def test_a_failed_write_fails_the_run(county, profile, small_chunks, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "_snapshot_history", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        leads_score_all(today=TODAY)
    # Each chunk lands in its own transaction: the first failed and was rolled back, and the writer stopped there.
    assert LeadScoreHistory.objects.count() == 0
    assert Lead.objects.count() == 0
