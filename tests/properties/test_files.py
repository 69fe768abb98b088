import datetime as dt
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import respx

from properties import models as m
from properties.ingest.base import SourceError
from properties.ingest.files import FileReader
from properties.services import datasource_ingest
from tests.factories import DataSourceFactory

FILES = Path(__file__).resolve().parent.parent / "fixtures" / "files"


def read(name, page_size=1000):
    return list(FileReader(str(FILES / name), page_size=page_size))


def test_csv_pages_are_bounded_and_rows_keep_line_numbers():
    pages = read("generic_parcels.csv", page_size=3)
    assert [(p.number, [r.external_id for r in p.records]) for p in pages] == [(1, ["2", "3", "4"]), (2, ["5"])]
    assert pages[0].records[0].attributes["owner_mailing_address"] == "PO Box 12, Tampa, FL 33601"
    assert pages[0].records[2].attributes["__row_error__"] == "row has 14 columns, the header has 15"


def test_arcgis_feature_json_projected_polygons_become_4326_points():
    (page,) = read("parcels_arcgis.json")
    first, second = page.records
    assert (first.external_id, second.external_id) == ("7", "8")
    assert first.geometry.srid == 4326
    assert first.geometry.x == pytest.approx(-81.4558, abs=1e-3)
    assert first.geometry.y == pytest.approx(28.5655, abs=1e-3)
    assert second.geometry is None


def test_geojson_and_plain_json_lists():
    (page,) = read("parcels.geojson")
    assert [r.external_id for r in page.records] == ["p1", "2"]
    assert page.records[0].geometry.coords == pytest.approx((-81.3295, 28.5405))
    assert page.records[0].attributes["SITUS"] == "4410 Lake Underhill Rd"
    (page,) = read("records.json")
    assert [(r.external_id, r.attributes["PARCEL"]) for r in page.records] == [
        ("1", "13-23-32-7600-00-070"),
        ("2", "322313760000071"),
    ]


def test_missing_file_and_bad_json_are_source_errors(tmp_path):
    with pytest.raises(SourceError, match="file not found"):
        list(FileReader(str(tmp_path / "nope.csv")))
    bad = tmp_path / "bad.json"
    bad.write_text('{"features": [')
    with pytest.raises(SourceError, match="is not valid JSON"):
        list(FileReader(str(bad)))


def test_csv_over_http(httpserver):
    httpserver.expect_request("/export.csv").respond_with_data(
        (FILES / "zillow_export.csv").read_text(), content_type="text/csv"
    )
    (page,) = list(FileReader(httpserver.url_for("/export.csv")))
    assert [r.attributes["zpid"] for r in page.records] == ["44100001", "44100002"]


def file_source(name, dataset, mapping, parcel_format="orange_fl"):
    return DataSourceFactory(
        kind="file",
        dataset=dataset,
        url=str(FILES / name),
        field_mapping=mapping,
        parcel_format=parcel_format,
        enabled=True,
    )


def counts(run):
    return (run.status, run.processed, run.inserted, run.updated, run.unchanged, run.failed)


@pytest.mark.django_db
def test_mls_preset_bad_rows_recorded_good_rows_land():
    source = file_source("mls_export.csv", "listings", {"preset": "mls"})
    run = datasource_ingest(source_id=source.pk)
    assert counts(run) == ("partial", 4, 3, 0, 0, 1)
    assert run.errors == [{"record": "4", "reason": "missing parcel_id"}]
    # A word in the price column drops the price, not the listing.
    assert run.field_stats["list_price"]["examples"] == ["record 5: ListPrice: 'three hundred' is not a number"]
    assert m.Listing.objects.get(external_id="O6123459").list_price is None
    first = m.Listing.objects.get(external_id="O6123456")
    assert (first.list_price, first.status, first.days_on_market, first.listed_at) == (
        Decimal("249900.00"),
        "active",
        38,
        dt.date(2025, 11, 20),
    )
    assert first.property.parcel_id == "282229885002050"
    assert first.property.address_normalized == "1208 W KALEY ST, ORLANDO, FL 32805"
    change = first.price_changes.get()
    assert (change.old_price, change.new_price, change.changed_at) == (
        Decimal("265000.00"),
        Decimal("249900.00"),
        dt.datetime(2026, 1, 3, 14, 22, tzinfo=dt.UTC),
    )
    second = m.Listing.objects.get(external_id="O6123457")
    assert (second.status, second.property.unit, second.property.property_type) == ("pending", "UNIT 2", "condo")
    assert counts(datasource_ingest(source_id=source.pk)) == ("partial", 4, 0, 0, 3, 1)
    assert (m.Listing.objects.count(), m.PriceChange.objects.count(), m.Property.objects.count()) == (3, 1, 3)


@pytest.mark.django_db
def test_zillow_and_realtor_presets_land_on_the_same_parcels():
    zillow = datasource_ingest(source_id=file_source("zillow_export.csv", "listings", {"preset": "zillow"}).pk)
    realtor = datasource_ingest(source_id=file_source("realtor_export.csv", "listings", {"preset": "realtor"}).pk)
    assert counts(zillow) == ("success", 2, 2, 0, 0, 0)
    assert counts(realtor) == ("success", 2, 2, 0, 0, 0)
    kaley = m.Property.objects.get(parcel_id="282229885002050")
    assert sorted(kaley.listings.values_list("external_id", "list_price")) == [
        ("2981234567", Decimal("244900.00")),
        ("44100001", Decimal("239900.00")),
    ]
    assert kaley.sources.count() == 2
    assert m.PriceChange.objects.get().old_price == Decimal("249900.00")
    assert m.Property.objects.count() == 3


