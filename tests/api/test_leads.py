import datetime

import pytest
import respx
from django.contrib.gis.geos import Point
from django.utils import timezone

from leads.models import Activity, Lead
from sync.models import SyncLog
from sync.runs import NOT_CONFIGURED
from tests.api.helpers import walk
from tests.factories import BrokerFactory, LeadFactory, PropertyFactory, TaxSaleFactory, UserFactory
from tests.sync.fake_ghl import BASE_URL, LOCATION_ID, FakeGHL

pytestmark = pytest.mark.django_db


def lead_ids(client, params=None, url="/api/v1/leads/") -> list[int]:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def pair():
    inside = PropertyFactory(location=Point(-81.38, 28.54, srid=4326), zip="32801", is_absentee=True)
    outside = PropertyFactory(location=Point(-81.20, 28.70, srid=4326), zip="32839")
    a = LeadFactory(property=inside, tier="A", total=88, stack_count=3, mao=150000, arv=260000)
    d = LeadFactory(property=outside, tier="D", total=20, stack_count=0, mao=None, arv=None)
    TaxSaleFactory(property=inside)
    return a, d


def test_lead_shape(acq, pair):
    a, _ = pair
    row = acq.get(f"/api/v1/leads/{a.pk}/").json()
    assert row["score"] == {"distress": 30, "value": 20, "location": 10, "urgency": 10, "total": 88}
    assert row["deal"] == {"arv": "260000.00", "repair_estimate": "30000.00", "mao": "150000.00"}
    assert row["tier"] == "A"
    assert row["reasons"] == ["Tax-deed sale in 12 days (+10)", "Absentee owner (+5)"]
    assert row["status"] == "new"
    assert row["assigned_to"] is None
    assert row["property"]["parcel_id"] == a.property.parcel_id
    assert row["property"]["location"] == {"type": "Point", "coordinates": [-81.38, 28.54]}


def test_filters_are_the_maps(acq, pair):
    a, d = pair
    assert lead_ids(acq, {"tier": "A"}) == [a.pk]
    assert lead_ids(acq, {"min_score": 50}) == [a.pk]
    assert lead_ids(acq, {"distress": "tax_sale"}) == [a.pk]
    assert lead_ids(acq, {"zip": "32839"}) == [d.pk]
    assert lead_ids(acq, {"in_bbox": "-81.40,28.50,-81.30,28.60"}) == [a.pk]
    assert lead_ids(acq, {"near": "-81.20,28.70", "radius_miles": 2}) == [d.pk]
    assert lead_ids(acq, {"near": "-81.38,28.54", "radius_miles": 20}) == [a.pk, d.pk]
    assert lead_ids(acq, {"q": a.property.parcel_id}) == [a.pk]


def test_updated_since(acq, pair):
    a, d = pair
    Lead.objects.filter(pk=a.pk).update(updated_at=timezone.now() - datetime.timedelta(days=3))
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert lead_ids(acq, {"updated_since": since}) == [d.pk]


def test_ordering_and_cursor(acq, pair):
    a, d = pair
    assert lead_ids(acq) == [a.pk, d.pk]  # best score first
    assert lead_ids(acq, {"ordering": "score"}) == [d.pk, a.pk]
    response = acq.get("/api/v1/leads/", {"ordering": "mao"})
    assert response.status_code == 400
    assert response.json() == {
        "ordering": ["Choose one of: -score, score, -stack_count, stack_count, -updated_at, updated_at."]
    }


def test_cursor_walks_ties_exactly_once(acq):
    LeadFactory.create_batch(8, total=70)  # every score tied: the id breaks ties
    LeadFactory.create_batch(3, total=90)
    expected = list(Lead.objects.order_by("-total", "-id").values_list("id", flat=True))
    assert [r["id"] for r in walk(acq, "/api/v1/leads/", {"page_size": 3})] == expected
    features = walk(acq, "/api/v1/leads/geojson/", {"page_size": 4})
    assert [f["id"] for f in features] == expected


def test_geojson_shape(acq, pair):
    a, _ = pair
    body = acq.get("/api/v1/leads/geojson/", {"tier": "A"}).json()
    assert body == {
        "type": "FeatureCollection",
        "next": None,
        "previous": None,
        "features": [
            {
                "id": a.pk,
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-81.38, 28.54]},
                "properties": {
                    "parcel_id": a.property.parcel_id,
                    "address": a.property.address,
                    "property_type": "sfr",
                    "status": "new",
                    "tier": "A",
                    "total": 88,
                    "stack_count": 3,
                    "reasons": ["Tax-deed sale in 12 days (+10)", "Absentee owner (+5)"],
                    "arv": "260000.00",
                    "mao": "150000.00",
                    "assigned_to": None,
                    "next_action_at": None,
                    "updated_at": body["features"][0]["properties"]["updated_at"],
                },
            }
        ],
    }


