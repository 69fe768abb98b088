"""Issue 21's done-when case through the database: the small county of tests/integration/test_recorded_sales.py
written as a recorder's CSV, ingested as a `sales` source (run recorded, flags stored), then the lead's comps and
ARV (service, command, API, deal numbers), buyer discovery (command) and "Create buyer" matching a lead."""

import csv
import json
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command

from buyers.discovered import discovered_buyer_create_buyer, discovered_buyers_refresh
from buyers.models import DiscoveredBuyer, PropertyMatch
from buyers.services import matches_refresh_all
from dealfinder.ops.scoring import leads_score
from leads.comps_refresh import leads_comps_refresh
from leads.comps_selectors import lead_comps
from leads.models import Lead
from properties.models import Property, Sale
from properties.services import datasource_ingest
from tests.factories import DataSourceFactory, ValuationFactory
from tests.integration.test_recorded_sales import AS_OF, COUNTY

pytestmark = pytest.mark.django_db

MAPPING = {
    "parcel_id": "PIN",
    "document_id": "DOC_NO",
    "sale_date": "DEED_DATE",
    "recording_date": "REC_DATE",
    "sale_price": "CONSIDERATION",
    "deed_type": "INSTRUMENT",
    "grantor": "GRANTOR",
    "grantee": "GRANTEE",
    "mortgage_amount": "MORTGAGE",
    "latitude": "LAT",
    "longitude": "LON",
    "zip": "ZIP",
    "county": {"value": "Orange"},
    "property_type": "USE",
    "living_sqft": "SQFT",
    "beds": "BEDS",
}


def pin(parcel: str) -> str:
    """The test county's parcel ids ("A", "SUBJ") as a recorder writes them."""
    return f"0001-{parcel}"


def county_csv(tmp_path):
    path = tmp_path / "recorded_sales.csv"
    columns = ["PIN", "DOC_NO", "DEED_DATE", "REC_DATE", "CONSIDERATION", "INSTRUMENT", "GRANTOR", "GRANTEE",
               "MORTGAGE", "LAT", "LON", "ZIP", "USE", "SQFT", "BEDS"]  # fmt: skip
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(columns)
        for r in COUNTY:
            writer.writerow([
                pin(r["parcel_id"]), r["document_id"], r["sale_date"].isoformat(), r["sale_date"].isoformat(),
                "" if r["price"] is None else r["price"], r["deed_type"], r["grantor"], r["grantee"],
                "" if r["mortgage_amount"] is None else r["mortgage_amount"], r["lat"], r["lon"], r["zip"],
                "CONDOMINIUM" if r["property_type"] == "condo" else "SINGLE FAMILY", r["living_sqft"] or "",
                r["beds"],
            ])  # fmt: skip
    return DataSourceFactory(
        kind="file", dataset="sales", url=str(path), field_mapping=MAPPING, enabled=True, county="Orange"
    )


@pytest.fixture
def county(tmp_path):
    source = county_csv(tmp_path)
    run = datasource_ingest(source_id=source.pk)
    return source, run


def flags(parcel):
    return [f["code"] for f in Sale.objects.get(property__parcel_id=pin(parcel)).flags]


def test_sales_are_ingested_with_the_arms_length_flags_and_a_rerun_converges(county):
    source, run = county
    assert (run.status, run.processed, run.inserted, run.failed) == ("success", 19, 19, 0)
    assert flags("F") == ["nominal_price"]
    assert flags("G") == ["non_warranty_deed", "related_parties"]
    assert flags("H2") == ["multi_parcel"]
    assert flags("I") == ["distressed"]
    assert flags("A") == []
    h1 = Sale.objects.get(property__parcel_id=pin("H1"))
    assert (h1.document_id, h1.parcel_count, h1.is_arms_length, h1.is_purchase) == ("D8", 3, False, True)
    i = Sale.objects.get(property__parcel_id=pin("I"))
    assert (i.deed_kind, i.is_arms_length, i.is_distressed) == ("foreclosure", True, True)
    hashes = dict(Sale.objects.values_list("id", "rules_hash"))
    again = datasource_ingest(source_id=source.pk)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 19)
    assert dict(Sale.objects.values_list("id", "rules_hash")) == hashes
    assert Sale.objects.count() == 19


