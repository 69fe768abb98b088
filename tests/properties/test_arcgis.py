import datetime as dt
import json

import httpx
import pytest
from django.contrib.gis.geos import GEOSGeometry

from properties.ingest.arcgis import ArcGISClient, ArcGISReader, esri_date
from properties.ingest.base import SourceError
from properties.ingest.http import RETRY_ATTEMPTS, USER_AGENT
from tests.fakes.arcgis import FakeArcGISLayer, load_arcgis_fixture, point_features

UTC = dt.UTC


def read(url, **options) -> list:
    return list(ArcGISReader(ArcGISClient(url, retry_wait=0, **options)))


def ids_of(pages) -> list[str]:
    return [r.external_id for page in pages for r in page.records]


def serve_json(httpserver, path: str, body, *, query_string=None):
    httpserver.expect_request(path, query_string=query_string).respond_with_json(body)
    return httpserver.url_for(path)


# --- metadata ----------------------------------------------------------------------------
def test_metadata_reads_a_real_layer_description(httpserver):
    url = serve_json(httpserver, "/kent/MapServer/5", load_arcgis_fixture("kent-mi-parcels-metadata"))

    meta = ArcGISClient(url).metadata()

    assert meta.name == "Parcels"
    assert meta.max_record_count == 1000
    assert meta.object_id_field == "OBJECTID"
    assert meta.supports_pagination is False
    assert meta.geometry_type == "esriGeometryPolygon"
    assert meta.fields["PNUM"] == "esriFieldTypeString"
    assert meta.fields["SEVTRIBUNAL1"] == "esriFieldTypeDouble"
    assert meta.spatial_reference["wkt"].startswith('PROJCS["NAD_1983_StatePlane_Michigan_South_FIPS_2113_IntlFeet"')


def test_metadata_of_an_old_server_finds_the_oid_field_by_type_and_defaults_the_page_size(httpserver):
    url = serve_json(httpserver, "/cook/MapServer/11", load_arcgis_fixture("cook-il-poi-metadata"))

    meta = ArcGISClient(url).metadata()

    assert (meta.object_id_field, meta.max_record_count, meta.supports_pagination) == ("OBJECTID", 1000, False)
    assert meta.fields["LAST_EDIT"] == "esriFieldTypeDate"


def test_metadata_reads_pagination_support(httpserver):
    url = serve_json(httpserver, "/lancaster/FeatureServer/0", load_arcgis_fixture("lancaster-pa-metadata"))

    meta = ArcGISClient(url, page_size=250).metadata()

    assert (meta.supports_pagination, meta.object_id_field, meta.spatial_reference) == (
        True,
        "OBJECTID",
        {"wkid": 102729, "latestWkid": 2272},
    )
    assert ArcGISClient(url, page_size=250).chunk_size == 250
    assert ArcGISClient(url, page_size=5000).chunk_size == 1000


def test_an_error_body_with_http_200_for_metadata_is_a_source_error(httpserver):
    url = serve_json(httpserver, "/kent/MapServer/5", load_arcgis_fixture("kent-mi-statistics-error"))

    with pytest.raises(SourceError) as excinfo:
        list(ArcGISReader(ArcGISClient(url, retry_wait=0)))

    assert str(excinfo.value) == (
        f"cannot read ArcGIS layer metadata at {url}: ArcGIS error 400: Unable to complete operation."
    )


def test_metadata_that_is_not_json_is_a_source_error(httpserver):
    httpserver.expect_request("/broken/MapServer/0").respond_with_data("<html>Sign in</html>", content_type="text/html")

    with pytest.raises(SourceError, match=r"^cannot read ArcGIS layer metadata at .*: invalid JSON in response"):
        ArcGISClient(httpserver.url_for("/broken/MapServer/0")).metadata()


