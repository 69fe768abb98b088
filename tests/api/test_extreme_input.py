"""Out-of-range numbers in filters and ids are a 400 or an empty answer, never a database overflow."""

import pytest

from dealfinder.ops.roles import ADMIN
from tests.factories import LeadFactory, PropertyMatchFactory

pytestmark = pytest.mark.django_db

EXTREMES = ["99999999999999999999999", "-1e200", "1e-200", "12345678901234567.5", "NaN"]
PARAMS = {
    "/api/v1/leads/": [
        "min_score",
        "max_score",
        "min_stack",
        "min_arv",
        "max_arv",
        "min_mao",
        "max_mao",
        "min_price",
        "max_price",
        "source",
        "assigned_to",
        "radius_miles",
    ],
    "/api/v1/properties/": ["min_beds", "source", "radius_miles"],
    "/api/v1/matches/": ["buyer", "property", "lead", "min_score"],
    "/api/v1/ingestion-runs/": ["source"],
}


@pytest.fixture
def admin(client_as):
    PropertyMatchFactory(property=LeadFactory().property)
    return client_as(ADMIN)


@pytest.mark.parametrize("url", list(PARAMS))
def test_extreme_filter_values(admin, url):
    for name in PARAMS[url]:
        for value in EXTREMES:
            params = {name: value, **({"near": "-81.37,28.53"} if name == "radius_miles" else {})}
            response = admin.get(url, params)
            assert response.status_code in (200, 400), (name, value, response.status_code)


@pytest.mark.parametrize("url", ["/api/v1/leads/{}/", "/api/v1/properties/{}/", "/api/v1/buyers/{}/"])
def test_extreme_ids(admin, url):
    for value in ("99999999999999999999999", "-99999999999999999999999", "1e5"):
        assert admin.get(url.format(value)).status_code == 404


@pytest.mark.parametrize(
    "url", ["/api/v1/leads/", "/api/v1/properties/", "/api/v1/buyers/", "/api/v1/ingestion-runs/", "/api/v1/sync-logs/"]
)
def test_updated_since_with_any_offset(admin, url):
    assert admin.get(url, {"updated_since": "1200-03-15T03:14:17-20:28"}).status_code == 200
    assert admin.get(url, {"updated_since": "0001-01-01T00:00:00+23:00"}).json() == {
        "updated_since": ["Datetime out of range."]
    }


def test_huge_coordinates_never_reach_geos(admin):
    # GEOS's WKT writer (SpatiaLite queries) aborts the process on coordinates like 1e308.
    for url in ("/api/v1/leads/", "/api/v1/properties/geojson/"):
        assert admin.get(url, {"in_bbox": "0,0,1e308,1e308"}).json() == {
            "in_bbox": ["in_bbox must be min_lon,min_lat,max_lon,max_lat"]
        }
        assert admin.get(url, {"near": "1e308,0"}).json() == {"near": ["near must be lon,lat"]}
    huge = {"type": "Polygon", "coordinates": [[[0, 0], [1e308, 0], [1e308, 1e308], [0, 0]]]}
    wgs84 = "must be in WGS 84 longitude/latitude (longitude -180..180, latitude -90..90, e.g. -81.38, 28.54)."
    assert admin.post("/api/v1/buyers/", {"target_area": huge}, format="json").json() == {
        "target_area": [f"The target area {wgs84}"]
    }
    point = {"type": "Point", "coordinates": [1e308, 1e308]}
    assert admin.post("/api/v1/buyers/", {"center": point}, format="json").json() == {"center": [f"The centre {wgs84}"]}
    empty = {"type": "MultiPolygon", "coordinates": []}
    assert admin.post("/api/v1/buyers/", {"target_area": empty}, format="json").status_code == 400


def test_invalid_target_area_is_refused(admin):
    bowtie = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    response = admin.post("/api/v1/buyers/", {"target_area": bowtie}, format="json")
    assert response.status_code == 400
    assert response.json()["target_area"][0].startswith("The target area is not a valid polygon: Self-intersection")
