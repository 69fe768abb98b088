"""The lead admin page (score sparkline, small map, matches, timeline) and its CSV bulk action."""

import csv
import datetime
import io
import re

import pytest
from django.contrib.auth.models import Group
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dealfinder.ops.roles import DISPOSITIONS, roles_setup
from leads.ui_selectors import (
    EXPORT_COLUMNS,
    ScorePoint,
    lead_score_history,
    lead_top_matches,
    sparkline_layout,
)
from tests.factories import (
    ActivityFactory,
    BuyerFactory,
    LeadFactory,
    LeadScoreHistoryFactory,
    MapGridCellFactory,
    MapGridStateFactory,
    MapPointFactory,
    PropertyFactory,
    PropertyMatchFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/leads/lead/"
DAY = datetime.date(2026, 1, 1)


def day(n: int) -> datetime.date:
    return DAY + datetime.timedelta(days=n)


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(username="boss", is_staff=True, is_superuser=True))
    return client


# --- Sparkline: pure layout ------------------------------------------------------------------


def test_sparkline_layout_places_dates_on_x_and_the_0_100_score_on_y():
    history = [ScorePoint(day(0), 50, "C"), ScorePoint(day(1), 75, "A"), ScorePoint(day(4), 100, "A")]
    spark = sparkline_layout(history=history, width=300, height=60, pad=4)
    # inner box 292 x 52: x = 4 + days * 292 / 4, y = 4 + (100 - total) * 52 / 100
    assert spark.polyline == "4,30 77,17 296,4"
    assert [(d.x, d.y, d.tier, d.color) for d in spark.dots] == [
        (4.0, 30.0, "C", "#e6c229"),
        (77.0, 17.0, "A", "#d7301f"),
        (296.0, 4.0, "A", "#d7301f"),
    ]
    assert (spark.count, spark.low, spark.high) == (3, 50, 100)
    assert (spark.first, spark.last) == (history[0], history[-1])


def test_sparkline_layout_of_one_snapshot_and_of_none():
    spark = sparkline_layout(history=[ScorePoint(day(0), 0, "D")], width=100, height=24, pad=2)
    assert spark.polyline == "50,22"
    assert sparkline_layout(history=[]).count == 0
    assert sparkline_layout(history=[]).polyline == ""


def test_lead_score_history_is_the_last_90_oldest_first_in_one_query(django_assert_num_queries):
    lead = LeadFactory()
    for n in range(100):
        LeadScoreHistoryFactory(lead=lead, snapshot_date=day(n), total=n, tier="ABCD"[n % 4])
    LeadScoreHistoryFactory(snapshot_date=day(200))  # another lead's
    with django_assert_num_queries(1):
        history = lead_score_history(lead_id=lead.pk)
    assert len(history) == 90
    assert history[0] == ScorePoint(day(10), 10, "C")
    assert history[-1] == ScorePoint(day(99), 99, "D")
    assert lead_score_history(lead_id=lead.pk, limit=2) == [ScorePoint(day(98), 98, "C"), ScorePoint(day(99), 99, "D")]


def test_lead_top_matches_best_first_in_one_query(django_assert_num_queries):
    lead = LeadFactory()
    for score in (71, 95, 80):
        PropertyMatchFactory(property=lead.property, score=score)
    PropertyMatchFactory(score=99)  # another property's
    with django_assert_num_queries(1):
        matches, more = lead_top_matches(lead=lead, limit=2)
        assert [m.score for m in matches] == [95, 80]
        assert all(m.buyer.pk for m in matches)  # buyers came with the query
    assert more is True
    assert lead_top_matches(lead=lead, limit=3)[1] is False


# --- The change page -------------------------------------------------------------------------


def lead_with_everything(n_history=95, n_activities=3, n_matches=3):
    lead = LeadFactory(
        property=PropertyFactory(location=Point(-81.3789, 28.5384, srid=4326), address_normalized="1 MAIN ST"),
        tier="A",
        total=82,
        reasons=["Tax-deed sale in 12 days (+10)", "Absentee owner (+5)"],
    )
    for n in range(n_history):
        LeadScoreHistoryFactory(lead=lead, snapshot_date=day(n), total=40 + n % 50, tier="ABCD"[n % 4])
    for i in range(n_activities):
        ActivityFactory(lead=lead, actor=UserFactory(), body=f"Call {i}")
    for i in range(n_matches):
        PropertyMatchFactory(property=lead.property, buyer=BuyerFactory(first_name=f"Buyer{i}"), score=90 - i)
    return lead


