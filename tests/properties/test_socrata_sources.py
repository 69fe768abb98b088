"""Socrata datasets typed by their metadata (issue 19 2k) and pulled incrementally with `$where` (issue 19 3)."""

import datetime as dt
import json
from pathlib import Path

import pytest
from django.utils import timezone

from properties import models as m
from properties.ingest.socrata import SocrataReader
from properties.ingest.urls import guess_kind, socrata_resource_url
from properties.services import datasource_ingest
from tests.factories import DataSourceFactory
from tests.fakes.socrata import load_socrata_fixture

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "socrata"
ROWS = load_socrata_fixture("x8yt-3q2b")
COLUMNS = json.loads((FIXTURES / "x8yt-3q2b-metadata.json").read_text())["columns"]
MAPPING = {
    "parcel_id": "parcel_number",
    "case_number": "case_number",
    "violation_type": "violation_description",
    "status": "status",
    "opened_at": "date_opened",
    "closed_at": "date_closed",
    "street": "address",
    "zip": "zip_code",
}


@pytest.fixture
def dataset(fake_socrata_dataset):
    return fake_socrata_dataset(ROWS, dataset_id="x8yt-3q2b", columns=COLUMNS)


@pytest.mark.parametrize(
    "url",
    [
        "https://data.example.gov/resource/x8yt-3q2b.json",
        "https://data.example.gov/resource/x8yt-3q2b.csv?$limit=5",
        "https://data.example.gov/Housing/Property-Maintenance-Code-Violations/x8yt-3q2b",
        "https://data.example.gov/d/x8yt-3q2b",
        "https://data.example.gov/api/views/x8yt-3q2b/rows.json",
        "https://data.example.gov/api/v3/views/x8yt-3q2b/query.json",
    ],
)
def test_every_form_of_a_dataset_url_reads_its_resource(url):
    assert guess_kind(url) == "socrata"
    assert socrata_resource_url(url) == "https://data.example.gov/resource/x8yt-3q2b.json"


def test_the_point_column_is_found_by_its_type_whatever_its_name(dataset):
    """Regression: only location/the_geom/geocoded_column were looked at, so a `shape` column placed nothing."""
    (page,) = list(SocrataReader(dataset.url, retry_wait=0))

    placed = {r.external_id: r.geometry.coords for r in page.records if r.geometry is not None}
    assert len(page.records) == 8
    assert len(placed) == 7  # one row has no shape
    assert placed[ROWS[0][":id"]] == (-81.5, 41.08)
    assert dataset.metadata_requests == 1


def test_without_metadata_any_column_holding_a_geometry_is_used(fake_socrata_dataset):
    dataset = fake_socrata_dataset(ROWS, dataset_id="x8yt-3q2b", columns=False)

    (page,) = list(SocrataReader(dataset.url, retry_wait=0))

    assert sum(1 for r in page.records if r.geometry is not None) == 7


def test_the_schema_lists_the_columns_with_their_socrata_types(dataset):
    schema = SocrataReader(dataset.url, retry_wait=0).schema()

    assert schema.as_dict() == {
        "case_number": "text", "violation_code": "text", "violation_description": "text", "status": "text",
        "date_opened": "calendar_date", "date_closed": "calendar_date", "parcel_number": "text", "address": "text",
        "zip_code": "text", "shape": "point",
    }  # fmt: skip
    assert schema.has(":updated_at") and schema.has("shape.coordinates")


@pytest.mark.django_db
def test_a_mapping_may_name_nested_keys(fake_socrata_dataset):
    rows = [
        {**row, "shape": None, "geo": {"latitude": "41.09", "longitude": "-81.51", "human_address": '{"zip": "44304"}'}}
        for row in ROWS[:2]
    ]
    dataset = fake_socrata_dataset(rows, dataset_id="x8yt-3q2b", columns=False)
    source = DataSourceFactory(
        kind="socrata", dataset="code_violations", url=dataset.url, enabled=True,
        field_mapping={**MAPPING, "latitude": "geo.latitude", "longitude": "GEO.Longitude",
                       "zip": "geo.human_address.zip"},
    )  # fmt: skip

    run = datasource_ingest(source_id=source.pk)

    assert (run.status, run.inserted) == ("success", 2)
    assert {(p.location.coords, p.zip) for p in m.Property.objects.all()} == {((-81.51, 41.09), "44304")}


