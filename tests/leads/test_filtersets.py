import datetime

import pytest
from django.contrib.gis.geos import Point

from leads.filtersets import LeadFilterSet
from leads.models import Lead
from tests.factories import (
    BrokerFactory,
    CodeViolationFactory,
    LeadFactory,
    ListingFactory,
    PriceChangeFactory,
    PropertyFactory,
    PropertyMatchFactory,
    PropertySourceFactory,
    TaxSaleFactory,
)

pytestmark = pytest.mark.django_db


def ids(params) -> set[int]:
    fs = LeadFilterSet(params, queryset=Lead.objects.all())
    assert fs.is_valid(), fs.errors
    return set(fs.qs.values_list("pk", flat=True))


@pytest.fixture
def county():
    inside = PropertyFactory(location=Point(-81.38, 28.54, srid=4326), zip="32801", is_absentee=True)
    outside = PropertyFactory(location=Point(-81.20, 28.70, srid=4326), zip="32839")
    a = LeadFactory(property=inside, tier="A", total=88, stack_count=3, mao=150000, arv=260000)
    d = LeadFactory(property=outside, tier="D", total=20, stack_count=0, mao=None, arv=None)
    TaxSaleFactory(property=inside)
    CodeViolationFactory(property=inside)
    CodeViolationFactory(property=outside, closed_at=datetime.date.today())
    listing = ListingFactory(property=outside, list_price=180000)
    PriceChangeFactory(listing=listing, old_price=200000, new_price=180000)
    return a, d


def test_tier_status_score_and_stack(county):
    a, d = county
    assert ids({"tier": ["A"]}) == {a.pk}
    assert ids({"tier": ["A", "D"]}) == {a.pk, d.pk}
    assert ids({"min_score": 50}) == {a.pk}
    assert ids({"max_score": 50}) == {d.pk}
    assert ids({"min_stack": 1}) == {a.pk}
    assert ids({"status": ["new"]}) == {a.pk, d.pk}


def test_distress_types(county):
    a, d = county
    assert ids({"distress": ["tax_sale"]}) == {a.pk}
    assert ids({"distress": ["code_violation"]}) == {a.pk}  # the other one is closed
    assert ids({"distress": ["absentee"]}) == {a.pk}
    assert ids({"distress": ["price_reduction"]}) == {d.pk}
    assert ids({"distress": ["tax_sale", "price_reduction"]}) == set()


def test_money_filters(county):
    a, d = county
    assert ids({"min_mao": 100000}) == {a.pk}
    assert ids({"max_arv": 300000}) == {a.pk}
    assert ids({"max_price": 190000}) == {d.pk}
    assert ids({"min_price": 190000}) == set()


def test_bbox_assignee_matches_source_and_search(county):
    a, d = county
    assert ids({"in_bbox": "-81.40,28.50,-81.30,28.60"}) == {a.pk}
    user = BrokerFactory()
    Lead.objects.filter(pk=d.pk).update(assigned_to=user)
    assert ids({"assigned_to": user.pk}) == {d.pk}
    assert ids({"unassigned": "true"}) == {a.pk}
    PropertyMatchFactory(property=a.property)
    assert ids({"has_matches": "true"}) == {a.pk}
    assert ids({"has_matches": "false"}) == {d.pk}
    provenance = PropertySourceFactory(property=d.property)
    assert ids({"source": provenance.source_id}) == {d.pk}
    assert ids({"q": a.property.parcel_id}) == {a.pk}
    assert ids({"zip": "32839"}) == {d.pk}


def test_bad_bbox_is_a_validation_error(county):
    fs = LeadFilterSet({"in_bbox": "1,2,3"}, queryset=Lead.objects.all())
    assert not fs.is_valid()
    assert fs.errors["in_bbox"] == ["in_bbox must be min_lon,min_lat,max_lon,max_lat"]


def test_ordering_by_score(county):
    a, d = county
    fs = LeadFilterSet({"ordering": "-score"}, queryset=Lead.objects.all())
    assert list(fs.qs.values_list("pk", flat=True)) == [a.pk, d.pk]


@pytest.mark.django_db
def test_leads_by_owner_and_owner_portfolio_size():
    from leads.filtersets import LeadFilterSet
    from leads.models import Lead
    from tests.factories import LeadFactory, OwnerFactory

    mine = [LeadFactory(), LeadFactory()]
    other = LeadFactory()
    owner = OwnerFactory(properties=[lead.property for lead in mine])
    OwnerFactory(properties=[other.property])

    def pks(data):
        return sorted(LeadFilterSet(data, queryset=Lead.objects.all()).qs.values_list("pk", flat=True))

    assert pks({"owner": owner.pk}) == sorted(lead.pk for lead in mine)
    assert pks({"min_owner_properties": 2}) == sorted(lead.pk for lead in mine)


def test_choice_filters_ask_no_distinct_and_repeat_no_lead(db):
    """tier, status, distress and property type filter the lead's own columns or its one property: no row can
    repeat, so no DISTINCT (it sorted every matching lead, all columns, before the first row)."""
    kept = LeadFactory(tier="A", status="new", property=PropertyFactory(is_absentee=True, property_type="sfr"))
    LeadFactory(tier="B", status="new")
    params = {"tier": ["A", "B"], "status": ["new", "contacted"], "distress": ["absentee"], "property_type": ["sfr"]}
    filterset = LeadFilterSet(params, queryset=Lead.objects.all())
    assert filterset.is_valid(), filterset.errors
    assert "DISTINCT" not in str(filterset.qs.query)
    assert list(filterset.qs.values_list("id", flat=True)) == [kept.pk]
