import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from properties import models as m
from tests.properties.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parent.parent / "fixtures" / "files"
GENERIC = str(FILES / "generic_parcels.csv")


def ingest(*args):
    out = StringIO()
    call_command("ingest", *args, stdout=out, stderr=StringIO())
    return out.getvalue().strip().splitlines()


def test_ingest_by_slug_prints_summary():
    DataSourceFactory(slug="generic", name="Generic", kind="file", url=GENERIC, field_mapping={"preset": "generic_csv"})
    assert ingest("generic") == ["Generic: processed=4 inserted=3 updated=0 unchanged=0 failed=1 status=partial"]
    assert ingest("generic") == ["Generic: processed=4 inserted=0 updated=0 unchanged=3 failed=1 status=partial"]


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
    assert first.endswith("processed=4 inserted=3 updated=0 unchanged=0 failed=1 status=partial")
    (second,) = ingest(*args)
    assert second.endswith("processed=4 inserted=0 updated=0 unchanged=3 failed=1 status=partial")
    source = m.DataSource.objects.get()
    assert (source.slug.startswith("adhoc-"), source.kind, source.enabled) == (True, "file", False)
    assert m.Property.objects.count() == 3


def test_bad_mapping_is_an_error_before_fetching(tmp_path, httpserver):
    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"parcel_id": "PARCEL", "owner": "NAME1"}))
    with pytest.raises(CommandError, match="bad mapping: unknown target field 'owner' for dataset parcels; allowed:"):
        ingest("--url", httpserver.url_for("/layer/FeatureServer/0"), "--dataset", "parcels", "--mapping", str(mapping))
    assert httpserver.log == []
    assert (m.DataSource.objects.count(), m.IngestionRun.objects.count()) == (0, 0)


def test_failed_run_exits_non_zero_with_summary(tmp_path):
    DataSourceFactory(slug="gone", name="Gone", kind="file", url=str(tmp_path / "gone.csv"))
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 1 runs failed"):
        call_command("ingest", "gone", stdout=out, stderr=StringIO())
    assert out.getvalue().strip() == (
        f"Gone: processed=0 inserted=0 updated=0 unchanged=0 failed=0 status=failed "
        f"(SourceError: file not found: {tmp_path / 'gone.csv'})"
    )


def test_stored_bad_mapping_gives_failed_run():
    DataSourceFactory(slug="bad", name="Bad", kind="file", url=GENERIC, field_mapping={"parcel": "PARCEL"})
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
