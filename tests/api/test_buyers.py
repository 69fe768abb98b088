import datetime

import pytest
from django.utils import timezone

from buyers.models import Buyer, PropertyMatch
from tests.api.helpers import walk
from tests.factories import BuyerFactory, LeadFactory, PropertyMatchFactory

pytestmark = pytest.mark.django_db

SQUARE = [[[-81.4, 28.5], [-81.3, 28.5], [-81.3, 28.6], [-81.4, 28.6], [-81.4, 28.5]]]


def test_create_buyer_with_buy_box_geojson(dispo):
    response = dispo.post(
        "/api/v1/buyers/",
        {
            "first_name": "Cash",
            "last_name": "Carl",
            "email": "carl@example.test",
            "min_price": "50000",
            "max_price": "250000",
            "property_types": ["sfr", "multi"],
            "target_zips": ["32801"],
            "strategies": ["flip", "rental"],
            "target_area": {"type": "Polygon", "coordinates": SQUARE},
            "center": {"type": "Point", "coordinates": [-81.35, 28.55]},
            "radius_miles": "5",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["target_area"] == {"type": "MultiPolygon", "coordinates": [SQUARE]}
    assert body["center"] == {"type": "Point", "coordinates": [-81.35, 28.55]}
    buyer = Buyer.objects.get(pk=body["id"])
    assert buyer.target_area.geom_type == "MultiPolygon"
    assert buyer.target_area.srid == 4326
    assert (buyer.center.x, buyer.center.y) == (-81.35, 28.55)
    assert buyer.property_types == ["sfr", "multi"]
    assert body["ghl_contact_id"] is None


def test_update_and_delete(dispo):
    buyer = BuyerFactory(max_price=300000)
    response = dispo.patch(f"/api/v1/buyers/{buyer.pk}/", {"max_price": "400000", "target_area": None}, format="json")
    assert response.status_code == 200, response.content
    buyer.refresh_from_db()
    assert (buyer.max_price, buyer.target_area) == (400000, None)
    assert dispo.delete(f"/api/v1/buyers/{buyer.pk}/").status_code == 204
    assert not Buyer.objects.exists()


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        ({"min_price": "500", "max_price": "100"}, {"min_price": ["Must not exceed max_price."]}),
        ({"min_year_built": 2000, "max_year_built": 1990}, {"min_year_built": ["Must not exceed max_year_built."]}),
        ({"radius_miles": "0"}, {"radius_miles": ["Ensure this value is greater than or equal to 0.01."]}),
        ({"center": {"type": "Polygon", "coordinates": SQUARE}}, {"center": ["Must be a Point."]}),
        (
            {"center": {"type": "Point", "coordinates": [-81.35, 28.55, 12.0]}},
            {"center": ["The centre must be 2D: longitude, latitude."]},
        ),
        (
            {"target_area": {"type": "Point", "coordinates": [0, 0]}},
            {"target_area": ["Must be a Polygon or MultiPolygon."]},
        ),
        ({"property_types": ["castle"]}, {"property_types": {"0": ['"castle" is not a valid choice.']}}),
        ({"target_zips": ["3280"]}, {"target_zips": {"0": ["This value does not match the required pattern."]}}),
    ],
)
def test_invalid_buy_boxes_are_400(dispo, body, errors):
    response = dispo.post("/api/v1/buyers/", body, format="json")
    assert response.status_code == 400
    assert response.json() == errors
    assert not Buyer.objects.exists()


def test_patch_keeps_ranges_ordered_against_stored_values(dispo):
    buyer = BuyerFactory(min_price=50000, max_price=300000)
    response = dispo.patch(f"/api/v1/buyers/{buyer.pk}/", {"min_price": "350000"}, format="json")
    assert response.json() == {"min_price": ["Must not exceed max_price."]}


def test_buyer_filters(dispo):
    names = {"last_name": "Smith", "company": "Acme", "email": "x@example.test"}
    carl = BuyerFactory(first_name="Carl", cash_buyer=True, **names)
    BuyerFactory(first_name="Nina", cash_buyer=False, is_active=False, **{**names, "email": "y@example.test"})
    ids = [b["id"] for b in dispo.get("/api/v1/buyers/", {"q": "carl"}).json()["results"]]
    assert ids == [carl.pk]
    assert [b["id"] for b in dispo.get("/api/v1/buyers/", {"is_active": "true"}).json()["results"]] == [carl.pk]


def test_matches_list_filter_and_patch_contacted_only(dispo):
    lead = LeadFactory()
    best = PropertyMatchFactory(property=lead.property, score=95)
    low = PropertyMatchFactory(score=71)
    rows = dispo.get("/api/v1/matches/", {"lead": lead.pk}).json()["results"]
    assert [r["id"] for r in rows] == [best.pk]
    assert rows[0]["parcel_id"] == lead.property.parcel_id
    assert rows[0]["buyer_name"] == str(best.buyer)
    assert [r["id"] for r in dispo.get("/api/v1/matches/", {"min_score": 90}).json()["results"]] == [best.pk]

    response = dispo.patch(
        f"/api/v1/matches/{low.pk}/", {"contacted_at": "2026-03-04T05:06:07Z", "score": 100}, format="json"
    )
    assert response.status_code == 200
    low.refresh_from_db()
    assert low.contacted_at == datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC)
    assert low.score == 71
    assert [r["id"] for r in dispo.get("/api/v1/matches/", {"contacted": "true"}).json()["results"]] == [low.pk]
    assert [r["id"] for r in dispo.get("/api/v1/matches/", {"contacted": "false"}).json()["results"]] == [best.pk]
    assert dispo.post("/api/v1/matches/", {}, format="json").status_code == 405
    assert dispo.delete(f"/api/v1/matches/{low.pk}/").status_code == 405


def test_matches_cursor_and_updated_since(dispo):
    matches = PropertyMatchFactory.create_batch(5)
    assert sorted(r["id"] for r in walk(dispo, "/api/v1/matches/", {"page_size": 2})) == sorted(m.pk for m in matches)
    PropertyMatch.objects.exclude(pk=matches[0].pk).update(updated_at=timezone.now() - datetime.timedelta(days=2))
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert [r["id"] for r in dispo.get("/api/v1/matches/", {"updated_since": since}).json()["results"]] == [
        matches[0].pk
    ]