def test_object_ids_sent_as_doubles_become_sorted_integers(httpserver):
    serve_json(httpserver, "/columbia/MapServer/2/query", load_arcgis_fixture("columbia-mo-ids"))
    client = ArcGISClient(httpserver.url_for("/columbia/MapServer/2"))

    ids = client.object_ids()

    assert len(ids) == 43
    assert ids[:3] == [64579816, 64579817, 64579818]
    assert ids == sorted(ids)


# --- paging ------------------------------------------------------------------------------
def test_paging_by_object_ids_returns_every_record_once_in_posted_chunks(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(23), max_record_count=5)

    pages = read(layer.url)

    assert [p.number for p in pages] == [1, 2, 3, 4, 5]
    assert [len(p.records) for p in pages] == [5, 5, 5, 5, 3]
    assert ids_of(pages) == [str(n) for n in range(1, 24)]
    assert [r.kind for r in layer.requests] == ["metadata", "ids", "page", "page", "page", "page", "page"]
    chunks = [r.params["objectIds"].split(",") for r in layer.page_requests]
    assert [len(c) for c in chunks] == [5, 5, 5, 5, 3]
    for request in layer.page_requests:
        assert request.method == "POST"
        assert (request.params["outSR"], request.params["returnGeometry"], request.params["outFields"]) == (
            "4326",
            "true",
            "*",
        )
        assert request.headers["User-Agent"] == USER_AGENT
    assert layer.requests[1].params["where"] == "1=1"


def test_page_size_below_max_record_count_makes_smaller_chunks(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(10), max_record_count=5)

    pages = read(layer.url, page_size=3, where="STATUS = 'ACTIVE'")

    assert [len(p.records) for p in pages] == [3, 3, 3, 1]
    assert ids_of(pages) == [str(n) for n in range(1, 11)]
    assert layer.requests[1].params["where"] == "STATUS = 'ACTIVE'"


def test_a_server_answering_fewer_ids_than_asked_is_asked_again_for_the_rest(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(10), max_record_count=5, server_limit=3)

    pages = read(layer.url)

    assert ids_of(pages) == [str(n) for n in range(1, 11)]
    assert [len(p.records) for p in pages] == [3, 3, 3, 1]
    assert [len(r.params["objectIds"].split(",")) for r in layer.page_requests] == [5, 3, 3, 1]


def test_offset_paging_when_object_ids_are_unavailable_returns_every_record_once(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(23), max_record_count=5, supports_ids=False)

    pages = read(layer.url)

    assert ids_of(pages) == [str(n) for n in range(1, 24)]
    assert [len(p.records) for p in pages] == [5, 5, 5, 5, 3]
    assert [r.params["resultOffset"] for r in layer.page_requests] == ["0", "5", "10", "15", "20"]
    assert {(r.params["orderByFields"], r.params["resultRecordCount"]) for r in layer.page_requests} == {
        ("OBJECTID ASC", "5")
    }


def test_offset_paging_follows_exceeded_transfer_limit_and_stops_on_an_empty_page(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(20), max_record_count=5, supports_ids=False)

    pages = read(layer.url)

    assert ids_of(pages) == [str(n) for n in range(1, 21)]
    assert len(pages) == 4
    assert [r.params["resultOffset"] for r in layer.page_requests] == ["0", "5", "10", "15", "20"]


def test_offset_paging_moves_on_by_what_a_capped_server_returned(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(10), max_record_count=5, server_limit=4, supports_ids=False)

    pages = read(layer.url)

    assert ids_of(pages) == [str(n) for n in range(1, 11)]
    assert [r.params["resultOffset"] for r in layer.page_requests] == ["0", "4", "8"]


def test_a_layer_without_ids_or_pagination_is_a_source_error(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(3), supports_ids=False, supports_pagination=False)

    with pytest.raises(SourceError, match="lists no object ids and does not support pagination"):
        read(layer.url)


def test_an_empty_layer_yields_no_pages(httpserver):
    layer = FakeArcGISLayer(httpserver, [])

    assert read(layer.url) == []


def test_pages_are_streamed_one_request_at_a_time(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(23), max_record_count=5)
    pages = iter(ArcGISReader(ArcGISClient(layer.url, retry_wait=0)))

    first = next(pages)

    assert first.number == 1
    assert len(layer.page_requests) == 1


