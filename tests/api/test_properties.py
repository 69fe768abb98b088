import datetime

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from properties.models import Property
from tests.api.helpers import walk
from tests.factories import (
    CodeViolationFactory,
    ForeclosureFactory,
    ListingFactory,
    PriceChangeFactory,
    PropertyFactory,
    PropertySourceFactory,
    TaxSaleFactory,
    ValuationFactory,
)

pytestmark = pytest.mark.django_db

CHANGED = datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC)


def parcel_ids(client, params) -> set[str]:
    response = client.get("/api/v1/properties/", params)
    assert response.status_code == 200, response.content
    return {row["parcel_id"] for row in response.json()["results"]}


@pytest.fixture
def downtown():
    return PropertyFactory(parcel_id="A1", location=Point(-81.3789, 28.5384, srid=4326), zip="32801", beds=3)


@pytest.fixture
def suburb():
    return PropertyFactory(parcel_id="B2", location=Point(-81.20, 28.70, srid=4326), zip="32839", beds=2)


def test_detail_carries_every_related_record(acq, downtown):
    sale = TaxSaleFactory(property=downtown, tda_number="2023-4348")
    ForeclosureFactory(property=downtown, case_number="2024-CA-000001-O")
    ValuationFactory(property=downtown, market_value=250000)
    CodeViolationFactory(property=downtown, case_number="CE0000001")
    listing = ListingFactory(property=downtown, list_price=199000)
    PriceChangeFactory(listing=listing, old_price=215000, new_price=199000, changed_at=CHANGED)

    body = acq.get(f"/api/v1/properties/{downtown.pk}/").json()

    assert body["parcel_id"] == "A1"
    assert body["address"] == downtown.address
    assert body["location"] == {"type": "Point", "coordinates": [-81.3789, 28.5384]}
    assert [s["tda_number"] for s in body["tax_sales"]] == ["2023-4348"]
    assert body["tax_sales"][0]["id"] == sale.pk
    assert [f["case_number"] for f in body["foreclosures"]] == ["2024-CA-000001-O"]
    assert [v["market_value"] for v in body["valuations"]] == ["250000.00"]
    assert [c["case_number"] for c in body["code_violations"]] == ["CE0000001"]
    assert body["listings"][0]["list_price"] == "199000.00"
    assert body["listings"][0]["price_changes"] == [
        {"old_price": "215000.00", "new_price": "199000.00", "changed_at": "2026-01-01T22:04:05-05:00"}
    ]


def test_filters(acq, downtown, suburb):
    assert parcel_ids(acq, {"zip": "32839"}) == {"B2"}
    assert parcel_ids(acq, {"q": "a1"}) == {"A1"}
    assert parcel_ids(acq, {"min_beds": 3}) == {"A1"}
    assert parcel_ids(acq, {"in_bbox": "-81.40,28.50,-81.30,28.60"}) == {"A1"}
    provenance = PropertySourceFactory(property=suburb)
    assert parcel_ids(acq, {"source": provenance.source_id}) == {"B2"}


def test_near_filter_uses_miles(acq, downtown, suburb):
    # downtown -> suburb is about 14.7 miles
    assert parcel_ids(acq, {"near": "-81.3789,28.5384", "radius_miles": 1}) == {"A1"}
    assert parcel_ids(acq, {"near": "-81.3789,28.5384", "radius_miles": 14}) == {"A1"}
    assert parcel_ids(acq, {"near": "-81.3789,28.5384", "radius_miles": 16}) == {"A1", "B2"}
    assert parcel_ids(acq, {"near": "-81.2001,28.7001"}) == {"B2"}  # default radius: 1 mile


def test_bad_spatial_params_are_400(acq):
    assert acq.get("/api/v1/properties/", {"in_bbox": "1,2,3"}).json() == {
        "in_bbox": ["in_bbox must be min_lon,min_lat,max_lon,max_lat"]
    }
    assert acq.get("/api/v1/properties/", {"near": "north"}).json() == {"near": ["near must be lon,lat"]}
    assert acq.get("/api/v1/properties/", {"near": "0,0", "radius_miles": 0}).status_code == 400


def test_updated_since(acq, downtown, suburb):
    Property.objects.filter(pk=downtown.pk).update(updated_at=timezone.now() - datetime.timedelta(days=2))
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert parcel_ids(acq, {"updated_since": since}) == {"B2"}


def test_geojson_feature_collection(acq, downtown, suburb):
    body = acq.get("/api/v1/properties/geojson/", {"zip": "32801"}).json()
    assert body["type"] == "FeatureCollection"
    assert body["next"] is None
    [feature] = body["features"]
    assert feature["type"] == "Feature"
    assert feature["id"] == downtown.pk
    assert feature["geometry"] == {"type": "Point", "coordinates": [-81.3789, 28.5384]}
    assert feature["properties"]["parcel_id"] == "A1"
    assert feature["properties"]["address"] == downtown.address


def test_cursor_walks_every_row_once(acq):
    PropertyFactory.create_batch(7)
    expected = sorted(Property.objects.values_list("parcel_id", flat=True))
    rows = walk(acq, "/api/v1/properties/", {"page_size": 3})
    assert [r["parcel_id"] for r in rows] == expected
    newest_first = walk(acq, "/api/v1/properties/", {"page_size": 2, "ordering": "-updated_at"})
    assert sorted(r["parcel_id"] for r in newest_first) == expected
    assert len({f["id"] for f in walk(acq, "/api/v1/properties/geojson/", {"page_size": 2})}) == 7


def test_properties_are_read_only(client_as):
    admin = client_as("Admin")
    prop = PropertyFactory()
    assert admin.post("/api/v1/properties/", {"parcel_id": "X"}, format="json").status_code == 405
    assert admin.patch(f"/api/v1/properties/{prop.pk}/", {"zip": "1"}, format="json").status_code == 405
    assert admin.delete(f"/api/v1/properties/{prop.pk}/").status_code == 405
