"""ArcGIS sources as brokers meet them: URLs in any case and form, service roots, pages without a spatial
reference, unsupported coordinate systems, editor tracking, and the server's own error text (issue 19: 1, 2i, 2n)."""

import datetime as dt

import pytest
from django.contrib.gis.geos import Polygon

from properties import models as m
from properties.ingest.arcgis import ArcGISClient, ArcGISReader
from properties.ingest.base import SourceError
from properties.ingest.urls import arcgis_url, guess_kind
from properties.services import ingest_adhoc
from tests.fakes.arcgis import FakeArcGISLayer, load_arcgis_fixture, point_features

# Akron, OH: where the Summit-like county's parcels are.
AKRON = Polygon.from_bbox((-81.6, 41.0, -81.4, 41.2))
SUMMIT_MAPPING = {"parcel_id": "PARCELID", "owner_name": "OWNERNME1", "street": "SITEADDRESS", "zip": "SITEZIP"}


def read(url, **options) -> list:
    return list(ArcGISReader(ArcGISClient(url, retry_wait=0, **options)))


@pytest.mark.parametrize(
    ("url", "kind", "canonical"),
    [
        ("https://gis.example.gov/arcgis/rest/services/Parcels/featureserver/0", "arcgis", None),
        ("https://gis.example.gov/ArcGIS/rest/services/Parcels/MAPSERVER/12/query?where=1%3D1&f=json", "arcgis",
         "https://gis.example.gov/ArcGIS/rest/services/Parcels/MAPSERVER/12"),
        ("https://gis.example.gov/arcgis/rest/services/Parcels/FeatureServer/", "arcgis",
         "https://gis.example.gov/arcgis/rest/services/Parcels/FeatureServer"),
        ("HTTPS://services1.arcgis.com/AbC/arcgis/rest/services/Tax_Parcels/FeatureServer/3/", "arcgis",
         "https://services1.arcgis.com/AbC/arcgis/rest/services/Tax_Parcels/FeatureServer/3"),
        ("https://data.example.gov/datasets/abc_0.csv", "file", None),
    ],
)  # fmt: skip
def test_arcgis_urls_are_recognised_whatever_their_case_and_form(url, kind, canonical):
    assert guess_kind(url) == kind
    if canonical:
        assert arcgis_url(url) == canonical


@pytest.mark.django_db
def test_a_lowercase_featureserver_url_is_ingested_as_a_layer(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(3), name="Parcels")
    url = layer.url.replace("FeatureServer", "featureserver") + "/query?where=1%3D1&outFields=*&f=json"
    httpserver.expect_request(layer.path.replace("FeatureServer", "featureserver")).respond_with_handler(
        layer._metadata
    )
    httpserver.expect_request(layer.path.replace("FeatureServer", "featureserver") + "/query").respond_with_handler(
        layer._query
    )

    run = ingest_adhoc(url=url, dataset="parcels", mapping={"parcel_id": "PARCEL", "street": "SITUS"})

    assert (run.status, run.inserted) == ("success", 3)
    assert (run.source.kind, run.source.url) == ("arcgis", url.split("/query")[0])


@pytest.mark.django_db
def test_a_service_root_is_refused_with_the_layers_to_pick_from(httpserver):
    httpserver.expect_request("/arcgis/rest/services/Fiscal/FeatureServer").respond_with_json(
        load_arcgis_fixture("summit-oh-service-root")
    )
    url = httpserver.url_for("/arcgis/rest/services/Fiscal/FeatureServer")

    run = ingest_adhoc(url=url, dataset="parcels", mapping=SUMMIT_MAPPING)

    assert run.status == "failed"
    assert run.message == (
        f"SourceError: {url} is an ArcGIS service, not a layer: add the layer's number to the URL: "
        f"{url}/0 (Tax Parcels); {url}/1 (Delinquent Parcels); {url}/2 (Sales History)"
    )
    assert [r.path for r, _ in httpserver.log] == ["/arcgis/rest/services/Fiscal/FeatureServer"]


