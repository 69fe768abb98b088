import csv
import io
import json

import pytest
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point, Polygon
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealfinder.roles import ACQUISITIONS, ADMIN, DISPOSITIONS, roles_setup
from leads.models import Activity, Lead
from leads.ui_selectors import grid_cell_size
from tests.leads.factories import LeadFactory, UserFactory
from tests.properties.factories import PropertyFactory

pytestmark = pytest.mark.django_db

WIDE_BBOX = "-82,28,-81,29"
# Two clumps of leads far enough apart to land in different grid cells at zoom 10.
WEST, EAST = (-81.50, 28.50), (-81.20, 28.60)


def lead_at(lon, lat, **kwargs):
    return LeadFactory(property=PropertyFactory(location=Point(lon, lat, srid=4326)), **kwargs)


def user_in(role, **kwargs):
    user = UserFactory(is_staff=True, **kwargs)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def roles():
    roles_setup()


@pytest.fixture
def acquisitions(roles, client):
    user = user_in(ACQUISITIONS)
    client.force_login(user)
    return user


@pytest.fixture
def county():
    """3 leads in the west clump (A, A, C), 2 in the east (B, D), 1 without a point."""
    west = [
        lead_at(WEST[0], WEST[1], tier="A", total=92),
        lead_at(WEST[0] + 0.001, WEST[1] + 0.001, tier="A", total=80),
        lead_at(WEST[0] + 0.002, WEST[1], tier="C", total=45),
    ]
    east = [lead_at(EAST[0], EAST[1], tier="B", total=65), lead_at(EAST[0] + 0.001, EAST[1], tier="D", total=10)]
    LeadFactory(property=PropertyFactory(location=None), tier="A", total=99)
    return west, east


def geojson(client, **params):
    response = client.get("/map/leads.geojson", {"in_bbox": WIDE_BBOX, **params})
    assert response.status_code == 200, response.content
    return response.json()


def test_low_zoom_returns_grid_cells_with_exact_counts(acquisitions, client, county):
    data = geojson(client, zoom=10)
    assert data["kind"] == "cells"
    assert data["count"] == 5
    assert data["truncated"] is False
    cells = sorted(data["features"], key=lambda f: f["geometry"]["coordinates"][0])
    assert [c["properties"]["count"] for c in cells] == [3, 2]
    assert cells[0]["properties"]["tiers"] == {"A": 2, "B": 0, "C": 1, "D": 0}
    assert cells[1]["properties"]["tiers"] == {"A": 0, "B": 1, "C": 0, "D": 1}
    lon, lat = cells[0]["geometry"]["coordinates"]
    assert lon == pytest.approx(WEST[0] + 0.001)
    assert lat == pytest.approx(WEST[1] + 0.001 / 3)


def test_low_zoom_respects_filters(acquisitions, client, county):
    data = geojson(client, zoom=10, tier="A")
    assert data["count"] == 2
    assert [f["properties"]["tiers"] for f in data["features"]] == [{"A": 2, "B": 0, "C": 0, "D": 0}]


def test_high_zoom_returns_points_best_first_with_popup_fields(acquisitions, client, county):
    west, _ = county
    data = geojson(client, zoom=15, in_bbox="-81.51,28.49,-81.49,28.51")
    assert (data["kind"], data["count"], data["truncated"]) == ("points", 3, False)
    first = data["features"][0]
    assert first["geometry"]["coordinates"] == [WEST[0], WEST[1]]
    lead = west[0]
    assert first["properties"] == {
        "id": lead.pk,
        "tier": "A",
        "score": 92,
        "status": "new",
        "stack": 2,
        "address": lead.property.address_normalized,
        "reasons": ["Tax-deed sale in 12 days (+10)", "Absentee owner (+5)"],
        "arv": 250000.0,
        "mao": 135000.0,
        "lead_url": f"/admin/leads/lead/{lead.pk}/change/",
        "property_url": f"/admin/properties/property/{lead.property_id}/change/",
    }
    assert [f["properties"]["score"] for f in data["features"]] == [92, 80, 45]


def test_points_are_capped_and_flagged(acquisitions, client, county, monkeypatch):
    monkeypatch.setattr("leads.views.MAX_POINTS", 2)
    data = geojson(client, zoom=14)
    assert (data["count"], data["truncated"], len(data["features"])) == (5, True, 2)
    assert [f["properties"]["score"] for f in data["features"]] == [92, 80]


def test_bbox_and_zoom_are_required(acquisitions, client):
    assert client.get("/map/leads.geojson", {"zoom": 10}).status_code == 400
    response = client.get("/map/leads.geojson", {"in_bbox": WIDE_BBOX})
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"zoom"}
    assert client.get("/map/leads.geojson", {"in_bbox": "1,2,3", "zoom": 3}).status_code == 400


def test_grid_never_exceeds_the_cap_per_axis():
    assert grid_cell_size(zoom=10, bbox=(-82, 28, -81, 29)) == pytest.approx(360 / 1024 / 4)
    assert grid_cell_size(zoom=16, bbox=(-180, -80, 180, 80)) == pytest.approx(360 / 48)


