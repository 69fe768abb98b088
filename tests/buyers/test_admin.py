import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from tablib import Dataset

from buyers.models import Buyer, PropertyMatch
from buyers.resources import BuyerResource
from tests.factories import BuyerFactory, LeadFactory, PropertyMatchFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/buyers/propertymatch/"


@pytest.fixture
def admin_client(client):
    user = UserFactory(username="boss", is_staff=True, is_superuser=True)
    client.force_login(user)
    return client


def test_buyer_csv_export_exact():
    BuyerFactory(
        email="ann@example.test",
        first_name="Ann",
        last_name="Lee",
        company="Lee LLC",
        phone="+14075550001",
        sms_opt_in=True,
        tags=["cash-buyer", "vip"],
        min_price=50000,
        max_price=300000,
        property_types=["sfr", "townhouse"],
        min_beds=2,
        target_zips=["32801", "32805"],
        target_area=MultiPolygon(Polygon.from_bbox((-81.4, 28.5, -81.3, 28.6)), srid=4326),
        center=Point(-81.38, 28.54, srid=4326),
        radius_miles=10,
        strategies=["flip"],
    )
    assert BuyerResource().export(Buyer.objects.all()).csv.splitlines() == [
        "email,first_name,last_name,company,phone,sms_opt_in,tags,is_active,min_price,max_price,property_types,"
        "min_beds,min_baths,min_year_built,max_year_built,target_zips,target_area,center,radius_miles,strategies,"
        "cash_buyer,proof_of_funds,notes",
        'ann@example.test,Ann,Lee,Lee LLC,+14075550001,1,"cash-buyer, vip",1,50000.00,300000.00,"sfr, townhouse",'
        '2,,,,"32801, 32805","MULTIPOLYGON (((-81.4 28.5, -81.4 28.6, -81.3 28.6, -81.3 28.5, -81.4 28.5)))",'
        "POINT (-81.38 28.54),10.00,flip,1,1,",
    ]


IMPORT_CSV = (
    "email,first_name,last_name,phone,sms_opt_in,tags,min_price,max_price,property_types,target_zips,"
    "target_area,center,radius_miles,cash_buyer,proof_of_funds\n"
    'new@example.test,Nia,Cole,+14075550100,1,"cash-buyer, rental",40000,180000,"sfr, multi","32805, 32808",'
    '"POLYGON ((-81.45 28.5, -81.4 28.5, -81.4 28.55, -81.45 28.5))",,,1,0\n'
    "ann@example.test,Ann,Lee,+14075550001,0,,,,,,,POINT (-81.38 28.54),7.5,1,1\n"
)