def test_the_nominal_share_of_assessed_value_uses_the_parcels_valuation(tmp_path):
    source = county_csv(tmp_path)
    datasource_ingest(source_id=source.pk)
    ValuationFactory(property=Property.objects.get(parcel_id=pin("D")), assessed_value=Decimal("5000000"))
    from properties.sales import sales_assess

    assert sales_assess(source=source).changed == 1
    assert flags("D") == ["nominal_price"]


def test_a_leads_arv_equals_the_brokers_hand_computation(county, client, admin_user):
    leads_score()
    summary = leads_comps_refresh(as_of=AS_OF)
    lead = Lead.objects.get(property__parcel_id=pin("SUBJ"))
    assert (lead.comps_arv, lead.comps_low, lead.comps_high, lead.comps_confidence, lead.comps_count) == (
        Decimal("275000"),
        Decimal("270000"),
        Decimal("290000"),
        "high",
        5,
    )
    repairs = lead.repair_estimate
    assert lead.arv == Decimal("275000")
    assert lead.mao == max(Decimal("192500") - repairs - Decimal("10000"), Decimal(0))
    assert summary.leads == Lead.objects.count()
    result = lead_comps(lead=lead, as_of=AS_OF).as_json()
    assert [c["parcel_id"] for c in result["comps"]] == [pin(p) for p in "ABCDE"]
    assert (result["arv"], result["low"], result["high"], result["confidence"]) == (275000, 270000, 290000, "high")
    out = StringIO()
    call_command("comps", pin("SUBJ"), "--json", "--as-of", AS_OF.isoformat(), stdout=out)
    assert json.loads(out.getvalue()) == result
    # A second refresh writes nothing; rescoring keeps the comps' ARV.
    assert leads_comps_refresh(as_of=AS_OF).changed == 0
    leads_score()
    lead.refresh_from_db()
    assert lead.arv == Decimal("275000")
    client.force_login(admin_user)
    answer = client.get(f"/api/v1/leads/{lead.pk}/comps/")
    assert answer.status_code == 200 and set(answer.json()) == {"arv", "low", "high", "confidence", "comps"}


def test_the_company_is_discovered_and_create_buyer_matches_a_lead_in_that_zip(county):
    out = StringIO()
    call_command("discover_buyers", "--json", "--as-of", AS_OF.isoformat(), stdout=out)
    found = json.loads(out.getvalue())
    assert [(b["name"], len(b["purchases"]), b["zips"], b["min_price"], b["max_price"]) for b in found] == [
        ("BLUE OAK HOMES LLC", 3, ["32805"], 95000, 132500)
    ]
    assert set(found[0]) == {"name", "purchases", "zips", "min_price", "max_price", "property_types", "style"}
    discovered = DiscoveredBuyer.objects.get()
    buyer, created = discovered_buyer_create_buyer(discovered=discovered)
    assert created and buyer.target_zips == ["32805"] and buyer.company == "BLUE OAK HOMES LLC"
    assert (buyer.min_price, buyer.max_price, buyer.cash_buyer) == (Decimal("95000"), Decimal("132500"), True)
    # Again: linked, not duplicated; a refresh keeps the link.
    assert discovered_buyer_create_buyer(discovered=discovered) == (buyer, False)
    discovered_buyers_refresh(as_of=AS_OF)
    assert DiscoveredBuyer.objects.get().buyer_id == buyer.pk
    leads_score()
    leads_comps_refresh(as_of=AS_OF)
    matches_refresh_all()
    matched = set(PropertyMatch.objects.filter(buyer=buyer).values_list("property__zip", flat=True))
    assert matched == {"32805"}
