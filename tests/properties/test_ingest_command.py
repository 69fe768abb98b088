import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connections
from django.test import TestCase
from django.urls import reverse

from dealfinder.common.locks import advisory_lock_key
from properties import models as m
from properties.services import datasource_ingest
from tests.factories import DataSourceFactory
from tests.fakes.arcgis import FakeArcGISLayer

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parent.parent / "fixtures" / "files"
GENERIC = str(FILES / "generic_parcels.csv")


def ingest(*args):
    out = StringIO()
    call_command("ingest", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip().splitlines()


def test_ingest_by_slug_prints_summary():
    DataSourceFactory(
        slug="generic", name="Generic", kind="file", url=GENERIC, field_mapping={"preset": "generic_csv"}, enabled=True
    )
    assert ingest("generic") == [
        "Generic: processed=4 inserted=3 updated=0 unchanged=0 failed=1 status=partial stored=3 unplaced=1 duplicates=0"
    ]
    assert ingest("generic") == [
        "Generic: processed=4 inserted=0 updated=0 unchanged=3 failed=1 status=partial stored=3 unplaced=1 duplicates=0"
    ]


def test_ingest_all_runs_enabled_sources_parcels_first():
    mapping = {"preset": "generic_csv"}
    DataSourceFactory(
        name="B listings", kind="file", url=GENERIC, dataset="listings", field_mapping=mapping, enabled=True
    )
    DataSourceFactory(name="C parcels", kind="file", url=GENERIC, field_mapping=mapping, enabled=True)
    DataSourceFactory(name="A off", kind="file", url=GENERIC, field_mapping=mapping, enabled=False)
    lines = ingest("--all")
    assert [line.split(":")[0] for line in lines] == ["C parcels", "B listings"]


def test_adhoc_url_with_mapping_file_is_idempotent(tmp_path):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"preset": "generic_csv"}))
    args = ("--url", GENERIC, "--dataset", "parcels", "--mapping", str(mapping), "--parcel-format", "plain")
    (first,) = ingest(*args)
    assert first.endswith(
        "processed=4 inserted=3 updated=0 unchanged=0 failed=1 status=partial stored=3 unplaced=1 duplicates=0"
    )
    (second,) = ingest(*args)
    assert second.endswith(
        "processed=4 inserted=0 updated=0 unchanged=3 failed=1 status=partial stored=3 unplaced=1 duplicates=0"
    )
    source = m.DataSource.objects.get()
    assert (source.slug.startswith("adhoc-"), source.kind, source.enabled) == (True, "file", False)
    assert m.Property.objects.count() == 3
    # The same URL in another parcel format would store its parcels again under new ids: refused, nothing read.
    with pytest.raises(CommandError, match="this source has parcels stored under the plain format") as err:
        ingest(*args[:-2])
    assert str(err.value).endswith("; or keep --parcel-format plain")
    assert (m.Property.objects.count(), m.IngestionRun.objects.count()) == (3, 2)


def test_bad_mapping_is_an_error_before_fetching(tmp_path, httpserver):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"parcel_id": "PARCEL", "owner": "NAME1"}))
    with pytest.raises(CommandError, match="bad mapping: unknown target field 'owner' for dataset parcels; allowed:"):
        ingest("--url", httpserver.url_for("/layer/FeatureServer/0"), "--dataset", "parcels", "--mapping", str(mapping))
    assert httpserver.log == []
    assert (m.DataSource.objects.count(), m.IngestionRun.objects.count()) == (0, 0)


def test_failed_run_exits_non_zero_with_summary(tmp_path):
    DataSourceFactory(slug="gone", name="Gone", kind="file", url=str(tmp_path / "gone.csv"), enabled=True)
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 1 runs failed"):
        call_command("ingest", "gone", stdout=out, stderr=StringIO())
    assert out.getvalue().strip() == (
        "Gone: processed=0 inserted=0 updated=0 unchanged=0 failed=0 status=failed stored=0 unplaced=0 duplicates=0 "
        "(SourceError: file not found: gone.csv)"  # the file's name, never the server's directories
    )


def test_stored_bad_mapping_gives_failed_run():
    DataSourceFactory(
        slug="bad", name="Bad", kind="file", url=GENERIC, field_mapping={"parcel": "PARCEL"}, enabled=True
    )
    with pytest.raises(CommandError, match="1 of 1 runs failed"):
        ingest("bad")
    run = m.IngestionRun.objects.get()
    assert run.message.startswith("bad field mapping: unknown target field 'parcel' for dataset parcels; allowed:")
    assert (run.status, run.processed) == ("failed", 0)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "give exactly one of SOURCE_SLUG, --all or --url"),
        (("nope",), "no data source with slug 'nope'"),
        (("--url", GENERIC), "--url needs --dataset and --mapping"),
    ],
)
def test_usage_errors(args, message):
    with pytest.raises(CommandError, match=message):
        ingest(*args)


