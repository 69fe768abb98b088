"""GET /api/v1/owners/ and /api/v1/owners/{id}/: owners with their parcels, lead tiers and scores, indicators."""

import pytest

from dealfinder.ops.roles import ACQUISITIONS, DISPOSITIONS
from properties.owner_services import owners_resolve
from tests.factories import CodeViolationFactory, LeadFactory, PropertyFactory

pytestmark = pytest.mark.django_db

BOX = "PO BOX 500, TAMPA, FL 33601"


@pytest.fixture
def portfolio():
    a = LeadFactory(tier="A", total=81, property__owner_name="SMITH JOHN A", property__owner_mailing_address=BOX)
    b = LeadFactory(tier="C", total=44, property__owner_name="John A. Smith", property__owner_mailing_address=BOX)
    c = PropertyFactory(owner_name="SMITH, JOHN A", owner_mailing_address=BOX)  # no lead yet
    CodeViolationFactory(property=a.property, closed_at=None)
    PropertyFactory(owner_name="SMITH JOHN B", owner_mailing_address="9 OAK AVE, ATLANTA, GA 30301")
    PropertyFactory(owner_name="ACME HOLDINGS LLC", owner_mailing_address="1 CORPORATE BLVD, WILMINGTON, DE 19801")
    owners_resolve()
    a.property.refresh_from_db()
    return a, b, c


def test_owner_detail_shows_its_parcels_with_lead_tier_and_score(client_as, portfolio):
    a, b, c = portfolio
    body = client_as(ACQUISITIONS).get(f"/api/v1/owners/{a.property.owner_id}/").json()

    assert {
        k: body[k]
        for k in (
            "display_name",
            "kind",
            "property_count",
            "distressed_count",
            "is_corporate",
            "is_out_of_state",
            "mailing_address",
        )
    } == {
        "display_name": "John A Smith",
        "kind": "individual",
        "property_count": 3,
        "distressed_count": 1,
        "is_corporate": False,
        "is_out_of_state": False,
        "mailing_address": "PO BOX 500, TAMPA, FL 33601",
    }
    parcels = {p["parcel_id"]: (p["lead_id"], p["lead_tier"], p["lead_score"]) for p in body["parcels"]}
    assert parcels == {
        a.property.parcel_id: (a.pk, "A", 81),
        b.property.parcel_id: (b.pk, "C", 44),
        c.parcel_id: (None, None, None),
    }
    assert sorted(body["name_forms"]) == ["John A. Smith", "SMITH JOHN A", "SMITH, JOHN A"]
    assert body["explanation"]


def test_owner_filters(client_as, portfolio):
    client = client_as(ACQUISITIONS)

    def names(query):
        return sorted(o["display_name"] for o in client.get(f"/api/v1/owners/?{query}").json()["results"])

    assert names("") == ["Acme Holdings LLC", "John A Smith", "John B Smith"]
    assert names("min_properties=2") == ["John A Smith"]
    assert names("min_distressed=1") == ["John A Smith"]
    assert names("is_corporate=true") == ["Acme Holdings LLC"]
    assert names("is_out_of_state=true") == ["Acme Holdings LLC", "John B Smith"]
    assert names("q=acme") == ["Acme Holdings LLC"]
    assert names(f"q={portfolio[2].parcel_id}") == ["John A Smith"]
    assert client.get("/api/v1/owners/?min_properties=-1").status_code == 400


def test_mailing_address_only_for_roles_that_reach_owners(client_as, portfolio):
    owner_id = portfolio[0].property.owner_id
    body = client_as(DISPOSITIONS).get(f"/api/v1/owners/{owner_id}/").json()
    assert "mailing_address" not in body
    assert body["property_count"] == 3


def test_owners_need_a_login(client, portfolio):
    assert client.get("/api/v1/owners/").status_code == 401