@pytest.mark.django_db
def test_coordinates_pairs_map_to_latitude_and_longitude(fake_socrata_dataset):
    rows = [{**row, "spot": row["shape"], "shape": None} for row in ROWS[:3]]
    dataset = fake_socrata_dataset(rows, dataset_id="x8yt-3q2b", columns=False)
    source = DataSourceFactory(
        kind="socrata", dataset="code_violations", url=dataset.url, enabled=True,
        field_mapping={**MAPPING, "latitude": "spot.coordinates", "longitude": "spot.coordinates"},
    )  # fmt: skip

    datasource_ingest(source_id=source.pk)

    assert sorted(p.location.coords for p in m.Property.objects.all()) == [
        (-81.5, 41.08), (-81.497, 41.082), (-81.494, 41.084),
    ]  # fmt: skip


# --- incremental pulls ---------------------------------------------------------------------------------


@pytest.fixture
def incremental_source(dataset):
    return DataSourceFactory(
        kind="socrata", dataset="code_violations", url=dataset.url, field_mapping=MAPPING,
        incremental_field=":updated_at", enabled=True,
    )  # fmt: skip


@pytest.mark.django_db
def test_the_first_run_reads_everything_then_only_rows_changed_since_the_last_success(
    dataset, incremental_source, settings
):
    settings.INGEST_FULL_READ_DAYS = 100_000  # the full read back-dated to 2024 still counts as recent
    first = datasource_ingest(source_id=incremental_source.pk)
    m.IngestionRun.objects.filter(pk=first.pk).update(started_at=dt.datetime(2024, 10, 14, 12, tzinfo=dt.UTC))

    second = datasource_ingest(source_id=incremental_source.pk)

    assert (first.status, first.processed, first.incremental_since) == ("success", 8, None)
    assert "$where" not in dataset.requests[0][0]
    since = dt.datetime(2024, 10, 14, 11, 45, tzinfo=dt.UTC)
    assert (second.status, second.incremental_since) == ("success", since)
    assert dataset.requests[-1][0]["$where"] == ":updated_at > '2024-10-14T11:45:00.000'"
    changed = [row for row in ROWS if row[":updated_at"] > "2024-10-14T11:45:00.000"]
    assert (second.processed, second.unchanged) == (len(changed), len(changed))
    assert 0 < len(changed) < len(ROWS)
    assert m.CodeViolation.objects.count() == 8


@pytest.mark.django_db
def test_a_changed_mapping_reads_everything_again(dataset, incremental_source):
    datasource_ingest(source_id=incremental_source.pk)
    incremental_source.field_mapping = {**MAPPING, "violation_type": "violation_code"}
    incremental_source.save()

    run = datasource_ingest(source_id=incremental_source.pk)

    assert (run.incremental_since, run.processed, run.updated) == (None, 8, 8)
    assert "$where" not in dataset.requests[-1][0]


@pytest.mark.django_db
def test_a_server_refusing_the_incremental_query_is_read_in_full(fake_socrata_dataset):
    dataset = fake_socrata_dataset(ROWS, dataset_id="x8yt-3q2b", columns=COLUMNS, where_ok=False)
    source = DataSourceFactory(
        kind="socrata", dataset="code_violations", url=dataset.url, field_mapping=MAPPING,
        incremental_field=":updated_at", enabled=True,
    )  # fmt: skip
    datasource_ingest(source_id=source.pk)

    run = datasource_ingest(source_id=source.pk)

    assert (run.status, run.incremental_since, run.processed) == ("success", None, 8)
    assert "$where" in dataset.requests[-2][0] and "$where" not in dataset.requests[-1][0]


@pytest.mark.django_db
def test_a_failed_run_does_not_move_the_starting_point(dataset, incremental_source):
    datasource_ingest(source_id=incremental_source.pk)
    last_success = m.IngestionRun.objects.get().started_at
    m.IngestionRun.objects.create(
        source=incremental_source, status="failed", started_at=timezone.now(), mapping_fingerprint="x"
    )

    run = datasource_ingest(source_id=incremental_source.pk)

    assert run.incremental_since == last_success - dt.timedelta(minutes=15)