# --- failures ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "attempts", "error"),
    [
        ("500", RETRY_ATTEMPTS, "HTTP 500 from POST {url}/query"),
        ("error_body", 1, "ArcGIS error 400: Unable to complete operation."),
        ("truncated", 1, "invalid JSON in response: "),
    ],
)
def test_page_3_of_5_failing_by_object_ids_is_an_error_page_with_its_ids(httpserver, mode, attempts, error):
    layer = FakeArcGISLayer(httpserver, point_features(25), max_record_count=5, fail_pages={3: mode})

    pages = read(layer.url)

    assert [p.number for p in pages] == [1, 2, 3, 4, 5]
    assert [len(p.records) for p in pages] == [5, 5, 0, 5, 5]
    assert ids_of(pages) == [str(n) for n in (*range(1, 11), *range(16, 26))]
    failed = pages[2]
    assert failed.error.startswith(error.format(url=layer.url))
    assert failed.failed_ids == ["11", "12", "13", "14", "15"]
    assert [p.error for p in pages if p.number != 3] == [None] * 4
    assert layer.requests_for_page(3) == attempts


@pytest.mark.parametrize("mode", ["500", "error_body", "truncated"])
def test_page_3_of_5_failing_by_offset_is_an_error_page_and_paging_goes_on(httpserver, mode):
    layer = FakeArcGISLayer(
        httpserver, point_features(25), max_record_count=5, supports_ids=False, fail_pages={3: mode}
    )

    pages = read(layer.url)

    assert [len(p.records) for p in pages] == [5, 5, 0, 5, 5]
    assert ids_of(pages) == [str(n) for n in (*range(1, 11), *range(16, 26))]
    assert pages[2].error.startswith("records 10-14: ")
    assert pages[2].failed_ids == []


@pytest.mark.parametrize("mode", ["429_once", "503_once", "500_once"])
def test_429_and_5xx_are_retried_then_the_page_comes_through(httpserver, mode):
    layer = FakeArcGISLayer(httpserver, point_features(10), max_record_count=5, fail_pages={2: mode})

    pages = read(layer.url)

    assert ids_of(pages) == [str(n) for n in range(1, 11)]
    assert [p.error for p in pages] == [None, None]
    assert layer.requests_for_page(2) == 2


@pytest.mark.parametrize("status", ["400", "404"])
def test_other_4xx_are_not_retried(httpserver, status):
    layer = FakeArcGISLayer(httpserver, point_features(10), max_record_count=5, fail_pages={2: status})

    pages = read(layer.url)

    assert pages[1].error == f"HTTP {status} from POST {layer.url}/query: {status}: Error"  # the server's words
    assert pages[1].failed_ids == ["6", "7", "8", "9", "10"]
    assert layer.requests_for_page(2) == 1


def test_offset_paging_gives_up_after_three_failed_pages_in_a_row(httpserver):
    layer = FakeArcGISLayer(
        httpserver,
        point_features(30),
        max_record_count=5,
        supports_ids=False,
        fail_pages=dict.fromkeys(range(2, 7), "404"),
    )

    pages = read(layer.url)

    assert [(p.number, len(p.records), p.error is not None) for p in pages] == [
        (1, 5, False),
        (2, 0, True),
        (3, 0, True),
        (4, 0, True),
    ]