def change_page(client, lead) -> str:
    response = client.get(f"{CHANGELIST}{lead.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_lead_page_shows_breakdown_sparkline_map_matches_and_timeline(admin_client):
    lead = lead_with_everything()
    html = change_page(admin_client, lead)
    # score breakdown with reasons
    assert "<tr><th>Total</th><td>82 (Tier A)</td></tr>" in html
    assert "<li>Tax-deed sale in 12 days (+10)</li>" in html
    # sparkline: the last 90 of 95 snapshots, server-rendered SVG
    svg = re.search(r'<svg id="score-sparkline".*?</svg>', html, re.S).group(0)
    assert svg.count('<circle class="snapshot') == 90
    assert len(re.search(r'<polyline class="total" points="([^"]*)"', svg).group(1).split()) == 90
    assert "<title>2026-04-05: 84 (Tier C)</title>" in svg  # day 94: 40 + 94 % 50, "ABCD"[94 % 4]
    assert "90 snapshots from 2026-01-06 to 2026-04-05" in html
    # small map: data only, drawn by a static file (no inline script)
    assert '<div class="df-minimap" id="lead-minimap"' in html
    assert 'data-lat="28.5384" data-lon="-81.3789"' in html
    assert 'data-tier="A"' in html
    assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in html
    assert "/static/leads/minimap.js" in html and "/static/leaflet/leaflet.js" in html
    # matches, best first, linking to the buyers
    assert html.index(">Buyer0 ") < html.index(">Buyer1 ") < html.index(">Buyer2 ")
    assert "Matching buyers, ranked by score" in html
    # activity timeline (inline)
    assert all(f"Call {i}" in html for i in range(3))


def test_lead_page_without_point_history_or_matches(admin_client):
    lead = LeadFactory(property=PropertyFactory(location=None))
    html = change_page(admin_client, lead)
    assert "No score snapshots yet." in html
    assert "No point for this property yet (not geocoded)." in html
    assert "No buyer matches." in html
    assert 'id="lead-minimap"' not in html


def test_lead_page_query_count_does_not_grow_with_history_activities_or_matches(admin_client):
    small = lead_with_everything(n_history=2, n_activities=1, n_matches=1)
    big = lead_with_everything(n_history=95, n_activities=12, n_matches=12)
    change_page(admin_client, small)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as few:
        change_page(admin_client, small)
    with CaptureQueriesContext(connection) as many:
        change_page(admin_client, big)
    assert len(many.captured_queries) == len(few.captured_queries)


# --- Export selected to CSV ------------------------------------------------------------------


def export(client, data) -> list[list[str]]:
    response = client.post(CHANGELIST + ("?" + data.pop("query") if "query" in data else ""), data)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    assert response.streaming
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_export_selected_writes_the_map_export_columns_best_first(admin_client):
    low = LeadFactory(total=40, tier="C", property=PropertyFactory(parcel_id="P-LOW"))
    high = LeadFactory(total=90, tier="A", property=PropertyFactory(parcel_id="P-HIGH"), assigned_to=UserFactory())
    LeadFactory(total=95, tier="A")  # not selected
    rows = export(admin_client, {"action": "export_csv", "_selected_action": [low.pk, high.pk]})
    assert rows[0] == [name for name, _ in EXPORT_COLUMNS]
    assert [(r[0], r[1], r[6], r[7]) for r in rows[1:]] == [
        (str(high.pk), "P-HIGH", "A", "90"),
        (str(low.pk), "P-LOW", "C", "40"),
    ]
    assert rows[1][13] == high.assigned_to.username
    assert rows[1][14] == "Tax-deed sale in 12 days (+10); Absentee owner (+5)"


def test_export_all_matching_a_changelist_filter_streams_with_bounded_queries(
    admin_client, django_assert_max_num_queries
):
    for i in range(30):
        LeadFactory(tier="AB"[i % 2], total=60 + i)
    admin_client.get(CHANGELIST)  # warm the session
    with django_assert_max_num_queries(8):
        rows = export(
            admin_client,
            {"query": "tier__exact=A", "action": "export_csv", "select_across": "1", "_selected_action": 1},
        )
    assert len(rows) == 1 + 15
    assert {r[6] for r in rows[1:]} == {"A"}
    assert [int(r[7]) for r in rows[1:]] == sorted((int(r[7]) for r in rows[1:]), reverse=True)


def test_export_action_is_offered_to_a_view_only_role(client):
    roles_setup()
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=DISPOSITIONS))
    client.force_login(user)
    lead = LeadFactory()
    html = client.get(CHANGELIST).content.decode()  # Dispositions: view_lead only
    assert 'value="export_csv"' in html
    assert 'value="assign"' not in html  # change actions stay hidden
    assert len(export(client, {"action": "export_csv", "_selected_action": [lead.pk]})) == 2


@pytest.mark.postgis
def test_rescore_action_moves_the_map_index_to_the_new_tiers(admin_client):
    from leads.grid import map_grid_refresh
    from leads.models import Lead, MapPoint

    leads = [LeadFactory(tier="A", total=99) for _ in range(3)]  # not a real score: plain parcels score D
    untouched = LeadFactory(tier="A", total=99)
    map_grid_refresh()
    admin_client.post(CHANGELIST, {"action": "rescore", "_selected_action": [lead.pk for lead in leads]})
    assert set(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).values_list("tier", flat=True)) == {"D"}
    assert dict(MapPoint.objects.values_list("lead_id", "tier")) == {
        **{lead.pk: "D" for lead in leads},
        untouched.pk: "A",
    }


@pytest.mark.parametrize(
    ("factory", "url"),
    [
        (MapPointFactory, "/admin/leads/mappoint/"),
        (MapGridCellFactory, "/admin/leads/mapgridcell/"),
        (MapGridStateFactory, "/admin/leads/mapgridstate/"),
    ],
)
def test_map_index_changelists_are_read_only_and_do_not_query_per_row(admin_client, factory, url):
    factory.create_batch(2)
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(url).status_code == 200
    factory.create_batch(8)
    with CaptureQueriesContext(connection) as many:
        html = admin_client.get(url).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert f"{url}add/" not in html  # read-only: no add link