def test_adhoc_command_ingests_a_real_format_county_layer_exactly_and_idempotently(tmp_path, httpserver):
    layer = FakeArcGISLayer.from_fixture(httpserver, "orange-fl-tax-sales", max_record_count=5)
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"preset": "orange_fl_tax_sales"}))
    args = ("--url", layer.url, "--dataset", "tax_sales", "--mapping", str(mapping), "--parcel-format", "orange_fl")
    (first,) = ingest(*args)
    assert first.endswith(
        "processed=12 inserted=12 updated=0 unchanged=0 failed=0 status=success stored=12 unplaced=0 duplicates=0"
    )
    (second,) = ingest(*args)
    assert second.endswith(
        "processed=12 inserted=0 updated=0 unchanged=12 failed=0 status=success stored=12 unplaced=0 duplicates=0"
    )
    assert len(layer.page_requests) == 6  # 3 pages per run, none repeated
    sale = m.TaxSale.objects.get(tda_number="2023-4348")
    assert (sale.sale_date.isoformat(), sale.deed_status, str(sale.opening_bid)) == (
        "2025-01-16",
        "Active Sale",
        "4250.37",
    )
    prop = sale.property
    assert (prop.parcel_id, prop.parcel_id_raw, prop.address_normalized) == (
        "282229885002050",
        "29-22-28-8850-02-050",
        "1012 W CHURCH ST, FL",
    )
    assert prop.location.coords == pytest.approx((-81.399775, 28.500225))
    assert (m.Property.objects.count(), m.TaxSale.objects.count()) == (12, 12)


def test_failing_layer_page_is_recorded_and_a_rerun_completes(httpserver):
    layer = FakeArcGISLayer.from_fixture(
        httpserver, "orange-fl-tax-sales", max_record_count=3, fail_pages={3: "error_body"}
    )
    DataSourceFactory(
        slug="oc-tax", kind="arcgis", dataset="tax_sales", url=layer.url, parcel_format="orange_fl",
        field_mapping={"preset": "orange_fl_tax_sales"}, enabled=True,
    )  # fmt: skip
    assert ingest("oc-tax")[0].endswith(
        "processed=12 inserted=9 updated=0 unchanged=0 failed=3 status=partial stored=9 unplaced=0 duplicates=0"
    )
    run = m.IngestionRun.objects.get()
    assert (run.pages, run.pages_failed) == (4, 1)
    assert run.errors == [
        {"page": 3, "reason": run.errors[0]["reason"], "records": ["107", "108", "109"]},
    ]
    assert "Unable to complete operation" in run.errors[0]["reason"]
    layer.fail_pages = {}
    assert ingest("oc-tax")[0].endswith(
        "processed=12 inserted=3 updated=0 unchanged=9 failed=0 status=success stored=12 unplaced=0 duplicates=0"
    )
    assert m.TaxSale.objects.count() == 12


def test_admin_ingest_now_and_mapping_validation(admin_client):
    source = DataSourceFactory(
        slug="generic", kind="file", url=GENERIC, field_mapping={"preset": "generic_csv"}, enabled=True
    )
    url = reverse("admin:properties_datasource_changelist")
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = admin_client.post(url, {"action": "ingest_now", "_selected_action": [source.pk]}, follow=True)
    assert "1 sources queued" in response.content.decode()
    assert m.IngestionRun.objects.get().inserted == 3

    change = reverse("admin:properties_datasource_change", args=[source.pk])
    page = admin_client.get(change).content.decode()
    assert "(listings): Zillow listing export" in page
    assert "Target fields for this dataset: annual_taxes, assessed_value, baths, beds," in page
    data = {
        "name": source.name, "slug": source.slug, "kind": "file", "dataset": "parcels", "url": GENERIC, "where": "",
        "field_mapping": json.dumps({"parcel_id": "P", "sale_price": "X"}), "parcel_format": "plain", "county": "",
        "notes": "",
    }  # fmt: skip
    response = admin_client.post(change, data)
    assert "unknown target field &#x27;sale_price&#x27; for dataset parcels" in response.content.decode()


@pytest.mark.postgis
def test_no_overlapping_runs_of_one_source():
    source = DataSourceFactory(
        slug="generic", kind="file", url=GENERIC, field_mapping={"preset": "generic_csv"}, enabled=True
    )
    other = connections.create_connection("default")
    key = advisory_lock_key(f"datasource-ingest-{source.pk}")
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [key])
        run = datasource_ingest(source_id=source.pk)
        with other.cursor() as cursor:  # released now: a closed session's locks go when its backend has exited
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    finally:
        other.close()
    assert (run.status, run.message, run.processed) == ("failed", "another ingest of this source is still running", 0)
    assert datasource_ingest(source_id=source.pk).status == "partial"
