"""A source's schema: mapped attributes checked before anything is fetched (issue 19 2l), stored per run with its
drift since the previous run (issue 19 4)."""

import json
from pathlib import Path

import pytest

from properties import models as m
from properties.ingest.mapping import FieldMapping
from properties.ingest.schema import SourceField, SourceSchema, missing_attributes, schema_drift
from properties.services import datasource_ingest, ingest_adhoc
from tests.factories import DataSourceFactory
from tests.fakes.arcgis import FakeArcGISLayer, point_features

FILES = Path(__file__).resolve().parent.parent / "fixtures" / "files"


# --- pure --------------------------------------------------------------------------------------


def test_drift_names_what_was_added_removed_and_retyped():
    before = {"PARCEL": "esriFieldTypeString", "OWNER": "esriFieldTypeString", "VALUE": "esriFieldTypeInteger"}
    after = {"PARCEL": "esriFieldTypeString", "VALUE": "esriFieldTypeDouble", "SITUS": "esriFieldTypeString"}

    assert schema_drift(before, after, mapped=["PARCEL", "owner", "situs"]) == {
        "compared": True,
        "added": ["SITUS"],
        "removed": ["OWNER"],
        "retyped": [{"name": "VALUE", "from": "esriFieldTypeInteger", "to": "esriFieldTypeDouble"}],
        "missing_mapped": ["owner"],
    }
    assert schema_drift(None, after) == {
        "compared": False, "added": [], "removed": [], "retyped": [], "missing_mapped": [],
    }  # fmt: skip
    assert schema_drift(after, after, mapped=["PARCEL"])["missing_mapped"] == []


def test_a_nested_mapped_key_disappears_with_its_column():
    drift = schema_drift({"shape": "point", "case": "text"}, {"case": "text"}, mapped=["shape.latitude", "case"])
    assert drift["missing_mapped"] == ["shape.latitude"]


def test_missing_attributes_are_matched_case_insensitively_and_by_nested_root():
    schema = SourceSchema((SourceField("PARCEL", "s"), SourceField("shape", "point")), system=frozenset({":id"}))
    mapping = FieldMapping.from_config(
        "parcels",
        {"parcel_id": "parcel", "latitude": "shape.latitude", "owner_name": "OWNR", "external_id": ":id",
         "street": {"concat": ["HOUSE", "PARCEL"]}},
    )  # fmt: skip
    assert missing_attributes(mapping.specs, schema) == [("owner_name", "OWNR"), ("street", "HOUSE")]


# --- before anything is fetched -----------------------------------------------------------------


@pytest.mark.django_db
def test_a_typo_in_a_layer_mapping_fails_the_run_before_any_page_is_fetched(httpserver):
    """Regression: the run 'succeeded' and stored blank owners."""
    layer = FakeArcGISLayer(httpserver, point_features(5))

    run = ingest_adhoc(url=layer.url, dataset="parcels", mapping={"parcel_id": "PARCEL", "owner_name": "OWNR_NAME"})

    assert run.status == "failed"
    assert run.message == (
        "SourceError: the mapping names attributes the source does not have: OWNR_NAME (for owner_name). "
        "Its attributes are: OBJECTID, PARCEL, SITUS"
    )
    assert [r.kind for r in layer.requests] == ["metadata"]
    assert m.Property.objects.count() == 0
    assert run.schema == {
        "OBJECTID": "esriFieldTypeOID",
        "PARCEL": "esriFieldTypeString",
        "SITUS": "esriFieldTypeString",
    }


@pytest.mark.django_db
def test_a_typo_in_a_file_mapping_fails_before_any_row_is_loaded(tmp_path):
    csv = tmp_path / "parcels.csv"
    csv.write_text("PARCEL,OWNER\n29-1,JANE DOE\n")

    run = ingest_adhoc(url=str(csv), dataset="parcels", mapping={"parcel_id": "PARCEL", "owner_name": "OWNR"})

    assert (run.status, run.processed, run.pages) == ("failed", 0, 0)
    assert run.message == (
        "SourceError: the mapping names attributes the source does not have: OWNR (for owner_name). "
        "Its attributes are: PARCEL, OWNER"
    )


@pytest.mark.django_db
def test_a_preset_may_name_columns_a_file_lacks_but_what_the_user_wrote_is_checked():
    url = str(FILES / "generic_parcels.csv")  # generic_csv also maps external_id, unit, county: not in this file

    ok = ingest_adhoc(url=url, dataset="parcels", mapping={"preset": "generic_csv"})
    bad = ingest_adhoc(url=url, dataset="listings", mapping={"preset": "generic_csv", "list_price": "PRICE"})

    assert ok.status == "partial"
    assert bad.message.startswith("SourceError: the mapping names attributes the source does not have: PRICE (for")


# --- drift between runs ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_run_stores_the_schema_and_the_drift_since_the_previous_run(tmp_path):
    csv = tmp_path / "parcels.csv"
    csv.write_text("PARCEL,OWNER,SITUS\n29-1,JANE DOE,1 MAIN ST\n")
    source = DataSourceFactory(
        kind="file", url=str(csv), field_mapping={"parcel_id": "PARCEL", "owner_name": "OWNER"}, enabled=True
    )

    first = datasource_ingest(source_id=source.pk)
    csv.write_text("PARCEL,OWNER,ZIP\n29-1,JANE DOE,44303\n")
    second = datasource_ingest(source_id=source.pk)
    csv.write_text("PARCEL,ZIP\n29-1,44303\n")
    third = datasource_ingest(source_id=source.pk)

    assert (first.schema, first.schema_drift["compared"]) == (
        {"PARCEL": "text", "OWNER": "text", "SITUS": "text"},
        False,
    )
    assert (second.status, second.schema_drift) == (
        "success",
        {"compared": True, "added": ["ZIP"], "removed": ["SITUS"], "retyped": [], "missing_mapped": []},
    )
    assert third.status == "failed"
    assert third.schema_drift == {
        "compared": True, "added": [], "removed": ["OWNER"], "retyped": [], "missing_mapped": ["OWNER"],
    }  # fmt: skip
    assert third.message.startswith("SourceError: the mapping names attributes the source does not have: OWNER")


@pytest.mark.django_db
def test_a_json_file_schema_takes_every_records_keys_with_their_json_types(tmp_path):
    path = tmp_path / "records.json"
    path.write_text(json.dumps([{"pin": "A-1", "value": 100}, {"pin": "A-2", "value": None, "vacant": True}]))

    run = ingest_adhoc(url=str(path), dataset="parcels", mapping={"parcel_id": "pin"})

    assert run.schema == {"pin": "string", "value": "number", "vacant": "boolean"}