# --- dates -------------------------------------------------------------------------------
def test_esri_date_fields_become_exact_utc_datetimes(httpserver):
    answer = load_arcgis_fixture("waco-tx-parcels-query")
    layer = FakeArcGISLayer(
        httpserver, answer["features"], fields=answer["fields"], geometry_type="esriGeometryPolygon"
    )

    [record] = read(layer.url)[0].records

    assert record.attributes["DATE_DOC"] == dt.datetime(2014, 12, 15, 0, 0, tzinfo=UTC)
    assert record.attributes["deed_dt"] is None
    assert record.attributes["PIN"] == "136577001"
    assert record.geometry is not None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1418601600000, dt.datetime(2014, 12, 15, tzinfo=UTC)),
        (1418601600000.0, dt.datetime(2014, 12, 15, tzinfo=UTC)),
        ("1418601600000", dt.datetime(2014, 12, 15, tzinfo=UTC)),
        (1737003600123, dt.datetime(2025, 1, 16, 5, 0, 0, 123000, tzinfo=UTC)),
        (-86400000, dt.datetime(1969, 12, 31, tzinfo=UTC)),
        ("12/23/2005 12:00:00 AM", "12/23/2005 12:00:00 AM"),
        (None, None),
    ],
)
def test_esri_date_accepts_epoch_ms_as_int_double_or_string(value, expected):
    assert esri_date(value) == expected


def test_answers_without_fields_use_the_metadata_field_types(httpserver):
    answer = load_arcgis_fixture("cook-il-poi-query")  # no "fields"; LAST_EDIT is a date typed string
    features = [{**f, "attributes": {**f["attributes"], "LAST_EDIT": 1135296000000}} for f in answer["features"]]
    layer = FakeArcGISLayer(httpserver, features, date_fields=["LAST_EDIT"], fields_in_answers=False)

    records = read(layer.url)[0].records

    assert [r.attributes["LAST_EDIT"] for r in records] == [dt.datetime(2005, 12, 23, tzinfo=UTC)] * 2


def test_without_any_field_types_values_are_left_as_sent(httpserver):
    answer = load_arcgis_fixture("cook-il-poi-query")
    features = [{**f, "attributes": {**f["attributes"], "EPOCH": 1135296000000}} for f in answer["features"]]
    layer = FakeArcGISLayer(httpserver, features, fields=[], fields_in_answers=False)

    records = read(layer.url)[0].records

    assert [r.external_id for r in records] == ["2196", "3442"]
    assert [(r.attributes["LAST_EDIT"], r.attributes["EPOCH"]) for r in records] == [
        ("4/21/2006 12:00:00 AM", 1135296000000),
        ("3/2/1999 12:00:00 AM", 1135296000000),
    ]
    assert records[0].geometry.coords == pytest.approx((-87.969739519, 41.6429841820001))


# --- the Orange County FL tax-sale layer ---------------------------------------------------
def test_orange_county_tax_sale_layer_reads_completely(httpserver):
    layer = FakeArcGISLayer.from_fixture(httpserver, "orange-fl-tax-sales", max_record_count=5)
    features = {f["attributes"]["OBJECTID"]: f for f in load_arcgis_fixture("orange-fl-tax-sales-features")["features"]}

    pages = read(layer.url)

    assert [len(p.records) for p in pages] == [5, 5, 2]
    assert ids_of(pages) == [str(n) for n in range(101, 113)]
    first = pages[0].records[0]
    assert first.attributes["USER_PARCEL"] == "29-22-28-8850-02-050"
    assert first.attributes["USER_TDA_NUM"] == "2023-4348"
    assert first.attributes["USER_Sale_Date"] == dt.datetime(2025, 1, 16, 5, 0, tzinfo=UTC)
    assert first.attributes["USER_Deed_Status"] == "Active Sale"
    assert pages[1].records[0].attributes["USER_Sale_Date"] is None  # OBJECTID 106 has no sale date
    for record in (r for p in pages for r in p.records):
        rings = features[int(record.external_id)]["geometry"]["rings"]
        assert GEOSGeometry(json.dumps({"type": "Polygon", "coordinates": rings})).contains(record.geometry)


def test_a_shared_http_client_is_used_and_left_open(httpserver):
    layer = FakeArcGISLayer(httpserver, point_features(3))
    with httpx.Client(headers={"User-Agent": "shared"}) as shared:
        pages = read(layer.url, http=shared)
        assert not shared.is_closed

    assert ids_of(pages) == ["1", "2", "3"]
    assert {r.headers["User-Agent"] for r in layer.requests} == {"shared"}