@pytest.mark.django_db
def test_generic_csv_parcels():
    source = file_source("generic_parcels.csv", "parcels", {"preset": "generic_csv"}, parcel_format="plain")
    run = datasource_ingest(source_id=source.pk)
    assert counts(run) == ("partial", 4, 3, 0, 0, 1)
    assert run.errors == [{"record": "4", "reason": "row has 14 columns, the header has 15"}]
    rows = m.Property.objects.order_by("parcel_id").values_list("parcel_id", "property_type", "is_absentee", "location")
    assert [(p, t, a, loc.coords if loc else None) for p, t, a, loc in rows] == [
        ("A100", "sfr", True, (-81.38, 28.54)),
        ("A101", "condo", False, (-81.381, 28.541)),
        ("A103", "multi", False, None),
    ]
    assert counts(datasource_ingest(source_id=source.pk)) == ("partial", 4, 0, 0, 3, 1)


# --- size and row limits: a refused file writes nothing and the run says why ----------------------


@pytest.mark.django_db
def test_a_file_over_the_byte_limit_fails_the_run_and_writes_nothing(settings):
    size = (FILES / "generic_parcels.csv").stat().st_size
    settings.INGEST_UPLOAD_MAX_BYTES = size - 1
    source = file_source("generic_parcels.csv", "parcels", {"preset": "generic_csv"}, parcel_format="plain")
    run = datasource_ingest(source_id=source.pk)
    assert (run.status, run.pages, run.processed) == ("failed", 0, 0)
    assert run.message == (
        f"SourceError: generic_parcels.csv is larger than the {size - 1:,}-byte limit"
        f" ({size:,} bytes or more; INGEST_UPLOAD_MAX_BYTES); nothing was loaded"
    )
    assert m.Property.objects.count() == 0
    settings.INGEST_UPLOAD_MAX_BYTES = size
    assert datasource_ingest(source_id=source.pk).status == "partial"  # at the limit: loads (one bad row)


@pytest.mark.django_db
def test_a_file_over_the_row_limit_fails_the_run_and_writes_nothing(settings):
    settings.INGEST_UPLOAD_MAX_ROWS = 3
    source = file_source("generic_parcels.csv", "parcels", {"preset": "generic_csv"}, parcel_format="plain")
    run = datasource_ingest(source_id=source.pk)
    assert (run.status, run.pages, run.processed) == ("failed", 0, 0)
    assert run.message == (
        "SourceError: generic_parcels.csv has 4 records, more than the 3-record limit"
        " (INGEST_UPLOAD_MAX_ROWS); nothing was loaded"
    )
    assert m.Property.objects.count() == 0
    settings.INGEST_UPLOAD_MAX_ROWS = 4
    assert datasource_ingest(source_id=source.pk).status == "partial"


def test_json_record_counts_are_limited_too():
    with pytest.raises(SourceError) as caught:
        list(FileReader(str(FILES / "records.json"), max_rows=1))
    assert str(caught.value) == (
        "records.json has 2 records, more than the 1-record limit (INGEST_UPLOAD_MAX_ROWS); nothing was loaded"
    )
    (page,) = list(FileReader(str(FILES / "parcels.geojson"), max_rows=2))
    assert len(page.records) == 2


def test_a_download_declaring_too_many_bytes_is_refused(httpserver):
    body = (FILES / "zillow_export.csv").read_text()
    httpserver.expect_request("/export.csv").respond_with_data(body, content_type="text/csv")
    url = httpserver.url_for("/export.csv")
    with pytest.raises(SourceError) as caught:
        list(FileReader(url, max_bytes=100))
    assert str(caught.value) == (
        f"{url} is larger than the 100-byte limit ({len(body.encode()):,} bytes or more; INGEST_UPLOAD_MAX_BYTES);"
        " nothing was loaded"
    )


@respx.mock
def test_a_streamed_download_is_cut_off_at_the_limit():
    """No Content-Length (chunked): counting stops the download as soon as it passes the limit."""
    chunks = [b"parcel_id,street\n", b"A-1,1 Main St\n" * 10, b"A-2,2 Main St\n" * 10]
    respx.get("https://files.example.test/big.csv").mock(
        side_effect=lambda request: httpx.Response(200, content=iter(chunks))
    )
    with pytest.raises(SourceError) as caught:
        list(FileReader("https://files.example.test/big.csv", max_bytes=100))
    assert str(caught.value) == (
        f"https://files.example.test/big.csv is larger than the 100-byte limit ({17 + 140:,} bytes or more;"
        " INGEST_UPLOAD_MAX_BYTES); nothing was loaded"
    )
    (page,) = list(FileReader("https://files.example.test/big.csv", max_bytes=1000))
    assert [r.attributes["parcel_id"] for r in page.records] == ["A-1"] * 10 + ["A-2"] * 10


@pytest.mark.django_db
def test_a_refused_download_url_fails_the_run(httpserver, settings):
    settings.INGEST_ALLOW_PRIVATE_URLS = False
    source = DataSourceFactory(
        kind="file",
        dataset="parcels",
        url=httpserver.url_for("/p.csv"),
        field_mapping={"preset": "generic_csv"},
        enabled=True,
    )
    run = datasource_ingest(source_id=source.pk)
    assert (run.status, run.processed) == ("failed", 0)
    assert run.message == (
        f"SourceError: refused to download {source.url}: localhost resolves to a loopback address (127.0.0.1);"
        " not allowed in production"
    )
    assert httpserver.log == []
