"""The map index answers every map filter exactly like the live tables, and its copies of lead values follow
their writers (leads.grid.map_points_sync, map_points_sync_matches)."""

import pytest
from django.contrib import admin
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from buyers.admin import BuyerAdmin, PropertyMatchAdmin
from buyers.models import Buyer, PropertyMatch
from dealfinder.ops.roles import ACQUISITIONS, roles_setup
from leads.admin import LeadAdmin
from leads.filtersets import DISTRESS_CHOICES
from leads.models import Lead, MapPoint
from leads.services import lead_bulk_assign, lead_bulk_change_status
from leads.views import MAP_FILTERS
from tests.factories import (
    BrokerFactory,
    CodeViolationFactory,
    ForeclosureFactory,
    LeadFactory,
    ListingFactory,
    PriceChangeFactory,
    PropertyFactory,
    PropertyMatchFactory,
    TaxDelinquencyFactory,
    TaxSaleFactory,
)

pytestmark = [pytest.mark.django_db, pytest.mark.postgis]

WIDE_BBOX = "-82,28,-81,29"
STATUSES = ("new", "contacted", "follow_up", "closed_won")


@pytest.fixture
def broker(client):
    roles_setup()
    user = BrokerFactory(role=ACQUISITIONS)
    client.force_login(user)
    return user


@pytest.fixture
def county(broker):
    """40 leads over WIDE_BBOX whose filterable values and property signals cycle, so every filter keeps some."""
    leads = []
    for i in range(40):
        prop = PropertyFactory(
            location=Point(-81.99 + (i * 37 % 97) / 98, 28.01 + (i * 53 % 89) / 90, srid=4326),
            is_absentee=i % 3 == 1,
            is_vacant=i % 8 == 0,
        )
        lead = LeadFactory(
            property=prop,
            tier="ABCD"[i % 4],
            total=100 - 2 * i,
            status=STATUSES[i % 4],
            stack_count=i % 5,
            arv=None if i % 5 == 0 else 100_000 + 5_000 * i,
            mao=None if i % 6 == 0 else 50_000 + 4_000 * i,
            assigned_to=broker if i % 3 == 0 else None,
        )
        leads.append(lead)
        if i % 2 == 0:
            PropertyMatchFactory(property=prop)
        if i % 5 == 1:
            TaxSaleFactory(property=prop)
        if i % 6 == 2:
            ForeclosureFactory(property=prop)
        if i % 4 == 3:
            CodeViolationFactory(property=prop)
        if i % 7 == 0:
            TaxDelinquencyFactory(property=prop)
        if i % 3 == 2:
            listing = ListingFactory(property=prop, list_price=150_000 + 1_000 * i)
            if i % 2 == 0:
                PriceChangeFactory(listing=listing, old_price=listing.list_price + 10_000, new_price=listing.list_price)
    LeadFactory(property=PropertyFactory(location=None), tier="A", total=99)  # no point: on no map
    return leads


def filter_cases(broker) -> list[tuple[str, dict]]:
    """(map filter, query) for every filter the map offers; distress per kind and combined."""
    values = {
        "tier": [{"tier": ["A", "C"]}],
        "status": [{"status": ["new", "contacted"]}, {"status": ["closed_won"]}],
        "distress": [{"distress": [kind]} for kind, _ in DISTRESS_CHOICES] + [{"distress": ["absentee", "tax_sale"]}],
        "min_stack": [{"min_stack": 2}],
        "min_score": [{"min_score": 60}],
        "max_score": [{"max_score": 40}],
        "min_price": [{"min_price": 170_000}],
        "max_price": [{"max_price": 170_000}],
        "min_arv": [{"min_arv": 200_000}],
        "max_arv": [{"max_arv": 200_000}],
        "min_mao": [{"min_mao": 120_000}],
        "max_mao": [{"max_mao": 120_000}],
        "assigned_to": [{"assigned_to": broker.pk}],
        "has_matches": [{"has_matches": "true"}, {"has_matches": "false"}],
    }
    assert set(values) == set(MAP_FILTERS)  # a new map filter needs a case here
    return [(name, query) for name in MAP_FILTERS for query in values[name]]


