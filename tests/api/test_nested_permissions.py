"""Nested property data follows the model permissions admin applies.

Dispositions may view properties and leads but not their tax sales, foreclosures, valuations, code violations or
listings, nor owners' mailing addresses: admin hides those inlines and fields from it, and the API, GeoJSON, map
popups and exports leave them out the same way. A role that may not view properties gets no nested property.
"""

import csv
import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from dealfinder.ops.roles import ACQUISITIONS, DISPOSITIONS
from tests.factories import (
    CodeViolationFactory,
    ForeclosureFactory,
    LeadFactory,
    ListingFactory,
    PropertyFactory,
    PropertyMatchFactory,
    TaxSaleFactory,
    UserFactory,
    ValuationFactory,
)

pytestmark = pytest.mark.django_db

RECORDS = ("tax_sales", "foreclosures", "valuations", "code_violations", "listings")
MAILING = "PO BOX 77, DETROIT, MI 49327"


@pytest.fixture
def distressed(roles):
    prop = PropertyFactory(
        parcel_id="D1", location=Point(-81.3789, 28.5384, srid=4326), owner_mailing_address=MAILING, is_absentee=True
    )
    TaxSaleFactory(property=prop)
    ForeclosureFactory(property=prop)
    ValuationFactory(property=prop)
    CodeViolationFactory(property=prop)
    ListingFactory(property=prop)
    LeadFactory(property=prop, tier="A", total=90)
    return prop


def test_dispositions_gets_no_records_or_mailing_address_in_the_property_api(dispo, acq, distressed):
    seen = dispo.get(f"/api/v1/properties/{distressed.pk}/").json()
    assert [key for key in (*RECORDS, "owner_mailing_address") if key in seen] == []
    assert seen["parcel_id"] == "D1"
    (row,) = dispo.get("/api/v1/properties/").json()["results"]
    assert [key for key in (*RECORDS, "owner_mailing_address") if key in row] == []
    (feature,) = dispo.get("/api/v1/properties/geojson/").json()["features"]
    assert "owner_mailing_address" not in feature["properties"]

    full = acq.get(f"/api/v1/properties/{distressed.pk}/").json()
    assert {key: len(full[key]) for key in RECORDS} == dict.fromkeys(RECORDS, 1)
    assert full["owner_mailing_address"] == MAILING
    (feature,) = acq.get("/api/v1/properties/geojson/").json()["features"]
    assert feature["properties"]["owner_mailing_address"] == MAILING


def test_each_record_kind_follows_its_own_view_permission(user_in, distressed):
    """A role granted some record models sees exactly those (as the admin inlines show exactly those)."""
    user = user_in(DISPOSITIONS)
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_taxsale", "view_listing"]))
    client = APIClient()
    client.force_authenticate(user)
    body = client.get(f"/api/v1/properties/{distressed.pk}/").json()
    assert [key for key in RECORDS if key in body] == ["tax_sales", "listings"]


def test_the_property_admin_hides_the_same_from_dispositions(user_in, distressed):
    for role, shown in ((DISPOSITIONS, False), (ACQUISITIONS, True)):
        user = user_in(role)
        user.is_staff = True
        user.save()
        client = Client()
        client.force_login(user)
        page = client.get(f"/admin/properties/property/{distressed.pk}/change/").content.decode()
        assert (MAILING in page, "Foreclosures" in page, "Tax sales" in page) == (shown, shown, shown), role


def queries(client, url) -> list[str]:
    client.get(url)  # warm the token and permission lookups
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in ctx.captured_queries]


def test_the_property_api_reads_only_the_records_it_shows(dispo, acq, distressed):
    """Records the caller may not view are not even read: one prefetch query per kind the role may view."""
    seen_by_dispositions = queries(dispo, "/api/v1/properties/")
    seen_by_acquisitions = queries(acq, "/api/v1/properties/")
    assert len(seen_by_acquisitions) - len(seen_by_dispositions) == 7  # six kinds, and listings' price changes
    assert not [sql for sql in seen_by_dispositions if "properties_foreclosure" in sql or "properties_taxsale" in sql]


def test_a_role_without_view_property_gets_no_nested_property(distressed):
    """Leads and matches nest their property; a group that may view leads and matches but not properties gets
    the lead or match without it (as admin, which shows no property page to it)."""
    group = Group.objects.create(name="Callers")
    group.permissions.set(Permission.objects.filter(codename__in=["view_lead", "view_propertymatch", "view_buyer"]))
    caller = UserFactory(username="caller")
    caller.groups.add(group)
    PropertyMatchFactory(property=distressed)
    client = APIClient()
    client.force_authenticate(caller)
    (lead,) = client.get("/api/v1/leads/").json()["results"]
    assert "property" not in lead
    (feature,) = client.get("/api/v1/leads/geojson/").json()["features"]
    assert feature["geometry"] is not None  # the point stays: the map shows it to every lead viewer
    assert {"parcel_id", "address", "property_type"} & set(feature["properties"]) == set()
    (match,) = client.get("/api/v1/matches/").json()["results"]
    assert {"parcel_id", "address"} & set(match) == set()
    assert match["buyer_name"]


def test_the_dispositions_map_and_exports_carry_no_record_data(user_in, distressed):
    user = user_in(DISPOSITIONS)
    client = Client()
    client.force_login(user)
    body = client.get("/map/leads.geojson", {"in_bbox": "-81.5,28.4,-81.2,28.7", "zoom": 15}).json()
    (feature,) = body["features"]
    assert set(feature["properties"]) == {
        "id",
        "property_id",
        "tier",
        "score",
        "status",
        "stack",
        "address",
        "reasons",
        "arv",
        "mao",
    }
    square = '{"type":"Polygon","coordinates":[[[-81.5,28.4],[-81.2,28.4],[-81.2,28.7],[-81.5,28.7],[-81.5,28.4]]]}'
    export = client.post("/map/export.csv", {"shape": square})
    header = next(csv.reader(io.StringIO(b"".join(export.streaming_content).decode())))
    assert "owner_mailing_address" not in header
    assert [c for c in header if c.startswith(("tax", "foreclosure", "valuation"))] == []


def test_the_dashboard_lists_auctions_only_to_roles_that_may_view_foreclosures(distressed):
    """Its "sales and auctions" section lists tax sales and foreclosures: it needs both view permissions."""
    group = Group.objects.create(name="Tax desk")
    group.permissions.set(Permission.objects.filter(codename__in=["view_lead", "view_taxsale"]))
    user = UserFactory(username="taxdesk", is_staff=True)
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    response = client.get("/")
    assert response.status_code == 200
    assert "upcoming" not in response.context


def test_the_schema_is_the_same_for_every_role_and_marks_these_fields_optional(dispo, acq):
    schemas = [c.get("/api/schema/", HTTP_ACCEPT="application/json").json() for c in (dispo, acq)]
    assert schemas[0] == schemas[1]
    components = schemas[0]["components"]["schemas"]
    prop = components["Property"]
    assert {*RECORDS, "owner_mailing_address"} <= set(prop["properties"])
    assert {*RECORDS, "owner_mailing_address"} & set(prop["required"]) == set()
    assert prop["properties"]["foreclosures"]["description"] == (
        "Left out unless the caller may view it (properties.view_foreclosure)."
    )
    assert "property" not in components["Lead"]["required"]
