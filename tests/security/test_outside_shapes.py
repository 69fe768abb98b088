"""Buy-box geometry and JSON nesting from outside get a 400 (or a form/row error) with the reason, never a 500 and
never a stored monster (issue 16, item 9): in the API, the admin, the buyer import, the webhooks alike.

A 50,000-vertex polygon was accepted; a world-sized box made the nightly match grind through billions of grid
cells; 5,000 nested brackets answered 500 (RecursionError).
"""

import base64
import json
import math

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.contrib.gis.geos import Polygon
from django.core.files.uploadedfile import SimpleUploadedFile
from tablib import Dataset

from buyers.models import Buyer
from buyers.resources import BuyerResource
from leads.models import ScoringProfile
from properties.models import DataSource
from sync.models import WebhookEvent
from tests.factories import BuyerFactory, UserFactory

pytestmark = pytest.mark.django_db

DEEP = "[" * 5000 + "]" * 5000


def ring(vertices: int, *, lon=-81.38, lat=28.54, radius=0.05) -> list[list[float]]:
    points = [
        [lon + radius * math.cos(2 * math.pi * i / vertices), lat + radius * math.sin(2 * math.pi * i / vertices)]
        for i in range(vertices)
    ]
    return [*points, points[0]]


def polygon(vertices: int) -> dict:
    return {"type": "Polygon", "coordinates": [ring(vertices)]}


def wkt(vertices: int) -> str:
    return Polygon(ring(vertices)).wkt


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


# --- the API ----------------------------------------------------------------------------------------------------


def test_a_polygon_of_50000_vertices_is_refused_with_the_reason(superuser_api):
    response = superuser_api.post(
        "/api/v1/buyers/", {"email": "a@example.test", "target_area": polygon(49_999)}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {
        "target_area": ["The target area has 50,000 vertices; at most 2,000 are allowed. Simplify the shape."]
    }
    assert not Buyer.objects.exists()


def test_a_polygon_at_the_limit_is_accepted(superuser_api, settings):
    settings.BUYBOX_MAX_VERTICES = 2000
    response = superuser_api.post(
        "/api/v1/buyers/", {"email": "a@example.test", "target_area": polygon(1999)}, format="json"
    )
    assert response.status_code == 201, response.content
    assert Buyer.objects.get().target_area.num_coords == 2000


@pytest.mark.parametrize(
    ("area", "error"),
    [
        (
            {"type": "Polygon", "coordinates": [[[-100, 20], [-70, 20], [-70, 45], [-100, 45], [-100, 20]]]},
            "The target area spans 30.00° x 25.00°; at most 5° each way are allowed "
            "(use zips or several buyers for a wider market).",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[-81.4, 28.5], [-81.3, 28.6], [-81.3, 28.5], [-81.4, 28.6], [-81.4, 28.5]]],
            },
            "The target area is not a valid polygon: Self-intersection[-81.35 28.55].",
        ),
        (
            {"type": "Polygon", "coordinates": [[[-81.4, 28.5], [-81.3, 95], [-81.3, 28.5], [-81.4, 28.5]]]},
            "The target area must be in WGS 84 longitude/latitude (longitude -180..180, latitude -90..90, "
            "e.g. -81.38, 28.54).",
        ),
    ],
)
def test_wide_invalid_or_off_the_globe_areas_are_refused(superuser_api, area, error):
    response = superuser_api.post("/api/v1/buyers/", {"email": "a@example.test", "target_area": area}, format="json")
    assert (response.status_code, response.json()) == (400, {"target_area": [error]})


def test_a_radius_wider_than_the_widest_area_is_refused(superuser_api):
    response = superuser_api.post("/api/v1/buyers/", {"email": "a@example.test", "radius_miles": "5000"}, format="json")
    assert response.json() == {
        "radius_miles": [
            "A radius of 5000.00 miles is too wide; at most 173 miles (use zips or several buyers for a wider market)."
        ]
    }


@pytest.mark.parametrize("url", ["/api/v1/buyers/", "/api/v1/data-sources/"])
def test_deeply_nested_json_bodies_are_400(superuser_api, url):
    response = superuser_api.post(url, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"detail": "JSON parse error - JSON nested more than 32 levels deep"}


def test_json_a_little_past_the_limit_is_400_too(superuser_api):
    nested = {"email": "a@example.test", "tags": [[[[["x"]]]]]}
    for _ in range(40):
        nested = {"n": nested}
    response = superuser_api.post("/api/v1/buyers/", json.dumps(nested), content_type="application/json")
    assert response.status_code == 400


# --- the admin --------------------------------------------------------------------------------------------------


def buyer_form(**fields) -> dict:
    return {
        "email": "a@example.test",
        "tags": "[]",
        "property_types": "[]",
        "target_zips": "[]",
        "strategies": "[]",
        "source": "manual",
        "is_active": "on",
        "cash_buyer": "on",
        "matches-TOTAL_FORMS": "0",
        "matches-INITIAL_FORMS": "0",
        "matches-MIN_NUM_FORMS": "0",
        "matches-MAX_NUM_FORMS": "1000",
        **fields,
    }


