"""`manage.py source_probe` (issue 19 item 1): metadata, sample, a proposed mapping with confidence and reasons from
names and values, a dry run before anything is saved; `--json` with exactly the promised keys, and a mapping that
`ingest --mapping` takes as it is."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.gis.geos import Polygon
from django.core.management import CommandError, call_command

from properties import models as m
from properties.onboarding.propose import FieldInfo, propose
from tests.fakes.arcgis import FakeArcGISLayer, load_arcgis_fixture
from tests.fakes.ckan import FakeCKANResource, load_ckan_fixture
from tests.fakes.socrata import load_socrata_fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SUMMIT = Polygon.from_bbox((-81.7, 40.9, -81.3, 41.3))  # the county around Akron, OH
JSON_KEYS = ["kind", "dataset", "fields", "mapping", "confidence", "problems", "sample"]


def probe(*args) -> str:
    out = StringIO()
    call_command("source_probe", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def probe_json(*args) -> dict:
    return json.loads(probe(*args, "--json"))


def layer_proposal(name: str, query: str | None = None, **options):
    meta = load_arcgis_fixture(f"{name}-metadata")
    answer = load_arcgis_fixture(query or f"{name}-features")
    fields = [FieldInfo(f["name"], f.get("type", ""), f.get("alias", "")) for f in meta["fields"]]
    rows = [f["attributes"] for f in answer["features"]]
    return propose(fields=fields, rows=rows, title=meta.get("name", ""), has_geometry=True, **options)


# --- names and values, on real layers (pure) -------------------------------------------------------------


def test_a_texas_cad_layer_gets_parcel_owner_situs_and_mailing_from_its_own_names():
    proposal = layer_proposal("waco-tx-parcels", "waco-tx-parcels-query")

    assert proposal.dataset == "parcels"
    assert proposal.mapping == {
        "parcel_id": "PIN", "street": "situs_display", "city": "situs_city", "state": "situs_state",
        "zip": "situs_zip", "mailing_city": "addr_city", "mailing_state": "addr_state", "mailing_zip": "addr_zip",
        "last_sale_date": "sl_dt", "owner_name": "file_as_name", "lot_sqft": "land_total_sqft",
        "tax_year": "prop_val_yr", "assessed_value": "assessed_val", "mailing_street": "addr_line2",
        "market_value": "appraised_val",
    }  # fmt: skip
    assert proposal.confidence["owner_name"] == {
        "score": 0.9,
        "source": "file_as_name",
        "reason": "name 'file_as_name'; names",
    }


def test_a_michigan_layer_splits_its_state_and_zip_column():
    proposal = layer_proposal("kent-mi-parcels", "kent-mi-parcels-query")

    assert proposal.mapping["parcel_id"] == "PNUM"
    assert proposal.mapping["state"] == {"source": "PROPADDRESSSTATE_ZIPCODE", "split": "state_zip", "part": "state"}
    assert proposal.mapping["zip"] == {"source": "PROPADDRESSSTATE_ZIPCODE", "split": "state_zip", "part": "zip"}
    assert proposal.mapping["owner_name"] == "OWNERNAME1"


def test_the_dataset_is_guessed_from_columns_and_the_layers_name():
    proposal = layer_proposal("orange-fl-tax-sales")

    assert (proposal.dataset, proposal.parcel_format) == ("tax_sales", "orange_fl")
    assert proposal.dataset_reason.startswith("guessed from columns USER_TDA_NUM (tda_number), USER_Sale_Date")
    assert proposal.mapping["tda_number"] == "USER_TDA_NUM"


def test_editor_tracking_gives_the_records_update_time_for_tax_sales():
    proposal = layer_proposal("orange-fl-tax-sales", dataset="tax_sales", edit_date_field="last_edited_date")

    assert proposal.mapping["source_updated_at"] == "last_edited_date"
    assert "editor tracking" in proposal.confidence["source_updated_at"]["reason"]


def test_values_decide_where_names_are_ambiguous():
    fields = [FieldInfo(n) for n in ("PARID", "OWNERDESC", "OWNER", "SALEDATE", "SALEPRICE", "PROPERTYHOUSENUM",
                                     "PROPERTYADDRESS", "YEARBLT", "X", "Y")]  # fmt: skip
    rows = [
        {"PARID": f"0023S0016{n:04d}000", "OWNERDESC": "REGULAR", "OWNER": f"SMITH JOHN {n}", "SALEDATE": "03-15-2012",
         "SALEPRICE": "$82,000", "PROPERTYHOUSENUM": str(500 + n), "PROPERTYADDRESS": "E OHIO ST", "YEARBLT": "1925",
         "X": 1352000.5 + n, "Y": 410000.25 + n}
        for n in range(8)
    ]  # fmt: skip

    proposal = propose(fields=fields, rows=rows)

    assert proposal.mapping["owner_name"] == "OWNER"  # OWNERDESC holds one category, not names
    assert proposal.mapping["street"] == {"concat": ["PROPERTYHOUSENUM", "PROPERTYADDRESS"]}
    assert proposal.mapping["last_sale_date"] == {"source": "SALEDATE", "transform": ["date:%m-%d-%Y"]}
    assert proposal.mapping["last_sale_price"] == "SALEPRICE"
    assert "latitude" not in proposal.mapping and "longitude" not in proposal.mapping
    assert any("X and Y hold projected coordinates" in p.message for p in proposal.problems)


def test_a_layer_without_a_parcel_id_says_so_as_an_error():
    proposal = layer_proposal("lancaster-pa", "lancaster-pa-query")

    assert proposal.problems[0].as_dict() == {
        "target": "parcel_id",
        "level": "error",
        "message": "no column reads as parcel_id: map it by hand before creating the source",
    }


# --- the command ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unseen_county_layer_probed_then_ingested_with_the_proposal_as_is(httpserver, tmp_path):
    """Done-when of issue 19: parcel ids, owners, situs with city and zip, points inside the county."""
    layer = FakeArcGISLayer.from_fixture(httpserver, "summit-oh-parcels")

    result = probe_json(layer.url)

    assert list(result) == JSON_KEYS
    assert (result["kind"], result["dataset"]) == ("arcgis", "parcels")
    assert result["fields"][1] == {"name": "PARCELID", "type": "esriFieldTypeString", "alias": "Parcel ID"}
    assert result["sample"]["source"]["spatial_reference"] == "WKID 3734"
    assert result["sample"]["source"]["edit_date_field"] == "last_edited_date"
    assert result["sample"]["source"]["record_count"] == 12
    assert result["sample"]["dry_run"]["records"] == 12
    assert result["sample"]["dry_run"]["placed"] == 12
    assert result["sample"]["dry_run"]["targets"]["owner_name"]["fill_rate"] == 1.0
    assert {p["target"] for p in result["problems"] if p["level"] == "error"} == set()
    assert any("0, which sources write for 'none recorded'" in p["message"] for p in result["problems"])
    assert m.DataSource.objects.count() == 0  # nothing saved

    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps(result["mapping"]))
    out = StringIO()
    call_command("ingest", "--url", layer.url, "--dataset", "parcels", "--mapping", str(mapping), stdout=out,
                 stderr=StringIO())  # fmt: skip
    assert (
        out.getvalue()
        .strip()
        .endswith(
            "processed=12 inserted=12 updated=0 unchanged=0 failed=0 status=success stored=12 unplaced=0 duplicates=0"
        )
    )
    properties = list(m.Property.objects.all())
    assert len(properties) == 12
    assert all(p.parcel_id and p.owner_name and p.street and p.city == "AKRON" and p.zip for p in properties)
    assert all(SUMMIT.contains(p.location) for p in properties)


def test_the_text_report_shows_the_source_the_proposal_the_dry_run_and_the_mapping(httpserver):
    layer = FakeArcGISLayer.from_fixture(httpserver, "summit-oh-parcels")

    text = probe(layer.url)

    assert text.startswith(f"ArcGIS layer: Tax Parcels ({layer.url})\n")
    for expected in (
        "  spatial reference: WKID 3734",
        "  edit date field: last_edited_date",
        "Dataset: parcels (guessed from columns OWNERNME1 (owner_name)",
        "  parcel_id        PARCELID  0.95  name 'PARCELID'; id-like values, 100% distinct",
        "Dry run over 12 sample records: 12 would load, 12 with a point",
        "Mapping (save as mapping.json for ingest --mapping):",
    ):
        assert expected in text, expected


def test_a_service_root_lists_its_layers(httpserver):
    httpserver.expect_request("/arcgis/rest/services/Fiscal/FeatureServer").respond_with_json(
        load_arcgis_fixture("summit-oh-service-root")
    )
    url = httpserver.url_for("/arcgis/rest/services/Fiscal/FeatureServer")

    result = probe_json(url + "/query?where=1%3D1&f=json")

    assert [layer["name"] for layer in result["sample"]["layers"]] == [
        "Tax Parcels",
        "Delinquent Parcels",
        "Sales History",
    ]
    assert result["problems"][0]["message"].startswith(
        "this is an ArcGIS service, not a layer: probe one of its layers:"
    )
    assert result["mapping"] == {}


def test_a_socrata_dataset_page_url_is_probed_with_its_typed_columns(fake_socrata_dataset):
    columns = json.loads((FIXTURES / "socrata" / "x8yt-3q2b-metadata.json").read_text())["columns"]
    dataset = fake_socrata_dataset(load_socrata_fixture("x8yt-3q2b"), dataset_id="x8yt-3q2b", columns=columns,
                                   name="Property Maintenance Code Violations")  # fmt: skip
    page = dataset.url.replace("/resource/x8yt-3q2b.json", "/Housing/Property-Maintenance-Code-Violations/x8yt-3q2b")

    result = probe_json(page)

    assert (result["kind"], result["dataset"]) == ("socrata", "code_violations")
    assert result["mapping"] == {
        "parcel_id": "parcel_number", "case_number": "case_number", "violation_type": "violation_description",
        "opened_at": "date_opened", "closed_at": "date_closed", "status": "status", "street": "address",
        "zip": "zip_code",
    }  # fmt: skip
    assert result["sample"]["settings"]["incremental_field"] == ":updated_at"
    assert result["sample"]["source"]["geometry_columns"] == ["shape"]
    assert result["sample"]["dry_run"]["placed"] == 7


def test_a_ckan_resource_page_is_probed(httpserver):
    resource = FakeCKANResource(httpserver, load_ckan_fixture("wprdc-property-assessments"))

    result = probe_json(resource.resource_page)

    assert (result["kind"], result["dataset"]) == ("ckan", "parcels")
    mapping = result["mapping"]
    assert mapping["parcel_id"] == "PARID"
    assert mapping["street"] == {"concat": ["PROPERTYHOUSENUM", "PROPERTYFRACTION", "PROPERTYADDRESS"]}
    assert mapping["owner_mailing_address"] == {
        "concat": ["CHANGENOTICEADDRESS1", "CHANGENOTICEADDRESS3", "CHANGENOTICEADDRESS4"], "sep": ", ",
    }  # fmt: skip
    assert mapping["last_sale_date"] == {"source": "SALEDATE", "transform": ["date:%m-%d-%Y"]}
    assert "owner_name" not in mapping  # OWNERDESC ("REGULAR", "CORPORATION") is not an owner's name
    assert result["sample"]["dry_run"]["targets"]["last_sale_date"]["bad"] == 0


def test_a_hub_geojson_file_and_a_users_own_mapping(tmp_path):
    path = str(FIXTURES / "files" / "hub-detroit-parcels.geojson")
    mapping = tmp_path / "m.json"
    mapping.write_text(json.dumps({"parcel_id": "parcel_num", "owner_name": "taxpayer", "street": "propaddr"}))

    result = probe_json(path, "--mapping", str(mapping), "--dataset", "parcels")

    assert result["sample"]["source"]["format"] == "GeoJSON"
    assert result["confidence"] == {}
    assert {"target": "owner_name", "level": "error", "message": "'taxpayer' is not an attribute of this source"} in (
        result["problems"]
    )


def test_a_local_path_or_a_bad_url_is_a_clear_error():
    with pytest.raises(CommandError, match=r"^file not found: nowhere\.csv$"):
        probe("/srv/secret/nowhere.csv")
    with pytest.raises(CommandError, match=r"^http: URL without a host; write it as http://host/path$"):
        probe("http:etc/passwd")