def test_buyer_csv_import_creates_and_updates_by_email():
    existing = BuyerFactory(email="ann@example.test", first_name="Ann", radius_miles=10)
    result = BuyerResource().import_data(Dataset().load(IMPORT_CSV, format="csv"), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert (result.totals["new"], result.totals["update"]) == (1, 1)
    new = Buyer.objects.get(email="new@example.test")
    assert (new.first_name, new.source, new.tags, new.property_types, new.target_zips) == (
        "Nia",
        "import",
        ["cash-buyer", "rental"],
        ["sfr", "multi"],
        ["32805", "32808"],
    )
    assert new.target_area.geom_type == "MultiPolygon" and new.target_area.num_geom == 1
    assert (new.cash_buyer, new.proof_of_funds, new.sms_opt_in) == (True, False, True)
    existing.refresh_from_db()
    assert (existing.radius_miles, existing.center.coords, existing.source) == (7.5, (-81.38, 28.54), "manual")
    again = BuyerResource().import_data(Dataset().load(IMPORT_CSV, format="csv"), dry_run=False)
    assert (again.totals["new"], again.totals["update"], again.totals["skip"]) == (0, 0, 2)


def test_import_row_without_email_is_an_error():
    csv_text = "email,first_name\n,Nobody\n"
    result = BuyerResource().import_data(Dataset().load(csv_text, format="csv"), dry_run=False)
    assert result.has_errors()
    assert Buyer.objects.count() == 0


def test_admin_import_and_export_pages(admin_client):
    assert admin_client.get("/admin/buyers/buyer/import/").status_code == 200
    assert admin_client.get("/admin/buyers/buyer/export/").status_code == 200


def test_admin_import_refuses_a_file_over_the_limit_and_imports_nothing(admin_client, settings):
    body = IMPORT_CSV.encode()
    settings.BUYER_IMPORT_MAX_BYTES = len(body) - 1
    upload = SimpleUploadedFile("buyers.csv", body, content_type="text/csv")

    response = admin_client.post("/admin/buyers/buyer/import/", {"import_file": upload, "format": "0"})

    assert response.status_code == 200
    assert response.context["form"].errors["import_file"] == [
        f"The file has {len(body):,} bytes; buyer imports take at most {len(body) - 1:,} "
        "(BUYER_IMPORT_MAX_BYTES). Split it and import the parts."
    ]
    assert Buyer.objects.count() == 0


def make_matches(n, prop=None):
    prop = prop or LeadFactory(mao=135000, tier="A").property
    return [
        PropertyMatchFactory(property=prop, buyer=BuyerFactory(), score=90 - i, reasons=["Cash buyer (+10)"])
        for i in range(n)
    ]


def test_lead_buyers_ranked_and_n_plus_1_free(admin_client):
    matches = make_matches(2)
    make_matches(1)  # another property
    url = f"{CHANGELIST}?property__id__exact={matches[0].property_id}"
    with CaptureQueriesContext(connection) as few:
        response = admin_client.get(url)
    assert response.status_code == 200
    assert [m.pk for m in response.context["cl"].result_list] == [matches[0].pk, matches[1].pk]
    assert "$135,000" in response.text
    make_matches(4, prop=matches[0].property)
    with CaptureQueriesContext(connection) as many:
        response = admin_client.get(url)
    assert len(response.context["cl"].result_list) == 6
    assert len(many.captured_queries) == len(few.captured_queries)


def test_buyer_page_lists_matching_leads(admin_client):
    buyer = BuyerFactory()
    lead = LeadFactory(mao=135000, tier="A")
    PropertyMatchFactory(
        buyer=buyer, property=lead.property, score=95, reasons=["Inside the buyer's target area (+40)"]
    )
    response = admin_client.get(reverse("admin:buyers_buyer_change", args=[buyer.pk]))
    assert response.status_code == 200
    text = response.text
    assert "Inside the buyer&#x27;s target area (+40)" in text
    assert "$135,000" in text
    assert f"{CHANGELIST}?buyer__id__exact={buyer.pk}" in text
    assert 'id="id_target_area-map"' in text  # the Leaflet drawing map


def test_buyer_page_is_n_plus_1_free(admin_client):
    buyer = BuyerFactory()
    url = reverse("admin:buyers_buyer_change", args=[buyer.pk])
    PropertyMatchFactory(buyer=buyer, property=LeadFactory().property)
    with CaptureQueriesContext(connection) as few:
        admin_client.get(url)
    for _ in range(4):
        PropertyMatchFactory(buyer=buyer, property=LeadFactory().property)
    with CaptureQueriesContext(connection) as many:
        assert admin_client.get(url).text.count("Inside the buyer&#x27;s target area (+40)") == 5
    assert len(many.captured_queries) == len(few.captured_queries)


def test_mark_contacted_action(admin_client):
    first, second = make_matches(2)
    response = admin_client.post(CHANGELIST, {"action": "mark_contacted", "_selected_action": [first.pk]}, follow=True)
    assert "Marked 1 match(es) contacted." in response.text
    stamped = PropertyMatch.objects.get(pk=first.pk).contacted_at
    assert stamped is not None
    assert PropertyMatch.objects.get(pk=second.pk).contacted_at is None
    admin_client.post(CHANGELIST, {"action": "mark_contacted", "_selected_action": [first.pk]})
    assert PropertyMatch.objects.get(pk=first.pk).contacted_at == stamped


def test_export_blast_list_csv_exact(admin_client):
    lead = LeadFactory(property__street="12 OAK ST", property__address_normalized="12 OAK ST, ORLANDO, FL 32801")
    ann = BuyerFactory(
        first_name="Ann", last_name="Lee", phone="+14075550001", email="ann@example.test", sms_opt_in=True
    )
    bob = BuyerFactory(first_name="Bob", last_name="Ray", phone="+14075550002", email="bob@example.test")
    dnd = BuyerFactory(first_name="Dee", last_name="Nd", dnd=True)
    reasons = ["Inside the buyer's target area (+40)", "Cash buyer (+10)"]
    ids = [
        PropertyMatchFactory(property=lead.property, buyer=bob, score=80, reasons=reasons).pk,
        PropertyMatchFactory(property=lead.property, buyer=ann, score=95, reasons=reasons).pk,
        PropertyMatchFactory(property=lead.property, buyer=dnd, score=99, reasons=reasons).pk,
    ]
    response = admin_client.post(CHANGELIST, {"action": "export_blast_list", "_selected_action": ids})
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Disposition"] == 'attachment; filename="blast-list.csv"'
    assert response.content.decode().splitlines() == [
        "buyer,phone,email,sms_opt_in,property_address,score,reasons",
        'Ann Lee,+14075550001,ann@example.test,yes,"12 OAK ST, ORLANDO, FL 32801",95,'
        "Inside the buyer's target area (+40); Cash buyer (+10)",
        'Bob Ray,+14075550002,bob@example.test,no,"12 OAK ST, ORLANDO, FL 32801",80,'
        "Inside the buyer's target area (+40); Cash buyer (+10)",
    ]


def test_buyer_change_form_saves_with_matches(admin_client):
    buyer = BuyerFactory(first_name="Old", target_area=None, center=None, radius_miles=None)
    match = PropertyMatchFactory(buyer=buyer)
    data = {
        "first_name": "New",
        "email": buyer.email,
        "tags": '["cash-buyer"]',
        "is_active": "on",
        "source": "manual",
        "property_types": '["sfr"]',
        "target_zips": '["32801"]',
        "strategies": '["flip"]',
        "cash_buyer": "on",
        "matches-TOTAL_FORMS": "1",
        "matches-INITIAL_FORMS": "1",
        "matches-MIN_NUM_FORMS": "0",
        "matches-MAX_NUM_FORMS": "1000",
        "matches-0-id": str(match.pk),
        "matches-0-buyer": str(buyer.pk),
    }
    response = admin_client.post(reverse("admin:buyers_buyer_change", args=[buyer.pk]), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    buyer.refresh_from_db()
    assert (buyer.first_name, buyer.target_zips, buyer.min_price) == ("New", ["32801"], None)
    assert PropertyMatch.objects.filter(pk=match.pk).exists()