def test_the_admin_refuses_a_drawn_area_of_too_many_vertices(staff):
    buyer = BuyerFactory()
    response = staff.post(
        f"/admin/buyers/buyer/{buyer.pk}/change/",
        buyer_form(target_area=json.dumps({"type": "MultiPolygon", "coordinates": [[ring(2_500)]]})),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["target_area"] == [
        "The target area has 2,501 vertices; at most 2,000 are allowed. Simplify the shape."
    ]
    buyer.refresh_from_db()
    assert buyer.target_area.num_coords == 5  # unchanged


@pytest.mark.parametrize(
    ("url", "field"),
    [("/admin/buyers/buyer/add/", "tags"), ("/admin/properties/datasource/add/", "field_mapping")],
)
def test_admin_json_fields_refuse_deep_nesting_with_a_form_error(staff, url, field):
    data = buyer_form(**{field: DEEP}) if "buyer" in url else {"name": "x", "slug": "x", field: DEEP}
    response = staff.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors[field] == ["JSON nested more than 32 levels deep"]
    assert not Buyer.objects.exists() and not DataSource.objects.exists()


def test_scoring_profile_and_beat_schedule_json_refuse_deep_nesting(staff):
    response = staff.post("/admin/leads/scoringprofile/add/", {"name": "deep", "parameters": DEEP})
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["parameters"] == ["JSON nested more than 32 levels deep"]
    assert not ScoringProfile.objects.filter(name="deep").exists()
    response = staff.post(
        "/admin/django_celery_beat/periodictask/add/",
        {"name": "deep", "regtask": "dealfinder.pipeline_run", "args": "[]", "kwargs": DEEP, "enabled": "on"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["kwargs"] == [
        "Unable to parse JSON: JSON nested more than 32 levels deep"
    ]


# --- the buyer import -------------------------------------------------------------------------------------------


def test_the_import_preview_reports_a_bad_area_on_its_row(staff):
    rows = Dataset(headers=["email", "target_area", "center"])
    rows.append(["ok@example.test", wkt(10), ""])
    rows.append(["huge@example.test", wkt(49_999), ""])
    rows.append(["far@example.test", "", "POINT (1e308 1e308)"])

    result = BuyerResource().import_data(rows, dry_run=True, raise_errors=False)

    assert result.has_validation_errors()
    errors = {row.number: row.error_dict for row in result.invalid_rows}
    assert errors == {
        2: {"target_area": ["The target area has 50,000 vertices; at most 2,000 are allowed. Simplify the shape."]},
        3: {
            "center": [
                "The centre must be in WGS 84 longitude/latitude (longitude -180..180, latitude -90..90, "
                "e.g. -81.38, 28.54)."
            ]
        },
    }
    assert not Buyer.objects.exists()
    # The admin's preview shows them and offers no confirm step (a CSV field stays under the csv module's 128 KB).
    rows[1] = ("huge@example.test", wkt(2_500), "")
    body = rows.export("csv").encode()
    upload = SimpleUploadedFile("buyers.csv", body)
    response = staff.post("/admin/buyers/buyer/import/", {"import_file": upload, "format": "0", "resource": "0"})
    assert response.context["form"].errors == {}
    assert response.context["result"].has_validation_errors()
    assert "confirm_form" not in response.context


# --- webhooks ---------------------------------------------------------------------------------------------------


def test_a_signed_webhook_nested_too_deep_is_a_400_and_kept_as_rejected(client, settings):
    key = ed25519.Ed25519PrivateKey.generate()
    settings.GHL_WEBHOOK_PUBLIC_KEY = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    settings.GHL_WEBHOOK_PUBLIC_KEY = settings.GHL_WEBHOOK_PUBLIC_KEY.decode()
    body = ('{"type": "ContactTagUpdate", "x": ' + DEEP + "}").encode()
    response = client.post(
        "/sync/ghl/webhook/",
        data=body,
        content_type="application/json",
        HTTP_X_GHL_SIGNATURE=base64.b64encode(key.sign(body)).decode(),
    )
    assert (response.status_code, response.json()) == (400, {"error": "body is not a JSON object"})
    assert list(WebhookEvent.objects.values_list("status", "error")) == [("rejected", "body is not a JSON object")]


@pytest.mark.parametrize("url", ["/map/export.csv", "/map/assign/"])
def test_a_map_selection_off_the_globe_is_400_not_a_crash(staff, url):
    """GEOS's WKT writer (SpatiaLite queries) aborts the whole process on such coordinates."""
    response = staff.post(url, {"shape": "POLYGON ((0 0, 1e308 0, 1e308 1e308, 0 0))"})
    assert response.status_code == 400
    assert "WGS 84 longitude/latitude" in response.content.decode()
