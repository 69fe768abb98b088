"""File formats wholesalers meet (issue 19 3): GeoJSON (points, polygons, an old-style projected `crs`), ArcGIS Hub
CSV and GeoJSON downloads (X/Y columns, `format=` links without a suffix), and CSV dialects."""

from pathlib import Path

import pytest
from django.contrib.gis.geos import Polygon

from properties import models as m
from properties.ingest.files import FileReader, dialect_label
from properties.ingest.urls import file_format, guess_kind
from properties.services import ingest_adhoc

FILES = Path(__file__).resolve().parent.parent / "fixtures" / "files"
DETROIT = Polygon.from_bbox((-83.2, 42.25, -82.9, 42.45))
HUB_MAPPING = {
    "parcel_id": "parcel_num",
    "street": "propaddr",
    "zip": "zip_code",
    "owner_name": "taxpayer_1",
    "mailing_street": "taxpayer_street",
    "mailing_city": "taxpayer_city",
    "mailing_state": "taxpayer_state",
    "mailing_zip": "taxpayer_zip",
    "assessed_value": "assessed_value",
}


def records(path_or_url: str) -> list:
    return [r for page in FileReader(path_or_url) for r in page.records]


def test_a_hub_geojson_download_gives_properties_and_a_point_on_each_shape():
    got = records(str(FILES / "hub-detroit-parcels.geojson"))

    assert [r.external_id for r in got] == ["101", "102", "103", "104", "105", "106"]  # OBJECTID: no feature ids
    assert got[0].attributes["taxpayer_1"] == "JONES LATOYA"
    polygon, point, multipolygon, none = got[0], got[1], got[4], got[5]
    assert polygon.xy == pytest.approx((-83.0498, 42.3502), abs=1e-4)  # a point on the polygon's surface
    assert point.xy == pytest.approx((-83.04, 42.354))
    assert DETROIT.contains(multipolygon.geometry)
    assert (none.geometry, none.xy) == (None, None)


def test_an_old_style_crs_is_transformed_to_longitude_latitude():
    got = records(str(FILES / "stateplane-points.geojson"))

    assert [r.external_id for r in got] == ["6854000", "6854017", "6854034"]
    assert got[0].xy == pytest.approx((-81.52, 41.08), abs=1e-6)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://opendata.arcgis.com/datasets/0a1b2c_0.csv", "csv"),
        ("https://hub.arcgis.com/api/v3/datasets/0a1b2c_0/downloads/data?format=geojson&spatialRefId=4326", "json"),
        ("https://data-detroitmi.opendata.arcgis.com/api/download/v1/items/0a1b/csv?layers=0", None),
        ("https://example.com/export?format=CSV", "csv"),
    ],
)
def test_hub_download_links_say_their_format(url, expected):
    assert guess_kind(url) == "file"
    assert file_format(url) == expected


def test_a_download_link_without_a_suffix_is_read_by_its_content(httpserver):
    body = (FILES / "hub-detroit-parcels.geojson").read_text()
    httpserver.expect_request("/api/v3/datasets/0a1b_0/downloads/data").respond_with_data(
        body, content_type="application/octet-stream"
    )
    url = httpserver.url_for("/api/v3/datasets/0a1b_0/downloads/data") + "?format=geojson&spatialRefId=4326"

    assert len(records(url)) == 6


@pytest.mark.django_db
def test_a_hub_csv_with_x_and_y_columns_lands_with_its_points():
    mapping = {**HUB_MAPPING, "longitude": "X", "latitude": "Y"}

    run = ingest_adhoc(url=str(FILES / "hub-detroit-parcels.csv"), dataset="parcels", mapping=mapping)

    assert (run.status, run.inserted) == ("success", 6)
    placed = m.Property.objects.exclude(location=None)
    assert placed.count() == 5
    assert all(DETROIT.contains(p.location) for p in placed)
    owner = m.Property.objects.get(parcel_id="22001236")
    assert (owner.owner_name, owner.is_absentee) == ("1200 MICHIGAN LLC", True)


@pytest.mark.django_db
def test_a_hub_geojson_ingests_exactly_and_idempotently():
    url = str(FILES / "hub-detroit-parcels.geojson")

    first = ingest_adhoc(url=url, dataset="parcels", mapping=HUB_MAPPING)
    again = ingest_adhoc(url=url, dataset="parcels", mapping=HUB_MAPPING)

    assert (first.status, first.inserted, again.unchanged) == ("success", 6, 6)
    assert m.Property.objects.exclude(location=None).count() == 5


@pytest.mark.parametrize(
    ("delimiter", "label"), [(";", "semicolon-separated"), ("\t", "tab-separated"), ("|", "pipe-separated")]
)
def test_csv_dialects_are_sniffed(tmp_path, delimiter, label):
    path = tmp_path / "export.csv"
    lines = ["PARCEL;OWNER;SITUS", '12-3;"DOE; JANE";1 MAIN ST', "12-4;ROE JOHN;2 MAIN ST"]
    path.write_text("\n".join(line.replace(";", delimiter) for line in lines) + "\n")
    reader = FileReader(str(path))

    got = records(str(path))

    assert [r.attributes for r in got] == [
        {"PARCEL": "12-3", "OWNER": f"DOE{delimiter} JANE", "SITUS": "1 MAIN ST"},
        {"PARCEL": "12-4", "OWNER": "ROE JOHN", "SITUS": "2 MAIN ST"},
    ]
    assert reader.schema().names == ["PARCEL", "OWNER", "SITUS"]
    assert dialect_label(reader.dialect) == label