def geojson(client, **params):
    response = client.get("/map/leads.geojson", {"in_bbox": WIDE_BBOX, **params})
    assert response.status_code == 200, response.content
    return response.json()


def normalized(data):
    """Features in a stable order, coordinates to 9 decimals (the index averages floats, the live query ST_X)."""
    for feature in data["features"]:
        feature["geometry"]["coordinates"] = [round(c, 9) for c in feature["geometry"]["coordinates"]]
    data["features"].sort(key=lambda f: (f["geometry"]["coordinates"], f["properties"].get("id", 0)))
    return data


def answers(client, cases):
    """Each case's answer, and whether it was read from the map index."""
    out = []
    for _, query in cases:
        with CaptureQueriesContext(connection) as ctx:
            data = normalized(geojson(client, **query))
        sql = " ".join(q["sql"] for q in ctx.captured_queries)
        out.append((data, '"leads_mappoint"' in sql or '"leads_mapgridcell"' in sql))
    return out


VIEWS = [{"zoom": 10}, {"zoom": 11, "in_bbox": "-81.7,28.2,-81.3,28.6"}, {"zoom": 14}]


def test_every_map_filter_reads_the_index_and_answers_like_the_live_tables(county, broker, client, monkeypatch):
    from leads.grid import map_grid_refresh

    monkeypatch.setattr("leads.views.MAX_POINTS", 7)  # some point views truncate
    cases = [(name, {**view, **query}) for name, query in filter_cases(broker) for view in VIEWS]
    live = answers(client, cases)
    assert not any(read for _, read in live)
    assert map_grid_refresh().points == 40

    indexed = answers(client, cases)
    for (name, query), (expected, _), (answer, read) in zip(cases, live, indexed, strict=True):
        assert answer == expected, (name, query)
        assert read, (name, query)
    counts = {str(query): data["count"] for (_, query), (data, _) in zip(cases, live, strict=True)}
    # Exact counts of the fixture's cycles at zoom 10 (the whole county), so no case passes by being empty.
    at = lambda **q: counts[str({"zoom": 10, **q})]  # noqa: E731
    assert at(status=["new", "contacted"]) == 20
    assert at(status=["closed_won"]) == 10
    assert at(has_matches="true") == 20
    assert at(has_matches="false") == 20
    assert at(assigned_to=broker.pk) == 14
    assert at(distress=["tax_sale"]) == 8
    assert at(distress=["absentee", "tax_sale"]) == 3
    assert at(min_arv=200_000) == 16
    assert at(max_mao=120_000) == 15


def test_status_and_assignment_changes_keep_the_index_exact(county, broker, client):
    from leads.grid import map_grid_refresh

    map_grid_refresh()
    some = Lead.objects.filter(pk__in=[lead.pk for lead in county[:10]])
    assert lead_bulk_change_status(leads=some, status="negotiating", actor=broker) == 10
    assert lead_bulk_assign(leads=Lead.objects.filter(pk=county[1].pk), user=broker, actor=broker) == 1
    assert lead_bulk_assign(leads=Lead.objects.filter(pk=county[0].pk), user=None, actor=broker) == 1

    copies = dict(MapPoint.objects.values_list("lead_id", "status"))
    assert copies == dict(Lead.objects.filter(property__location__isnull=False).values_list("id", "status"))
    assert sorted(MapPoint.objects.filter(assigned_to_id=broker.pk).values_list("lead_id", flat=True)) == sorted(
        Lead.objects.filter(assigned_to=broker).values_list("id", flat=True)
    )
    assert geojson(client, zoom=10, status=["negotiating"])["count"] == 10
    assert geojson(client, zoom=14, status=["negotiating"])["count"] == 10
    assert geojson(client, zoom=10, assigned_to=broker.pk)["count"] == 14  # one taken, one given


