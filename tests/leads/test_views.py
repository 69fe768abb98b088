import csv
import io
import json

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point, Polygon
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from dealfinder.ops.roles import ACQUISITIONS, ADMIN, DISPOSITIONS, roles_setup
from leads.grid import cell_size, grid_level
from leads.models import Activity, Lead
from tests.factories import BrokerFactory, LeadFactory, PropertyFactory, UserFactory

pytestmark = pytest.mark.django_db

WIDE_BBOX = "-82,28,-81,29"
# Two clumps of leads far enough apart to land in different grid cells at zoom 10.
WEST, EAST = (-81.50, 28.50), (-81.20, 28.60)


def lead_at(lon, lat, **kwargs):
    return LeadFactory(property=PropertyFactory(location=Point(lon, lat, srid=4326)), **kwargs)


@pytest.fixture
def roles():
    roles_setup()


@pytest.fixture
def acquisitions(roles, client):
    user = BrokerFactory(role=ACQUISITIONS)
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
        "property_id": lead.property_id,
        "tier": "A",
        "score": 92,
        "status": "new",
        "stack": 2,
        "address": lead.property.address_normalized,
        "reasons": ["Tax-deed sale in 12 days (+10)", "Absentee owner (+5)"],
        "arv": 250000.0,
        "mao": 135000.0,
    }
    # The popup's admin links: one template per response, not two URLs per feature.
    assert data["urls"] == {
        "lead": "/admin/leads/lead/{id}/change/",
        "property": "/admin/properties/property/{id}/change/",
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


def test_grid_level_is_the_zoom_coarsened_to_at_most_48_cells_per_axis():
    assert grid_level(zoom=10, bbox=(-82, 28, -81, 29)) == 10
    assert cell_size(10) == 360 / 1024 / 4  # a quarter of a tile
    assert grid_level(zoom=16, bbox=(-180, -80, 180, 80)) == 3  # 11.25 degree cells: 32 across the world
    assert grid_level(zoom=12, bbox=(-82, 28, -81, 29)) == 12  # 0.022 degrees: 45.5 across
    assert grid_level(zoom=12, bbox=(-82, 28, -80.8, 29)) == 11  # 0.022 would be 54.6 across; 0.044 is 27.3


@pytest.mark.parametrize(("zoom", "n"), [(10, 3), (10, 30), (15, 3), (15, 30)])
def test_map_endpoint_query_count_is_constant(acquisitions, client, zoom, n):
    for i in range(n):
        lead_at(-81.5 + i * 0.0001, 28.5, tier="ABCD"[i % 4])
    client.get("/map/leads.geojson", {"in_bbox": WIDE_BBOX, "zoom": zoom})  # warm the session and permissions
    with CaptureQueriesContext(connection) as ctx:
        data = geojson(client, zoom=zoom, min_score=0, tier=["A", "B", "C", "D"])
    assert data["count"] == n
    # session + user + 2 permission lookups + the one data query, and (tier and score filters: the index could
    # answer, at every zoom) a look at the map index's state on PostGIS
    assert len(ctx.captured_queries) == 5 + settings.IS_POSTGIS


@pytest.mark.parametrize(
    ("role", "map_status", "assign_status"),
    [(ACQUISITIONS, 200, 200), (DISPOSITIONS, 200, 403), (ADMIN, 200, 200), (None, 403, 403)],
)
def test_permission_matrix(roles, client, role, map_status, assign_status):
    user = BrokerFactory(role=role) if role else UserFactory(is_staff=True)
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
    closer = BrokerFactory(username="closer")
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
    csrf_client.force_login(BrokerFactory(role=ACQUISITIONS))
    shape = json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]})
    assert csrf_client.post("/map/assign/", {"shape": shape, "assignee": 1}).status_code == 403
    assert csrf_client.post("/map/export.csv", {"shape": shape}).status_code == 403


# --- The map index (leads.grid): same answers as the live tables, read from two small tables ---