@pytest.mark.parametrize(("zoom", "n"), [(10, 3), (10, 30), (15, 3), (15, 30)])
def test_map_endpoint_query_count_is_constant(acquisitions, client, zoom, n):
    for i in range(n):
        lead_at(-81.5 + i * 0.0001, 28.5, tier="ABCD"[i % 4])
    client.get("/map/leads.geojson", {"in_bbox": WIDE_BBOX, "zoom": zoom})  # warm the session and permissions
    with CaptureQueriesContext(connection) as ctx:
        data = geojson(client, zoom=zoom, min_score=0, tier=["A", "B", "C", "D"])
    assert data["count"] == n
    # session + user + 2 permission lookups + the one data query
    assert len(ctx.captured_queries) == 5


@pytest.mark.parametrize(
    ("role", "map_status", "assign_status"),
    [(ACQUISITIONS, 200, 200), (DISPOSITIONS, 200, 403), (ADMIN, 200, 200), (None, 403, 403)],
)
def test_permission_matrix(roles, client, role, map_status, assign_status):
    user = user_in(role) if role else UserFactory(is_staff=True)
    client.force_login(user)
    page = client.get("/map/")
    assert page.status_code == map_status
    assert (b'id="assign"' in page.content) == (assign_status == 200)  # no assign control without change_lead
    assert client.get("/map/leads.geojson", {"in_bbox": WIDE_BBOX, "zoom": 10}).status_code == map_status
    shape = Polygon.from_bbox((-82, 28, -81, 29)).geojson
    assert client.post("/map/export.csv", {"shape": shape}).status_code == map_status
    response = client.post("/map/assign/", {"shape": shape, "assignee": user.pk})
    assert response.status_code == assign_status


@pytest.mark.parametrize("url", ["/map/", "/map/leads.geojson?in_bbox=-82,28,-81,29&zoom=10"])
def test_anonymous_is_sent_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response.url.startswith("/admin/login/?next=/map/")


def test_map_page_renders_filters_and_local_assets(acquisitions, client):
    html = client.get("/map/").content.decode()
    for name in ("tier", "status", "distress", "min_stack", "min_score", "max_price", "min_mao", "has_matches"):
        assert f'name="{name}"' in html
    assert 'id="lead-count"' in html
    assert "/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in html
    assert "/static/leaflet/draw/leaflet.draw.js" in html
    assert "//unpkg" not in html and "cdn" not in html.lower()


def drawn_triangle():
    """A triangle holding the first west lead; the other two are inside its bounding box, not inside it."""
    x, y = WEST
    return Polygon(((x - 0.001, y - 0.001), (x + 0.0025, y - 0.001), (x - 0.001, y + 0.0025), (x - 0.001, y - 0.001)))


def test_export_of_a_drawn_polygon_has_exactly_the_leads_inside(acquisitions, client, county):
    west, _ = county
    response = client.post("/map/export.csv", {"shape": drawn_triangle().geojson})
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["lead_id"]) for r in rows] == [west[0].pk]
    assert rows[0]["tier"] == "A"
    assert rows[0]["reasons"] == "Tax-deed sale in 12 days (+10); Absentee owner (+5)"

    square = Polygon.from_bbox((WEST[0] - 0.01, WEST[1] - 0.01, WEST[0] + 0.01, WEST[1] + 0.01)).wkt
    response = client.post("/map/export.csv", {"shape": square, "tier": ["A"]})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [int(r["lead_id"]) for r in rows] == [west[0].pk, west[1].pk]


def test_export_rejects_a_bad_shape(acquisitions, client):
    assert client.post("/map/export.csv", {"shape": "POINT (1 2)"}).status_code == 400
    assert client.post("/map/export.csv", {"shape": "not a shape"}).status_code == 400
    assert client.post("/map/export.csv", {}).status_code == 400


def test_assign_a_drawn_selection_records_one_activity_per_lead(acquisitions, client, county):
    west, _ = county
    closer = UserFactory(username="closer")
    square = Polygon.from_bbox((WEST[0] - 0.01, WEST[1] - 0.01, WEST[0] + 0.01, WEST[1] + 0.01)).geojson
    response = client.post("/map/assign/", {"shape": square, "assignee": closer.pk, "min_score": 50})
    assert response.json() == {"assigned": 2, "assignee": "closer"}
    assert set(Lead.objects.filter(assigned_to=closer).values_list("pk", flat=True)) == {west[0].pk, west[1].pk}
    activities = Activity.objects.filter(kind=Activity.Kind.ASSIGNMENT)
    assert sorted(activities.values_list("lead_id", "to_value", "actor")) == [
        (west[0].pk, "closer", acquisitions.pk),
        (west[1].pk, "closer", acquisitions.pk),
    ]
    # Again: nothing changes, no new activity.
    response = client.post("/map/assign/", {"shape": square, "assignee": closer.pk, "min_score": 50})
    assert response.json()["assigned"] == 0
    assert activities.count() == 2


def test_assign_needs_csrf(roles):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(user_in(ACQUISITIONS))
    shape = json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]})
    assert csrf_client.post("/map/assign/", {"shape": shape, "assignee": 1}).status_code == 403
    assert csrf_client.post("/map/export.csv", {"shape": shape}).status_code == 403