def test_the_layer_metadata_carries_editor_tracking_and_aliases(httpserver):
    httpserver.expect_request("/s/FeatureServer/0").respond_with_json(load_arcgis_fixture("summit-oh-parcels-metadata"))

    meta = ArcGISClient(httpserver.url_for("/s/FeatureServer/0")).metadata()

    assert (meta.name, meta.geometry_type, meta.max_record_count, meta.object_id_field) == (
        "Tax Parcels",
        "esriGeometryPolygon",
        2000,
        "OBJECTID",
    )
    assert meta.spatial_reference == {"wkid": 102722, "latestWkid": 3734}
    assert meta.edit_date_field == "last_edited_date"
    assert meta.last_edit_date == dt.datetime(2024, 12, 3, tzinfo=dt.UTC)
    assert (meta.aliases["OWNERNME1"], meta.aliases["SITEADDRESS"]) == ("Owner Name", "Site Address")
    assert meta.layers is None


# --- 2i: the layer's spatial reference when a page names none ------------------------------------------------


@pytest.mark.django_db
def test_a_page_without_a_spatial_reference_is_read_in_the_layers_own_system(httpserver):
    """Regression: such a page (a server that ignored outSR) was read as lon/lat, storing state-plane feet."""
    layer = FakeArcGISLayer.from_fixture(httpserver, "summit-oh-parcels")
    assert "spatialReference" not in load_arcgis_fixture("summit-oh-parcels-features")

    run = ingest_adhoc(url=layer.url, dataset="parcels", mapping=SUMMIT_MAPPING)

    assert (run.status, run.inserted) == ("success", 12)
    points = list(m.Property.objects.values_list("location", flat=True))
    assert len(points) == 12
    assert all(AKRON.contains(p) for p in points), [p.coords for p in points]
    first = m.Property.objects.get(parcel_id="6854000")
    assert first.location.coords == pytest.approx((-81.52, 41.07), abs=1e-4)


def test_a_page_in_degrees_without_a_spatial_reference_is_not_transformed_again(httpserver):
    layer = FakeArcGISLayer(
        httpserver,
        point_features(3),
        spatial_reference={"wkid": 102722, "latestWkid": 3734},
        answer_spatial_reference=None,
    )

    (page,) = read(layer.url)

    assert [r.xy for r in page.records] == [(-81.3779, 28.5384), (-81.3769, 28.5384), (-81.3759, 28.5384)]


@pytest.mark.parametrize(
    ("spatial_reference", "label"),
    [
        ({"wkid": 99999}, "WKID 99999"),
        (
            {"wkt": 'LOCAL_CS["Plant grid",LOCAL_DATUM["site",0],UNIT["Foot_US",0.3048006096012192]]'},
            "WKT 'Plant grid'",
        ),
        ({"wkt": "PROJCS[this is not WKT"}, "WKT 'PROJCS[this is not WKT'"),
    ],
)
def test_an_unsupported_coordinate_system_is_a_clear_message(httpserver, spatial_reference, label):
    features = [{"attributes": {"OBJECTID": 1, "PARCEL": "P-1"}, "geometry": {"x": 1000.0, "y": 2000.0}}]
    layer = FakeArcGISLayer(httpserver, features, spatial_reference=spatial_reference)

    (page,) = read(layer.url)

    assert page.error.startswith(
        f"unsupported coordinate system {label}: it cannot be converted to longitude/latitude ("
    )
    assert "SRSException" not in page.error
    assert page.failed_ids == ["1"]


@pytest.mark.django_db
def test_when_nothing_loads_the_run_says_why_in_the_servers_words(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(4), max_record_count=2, fail_pages={1: "400", 2: "error_body"})

    run = ingest_adhoc(url=layer.url, dataset="parcels", mapping={"parcel_id": "PARCEL"})

    assert run.status == "failed"
    assert run.message == f"no record could be loaded; page 1: HTTP 400 from POST {layer.url}/query: 400: Error"
    assert [e["reason"] for e in run.errors] == [
        f"HTTP 400 from POST {layer.url}/query: 400: Error",
        "ArcGIS error 400: Unable to complete operation.",
    ]


def test_a_service_root_read_directly_is_a_source_error(httpserver):
    httpserver.expect_request("/x/MapServer").respond_with_json({"layers": [], "tables": []})
    with pytest.raises(SourceError, match="is an ArcGIS service, not a layer: add the layer's number to the URL"):
        read(httpserver.url_for("/x/MapServer"))