def scattered_leads(n=60):
    """n leads spread over WIDE_BBOX in a fixed pattern, tiers and scores cycling."""
    return [
        lead_at(-81.99 + (i * 37 % 97) / 98, 28.01 + (i * 53 % 89) / 90, tier="ABCD"[i % 4], total=100 - i)
        for i in range(n)
    ]


def normalized(data):
    """Features in a stable order, centroids rounded: the index sums coordinates, the live query averages."""
    for feature in data["features"]:
        feature["geometry"]["coordinates"] = [round(c, 9) for c in feature["geometry"]["coordinates"]]
    data["features"].sort(key=lambda f: (f["geometry"]["coordinates"], f["properties"].get("id", 0)))
    return data


INDEX_CASES = [
    {"zoom": 3},
    {"zoom": 8},
    {"zoom": 10},
    {"zoom": 12},
    {"zoom": 10, "tier": ["A", "C"]},
    {"zoom": 11, "in_bbox": "-81.7,28.2,-81.3,28.6"},
    {"zoom": 12, "in_bbox": "-81.61,28.33,-81.42,28.51", "tier": ["B"]},
    {"zoom": 13},
    {"zoom": 15, "in_bbox": "-81.7,28.2,-81.3,28.6"},
    {"zoom": 14, "tier": ["A", "B"], "min_score": 60, "max_score": 90},
]


@pytest.mark.postgis
def test_map_index_answers_exactly_like_the_live_tables(acquisitions, client, monkeypatch):
    from leads.grid import map_grid_is_fresh, map_grid_refresh

    monkeypatch.setattr("leads.views.MAX_POINTS", 25)  # some viewports truncate
    scattered_leads()
    LeadFactory(property=PropertyFactory(location=None), tier="A", total=99)
    live = [normalized(geojson(client, **case)) for case in INDEX_CASES]
    assert not map_grid_is_fresh()

    assert map_grid_refresh().points == 60
    assert map_grid_is_fresh()
    for case, expected in zip(INDEX_CASES, live, strict=True):
        with CaptureQueriesContext(connection) as ctx:
            answer = normalized(geojson(client, **case))
        assert answer == expected, case
        assert any("leads_map" in q["sql"] for q in ctx.captured_queries), case  # read from the index
    assert [d["count"] for d in live[:4]] == [60, 60, 60, 60]
    assert live[7]["truncated"] is True and live[7]["count"] == 60


@pytest.mark.postgis
def test_map_index_goes_stale_when_a_lead_is_added_and_other_filters_read_live(acquisitions, client):
    from leads.grid import map_grid_is_fresh, map_grid_refresh

    scattered_leads(12)
    map_grid_refresh()
    lead_at(-81.5, 28.5, tier="A", total=95)
    assert not map_grid_is_fresh()
    assert geojson(client, zoom=10)["count"] == 13  # live until the next refresh
    map_grid_refresh()
    assert map_grid_is_fresh()
    assert geojson(client, zoom=10)["count"] == 13

    with CaptureQueriesContext(connection) as ctx:
        data = geojson(client, zoom=10, status=["new"])  # a copy the index's points carry
    assert data["count"] == 13
    assert any("leads_mappoint" in q["sql"] for q in ctx.captured_queries)
    with CaptureQueriesContext(connection) as ctx:
        data = geojson(client, zoom=10, property_type=["sfr"])  # not a map filter, not in the index: live tables
    assert data["count"] == 13
    assert not any("leads_map" in q["sql"] for q in ctx.captured_queries)


@pytest.mark.postgis
def test_map_index_refresh_counts_every_level(db):
    from leads.grid import FINE_LEVEL, map_grid_refresh
    from leads.models import MapGridCell, MapGridState

    leads = scattered_leads(20)
    LeadFactory(property=PropertyFactory(location=None))
    result = map_grid_refresh()
    assert result.points == 20
    assert result.cells == MapGridCell.objects.count()
    per_level = {
        row["level"]: row["n"] for row in MapGridCell.objects.values("level").annotate(n=Sum("n")).order_by("level")
    }
    assert per_level == dict.fromkeys(range(FINE_LEVEL + 1), 20)
    world = MapGridCell.objects.filter(level=0).values_list("tier", "n").order_by("tier")
    assert list(world) == [("A", 5), ("B", 5), ("C", 5), ("D", 5)]  # all of Florida in one level-0 cell
    state = MapGridState.objects.get()
    assert (state.max_lead_id, state.points) == (max(lead.pk for lead in leads) + 1, 20)
    assert map_grid_refresh().cells == result.cells  # a rebuild, not an append