def test_patch_status_and_assignee_record_activity(acq, pair):
    a, _ = pair
    agent = BrokerFactory(username="closer")
    response = acq.patch(
        f"/api/v1/leads/{a.pk}/",
        {"status": "contacted", "assigned_to": agent.pk, "notes": "Owner picked up", "tier": "D"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["assigned_to"], body["assigned_to_username"]) == ("contacted", agent.pk, "closer")
    assert body["notes"] == "Owner picked up"
    assert body["tier"] == "A"  # read-only
    activities = list(Activity.objects.filter(lead=a).order_by("kind").values_list("kind", "from_value", "to_value"))
    assert activities == [("assignment", "", "closer"), ("status_change", "new", "contacted")]
    assert set(Activity.objects.values_list("actor__username", flat=True)) == {"api-acquisitions"}

    # The same values again: nothing changes, nothing is recorded.
    acq.patch(f"/api/v1/leads/{a.pk}/", {"status": "contacted", "assigned_to": agent.pk}, format="json")
    assert Activity.objects.count() == 2
    acq.patch(f"/api/v1/leads/{a.pk}/", {"assigned_to": None}, format="json")
    assert Activity.objects.filter(kind="assignment").latest("id").to_value == ""
    assert Lead.objects.get(pk=a.pk).assigned_to is None


def test_patch_notes_and_next_action_only(acq, pair):
    a, _ = pair
    when = "2026-12-01T15:00:00Z"
    response = acq.patch(f"/api/v1/leads/{a.pk}/", {"next_action_at": when, "notes": "Call back"}, format="json")
    assert response.status_code == 200
    lead = Lead.objects.get(pk=a.pk)
    assert lead.next_action_at == datetime.datetime(2026, 12, 1, 15, tzinfo=datetime.UTC)
    assert lead.notes == "Call back"
    assert Activity.objects.count() == 0


def test_patch_rejects_bad_values_and_put(acq, pair):
    a, _ = pair
    assert acq.patch(f"/api/v1/leads/{a.pk}/", {"status": "sold"}, format="json").json() == {
        "status": ['"sold" is not a valid choice.']
    }
    inactive = UserFactory(is_active=False)
    assert acq.patch(f"/api/v1/leads/{a.pk}/", {"assigned_to": inactive.pk}, format="json").status_code == 400
    assert acq.put(f"/api/v1/leads/{a.pk}/", {"status": "dead"}, format="json").status_code == 405
    assert acq.delete(f"/api/v1/leads/{a.pk}/").status_code == 405
    assert Lead.objects.get(pk=a.pk).status == "new"
    assert Activity.objects.count() == 0


def test_rescore_scores_only_that_parcel(acq):
    stale = LeadFactory(total=0, tier="D", reasons=[], scored_at=None)
    TaxSaleFactory(property=stale.property)
    other = LeadFactory(total=0, tier="D", reasons=[], scored_at=None)

    response = acq.post(f"/api/v1/leads/{stale.pk}/rescore/")

    assert response.status_code == 200
    stale.refresh_from_db()
    assert stale.scored_at is not None
    assert stale.total > 0
    assert response.json()["score"]["total"] == stale.total
    assert response.json()["reasons"] == stale.reasons
    other.refresh_from_db()
    assert (other.total, other.scored_at) == (0, None)


def test_push_without_ghl_is_409(acq, pair, settings):
    settings.GHL_API_TOKEN = ""
    response = acq.post(f"/api/v1/leads/{pair[0].pk}/push/")
    assert response.status_code == 409
    assert response.json() == {"detail": NOT_CONFIGURED}
    assert SyncLog.objects.count() == 0


def test_push_sends_that_lead_whatever_its_tier(acq, pair, settings):
    settings.GHL_API_BASE_URL = BASE_URL
    settings.GHL_API_TOKEN = "pit-test-token"
    settings.GHL_LOCATION_ID = LOCATION_ID
    settings.GHL_PIPELINE_ID = "VDm7RPYC2GLUvdpKmBfC"
    settings.GHL_PIPELINE_STAGE_ID = "7915dedc-8f18-44d5-8bc3-77c04e994a10"
    _, d = pair
    with respx.mock(assert_all_called=False) as router:
        fake = FakeGHL(router)
        response = acq.post(f"/api/v1/leads/{d.pk}/push/")
    assert fake.violations == []
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["sync_type"], body["status"], body["processed"], body["succeeded"]) == ("lead_push", "success", 1, 1)
    assert "POST /contacts/upsert" in fake.paths()