def test_the_lead_admin_form_keeps_the_index_exact(county):
    from leads.grid import map_grid_refresh

    map_grid_refresh()
    request = RequestFactory().post("/")
    request.user = BrokerFactory(is_superuser=True)
    lead = Lead.objects.get(pk=county[5].pk)
    lead.status, lead.assigned_to = "dead", request.user
    LeadAdmin(Lead, admin.site).save_model(request, lead, form=None, change=True)
    assert MapPoint.objects.filter(pk=lead.pk).values_list("status", "assigned_to_id").get() == (
        "dead",
        request.user.pk,
    )


def test_deleting_matches_or_buyers_in_admin_keeps_the_index_exact(county):
    from leads.grid import map_grid_refresh

    map_grid_refresh()
    request = RequestFactory().post("/")
    request.user = BrokerFactory(is_superuser=True)
    first = PropertyMatch.objects.filter(property=county[0].property).get()
    PropertyMatchAdmin(PropertyMatch, admin.site).delete_model(request, first)
    matched = PropertyMatch.objects.filter(property__in=[county[2].property, county[4].property])
    PropertyMatchAdmin(PropertyMatch, admin.site).delete_queryset(request, matched)
    buyers = Buyer.objects.filter(matches__property__in=[county[6].property, county[8].property])
    BuyerAdmin(Buyer, admin.site).delete_queryset(request, buyers)

    flags = dict(MapPoint.objects.values_list("lead_id", "has_matches"))
    expected = {lead.pk: PropertyMatch.objects.filter(property_id=lead.property_id).exists() for lead in county}
    assert flags == expected
    assert sum(flags.values()) == 15


def test_index_sync_writes_only_what_changed(county):
    from leads.grid import map_grid_refresh, map_points_sync, map_points_sync_matches

    map_grid_refresh()
    ids = [lead.pk for lead in county]
    assert map_points_sync(lead_ids=ids) == 0  # already equal: nothing rewritten
    assert map_points_sync_matches() == 0
    Lead.objects.filter(pk=county[3].pk).update(arv=1, mao=2, stack_count=4)
    PropertyMatch.objects.filter(property=county[10].property).delete()
    assert map_points_sync(lead_ids=ids) == 2  # the changed lead, and the lead that lost its match
    assert MapPoint.objects.filter(pk=county[3].pk).values_list("arv", "mao", "stack_count").get() == (1, 2, 4)
    assert MapPoint.objects.get(pk=county[10].pk).has_matches is False


def test_changes_during_a_rebuild_wait_on_the_pending_list_and_the_map_reads_live_meanwhile(county, broker, client):
    from leads.grid import BUILDING, map_grid_is_fresh, map_grid_refresh, map_points_sync
    from leads.models import MapGridState, MapPending

    map_grid_refresh()
    MapGridState.objects.filter(pk=1).update(max_lead_id=BUILDING)  # as while map_grid_refresh runs
    some = Lead.objects.filter(pk__in=[county[0].pk, county[1].pk])
    assert lead_bulk_change_status(leads=some, status="dead", actor=broker) == 2
    assert sorted(MapPending.objects.values_list("lead_id", flat=True)) == sorted([county[0].pk, county[1].pk])
    assert MapPoint.objects.filter(status="dead").count() == 0  # not written (it would wait on the rebuild)
    assert geojson(client, zoom=10, status=["dead"])["count"] == 2  # the live tables

    map_grid_refresh()  # copies the pending ones when it ends
    assert not MapPending.objects.exists()
    assert sorted(MapPoint.objects.filter(status="dead").values_list("lead_id", flat=True)) == sorted(
        [county[0].pk, county[1].pk]
    )
    assert map_grid_is_fresh()

    # Put on hold after the rebuild's last look: not fresh until the next sync takes it off the list.
    Lead.objects.filter(pk=county[2].pk).update(status="dead")
    MapPending.objects.create(lead_id=county[2].pk)
    assert not map_grid_is_fresh()
    assert geojson(client, zoom=10, status=["dead"])["count"] == 3
    assert map_points_sync(lead_ids=[county[3].pk]) == 1  # county[2] changed; county[3] already equal
    assert not MapPending.objects.exists()
    assert map_grid_is_fresh()
    assert geojson(client, zoom=10, status=["dead"])["count"] == 3