def test_map_index_is_not_built_on_spatialite(settings):
    from leads.grid import map_grid_is_fresh, map_grid_refresh

    settings.IS_POSTGIS = False
    assert map_grid_refresh().skipped == "not PostGIS"
    assert map_grid_is_fresh() is False


def in_order(data):
    """Features sorted by place (coordinates to 6 decimals: incremental sums differ in the last bits)."""
    data["features"].sort(key=lambda f: [round(c, 6) for c in f["geometry"]["coordinates"]])
    return data


@pytest.mark.postgis
def test_map_index_update_moves_only_the_given_leads_and_matches_a_rebuild(acquisitions, client):
    from leads.grid import map_grid_is_fresh, map_grid_refresh, map_grid_update
    from leads.models import MapGridCell, MapPoint

    leads = scattered_leads(40)
    map_grid_refresh()
    retiered, moved, unplaced = leads[0], leads[1], leads[2]
    Lead.objects.filter(pk=retiered.pk).update(tier="D", total=5)
    moved.property.location = Point(-81.01, 28.99, srid=4326)
    moved.property.save()
    unplaced.property.location = None
    unplaced.property.save()
    added = lead_at(-81.77, 28.33, tier="A", total=97)
    assert not map_grid_is_fresh()

    assert map_grid_update(lead_ids=[retiered.pk, moved.pk, unplaced.pk, added.pk]) == 3
    assert map_grid_is_fresh()  # the new lead was among them
    updated = sorted(MapGridCell.objects.values_list("level", "cx", "cy", "tier", "n"))
    answers = [in_order(geojson(client, **case)) for case in INDEX_CASES]
    map_grid_refresh()
    assert sorted(MapGridCell.objects.values_list("level", "cx", "cy", "tier", "n")) == updated
    assert MapPoint.objects.get(pk=retiered.pk).tier == "D"
    assert not MapPoint.objects.filter(pk=unplaced.pk).exists()
    for case, answer in zip(INDEX_CASES, answers, strict=True):
        rebuilt = in_order(geojson(client, **case))
        assert [f["properties"] for f in answer["features"]] == [f["properties"] for f in rebuilt["features"]], case
        assert [f["geometry"]["coordinates"] for f in answer["features"]] == [
            pytest.approx(f["geometry"]["coordinates"]) for f in rebuilt["features"]
        ], case


@pytest.mark.postgis
def test_map_index_update_of_an_unbuilt_index_does_nothing(db):
    from leads.grid import map_grid_update
    from leads.models import MapPoint

    lead = lead_at(-81.5, 28.5)
    assert map_grid_update(lead_ids=[lead.pk]) == 0
    assert not MapPoint.objects.exists()


@pytest.mark.postgis
def test_a_dense_view_at_zoom_13_stays_cells_when_the_index_is_fresh(acquisitions, client, monkeypatch):
    from leads.grid import map_grid_refresh

    monkeypatch.setattr("leads.views.DENSE_POINTS", 59)
    scattered_leads(60)
    assert geojson(client, zoom=13)["kind"] == "points"  # live tables: points, as before
    map_grid_refresh()
    dense = geojson(client, zoom=13)
    assert (dense["kind"], dense["count"], dense["truncated"]) == ("cells", 60, False)
    assert dense == geojson(client, zoom=12, in_bbox=WIDE_BBOX)  # the zoom-12 grid: same level-12 cells
    assert geojson(client, zoom=13, tier=["A"])["kind"] == "points"  # 15 in view: not dense
    assert geojson(client, zoom=14)["kind"] == "points"
    assert geojson(client, zoom=13, min_score=1)["kind"] == "points"  # a filter the cells cannot answer
