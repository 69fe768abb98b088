"""The owner page in admin: parcels, distress, equity, the portfolio map, why grouped; merge and split kept."""

import pytest
from django.urls import reverse

from properties import models as m
from properties.owner_services import owners_resolve
from tests.factories import CodeViolationFactory, LeadFactory, PropertyFactory, ValuationFactory

pytestmark = pytest.mark.django_db

BOX = "PO BOX 500, TAMPA, FL 33601"


@pytest.fixture
def john():
    a = LeadFactory(tier="A", total=81, property__owner_name="SMITH JOHN A", property__owner_mailing_address=BOX)
    b = PropertyFactory(owner_name="John A. Smith", owner_mailing_address=BOX)
    ValuationFactory(property=a.property, tax_year=2025, market_value=200000, equity_percent=50)
    ValuationFactory(property=b, tax_year=2025, market_value=100000, equity_percent=100)
    CodeViolationFactory(property=b, closed_at=None)
    owners_resolve()
    return m.Owner.objects.get()


def test_the_owner_page_shows_the_portfolio(admin_client, john):
    page = admin_client.get(reverse("admin:properties_owner_change", args=[john.pk])).content.decode()
    assert "John A Smith" in page
    assert "$200,000" in page  # 100,000 + 100,000 of equity
    assert "A 81" in page  # the lead's tier and score on its parcel
    assert "portfolio_map" in page  # the small map
    assert "SMITH, JOHN A" in page or "SMITH JOHN A" in page  # names seen
    assert "2 records" in page or "records as" in page  # why grouped
    listing = admin_client.get(reverse("admin:properties_owner_changelist") + "?is_corporate__exact=0").content
    assert b"John A Smith" in listing


def test_merge_and_split_actions_are_kept(admin_client, john):
    other = PropertyFactory(owner_name="SMITH JOHN A", owner_mailing_address="9 OAK AVE, ATLANTA, GA 30301")
    owners_resolve()
    url = reverse("admin:properties_owner_changelist")
    ids = list(m.Owner.objects.values_list("pk", flat=True))
    admin_client.post(url, {"action": "merge_owners", "_selected_action": ids})
    assert m.Owner.objects.filter(property_count=3).count() == 1
    assert m.OwnerCorrection.objects.get().kind == "merge"

    owner = m.Property.objects.get(pk=other.pk).owner
    admin_client.post(url, {"action": "split_parcels_off", "_selected_action": [owner.pk]})
    assert sorted(m.Owner.objects.filter(property_count__gt=0).values_list("property_count", flat=True)) == [1, 1, 1]
    owners_resolve()  # a re-run (as every night) keeps it
    assert sorted(m.Owner.objects.filter(property_count__gt=0).values_list("property_count", flat=True)) == [1, 1, 1]


def test_a_correction_naming_no_parcel_is_refused_in_the_form(admin_client, john):
    url = reverse("admin:properties_ownercorrection_add")
    response = admin_client.post(url, {"kind": "merge", "record_id": "NOPE", "other_record_id": "", "note": ""})
    assert response.status_code == 200
    assert "A merge or a split names two parcels." in response.content.decode()
    parcel = m.Property.objects.order_by("parcel_id").first().parcel_id
    response = admin_client.post(url, {"kind": "assign", "record_id": parcel, "other_record_id": "", "note": "sold"})
    assert response.status_code == 302
    assert m.OwnerCorrection.objects.get().status == "applied"
    assert m.Owner.objects.filter(property_count=1).count() == 2


def test_the_owner_page_counts_the_other_owners_of_the_same_name(admin_client, john):
    PropertyFactory(owner_name="SMITH JOHN A", owner_mailing_address="9 OAK AVE, ATLANTA, GA 30301")
    PropertyFactory(owner_name="SMITH JOHN A", owner_mailing_address="1 ELM ST, MIAMI, FL 33101")
    owners_resolve()
    first = owners_resolve()  # nothing moved: nothing is rewritten
    assert first.written == 0
    john = m.Owner.objects.get(pk=john.pk)
    page = admin_client.get(reverse("admin:properties_owner_change", args=[john.pk])).content.decode()
    assert '?canonical_name=SMITH%2C+JOHN+A">2 other owners</a>' in page
    listing = admin_client.get(reverse("admin:properties_owner_changelist") + "?canonical_name=SMITH%2C+JOHN+A")
    assert listing.status_code == 200 and listing.context["cl"].result_count == 3

    PropertyFactory(owner_name="SMITH JOHN A", owner_mailing_address="5 BAY RD, TAMPA, FL 33602")
    again = owners_resolve()  # a new owner of the same name: the others' rows stay as they are
    assert (again.written, again.parcels_changed) == (1, 1)


def test_deleting_corrections_in_admin_gives_the_automatic_grouping_back(admin_client, john):
    parcels = list(m.Property.objects.order_by("parcel_id").values_list("parcel_id", flat=True))
    add = reverse("admin:properties_ownercorrection_add")
    for parcel in parcels:  # each parcel an owner of its own
        admin_client.post(add, {"kind": "assign", "record_id": parcel, "other_record_id": "", "note": ""})
    assert m.Owner.objects.filter(property_count=1).count() == 2
    first = m.OwnerCorrection.objects.order_by("pk").first()

    delete = reverse("admin:properties_ownercorrection_delete", args=[first.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert m.OwnerCorrection.objects.count() == 1 and m.Owner.objects.filter(property_count=1).count() == 2

    changelist = reverse("admin:properties_ownercorrection_changelist")
    ids = list(m.OwnerCorrection.objects.values_list("pk", flat=True))
    admin_client.post(changelist, {"action": "delete_selected", "_selected_action": ids, "post": "yes"})
    assert not m.OwnerCorrection.objects.exists()
    assert m.Property.objects.get(parcel_id=parcels[0]).owner.property_count == 2  # one owner again
