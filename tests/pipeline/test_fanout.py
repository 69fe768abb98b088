"""Issue 18 item 6, in-process (eager Celery runs the chords inline): the nightly ingest fans out one task per
enabled source; a failed source is recorded while the others still ingest and the night goes on (the run ends
partial), and a source another worker is ingesting is never ingested twice. Two real worker processes:
tests/integration/test_fanout_workers.py."""

import pytest
from django.db import connections

from dealfinder.common.locks import advisory_lock_key
from properties.models import IngestionRun, Property, TaxSale
from tests.factories import DataSourceFactory
from tests.pipeline.nightly import NIGHTLY

PARCELS = "PARCEL,SITUS_CITY\n29-22-28-8850-02-050,ORLANDO\n29-22-28-8850-02-060,ORLANDO\n"


def ingested_parcels(county) -> list[str]:
    """The parcels beside the fixture county's own leads' properties."""
    known = [lead.property_id for lead in county.leads]
    return sorted(Property.objects.exclude(pk__in=known).values_list("parcel_id", flat=True))


@pytest.fixture
def parcels_source(tmp_path):
    path = tmp_path / "parcels.csv"
    path.write_text(PARCELS)
    return DataSourceFactory(
        slug="county-two-parcels",
        kind="file",
        dataset="parcels",
        url=str(path),
        field_mapping={"parcel_id": "PARCEL", "city": "SITUS_CITY"},
        enabled=True,
    )


@pytest.mark.django_db
def test_a_failed_source_is_recorded_and_the_other_sources_still_ingest(county, parcels_source, launch):
    county.source.url = "http://127.0.0.1:9/arcgis/rest/services/Gone/FeatureServer/0"
    county.source.save()

    run = launch()

    ingest = run.steps.get(name="ingest")
    assert (ingest.counts["sources"], ingest.counts["failed_sources"], ingest.counts["by_source"]) == (
        2,
        1,
        {"county-two-parcels": "success", "orange-tax-sales": "failed"},
    )
    assert ingest.status == "success"  # with a warning: what failed
    assert ingest.error.startswith("orange-tax-sales: ") and "ConnectError" in ingest.error
    assert ingest.counts["inserted"] == 2
    assert ingested_parcels(county) == ["29-22-28-8850-02-050", "29-22-28-8850-02-060"]
    assert sorted(IngestionRun.objects.values_list("source__slug", "status")) == [
        ("county-two-parcels", "success"),
        ("orange-tax-sales", "failed"),
    ]
    # The night goes on with what landed (one county's server down does not hold the others back), and the run is
    # partial, saying which source failed.
    assert (run.status, list(run.steps.values_list("name", "status"))[1:]) == (
        "partial",
        [(name, "success") for name in NIGHTLY[1:]],
    )
    assert run.message == f"ingest: {ingest.error}"
    assert Property.objects.filter(parcel_id="29-22-28-8850-02-050").get().lead.total >= 0  # scored


@pytest.mark.postgis
@pytest.mark.django_db(transaction=True)
def test_a_source_another_worker_is_ingesting_is_not_ingested_twice(county, parcels_source, launch):
    other = connections.create_connection("default")  # another worker's session, holding the source's lock
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [advisory_lock_key(f"datasource-ingest-{county.source.pk}")])

        run = launch()
    finally:
        other.close()  # releases the lock

    ingest = run.steps.get(name="ingest")
    assert ingest.counts["by_source"] == {"county-two-parcels": "success", "orange-tax-sales": "failed"}
    assert ingest.error == "orange-tax-sales: another ingest of this source is still running"
    assert list(IngestionRun.objects.filter(source=county.source).values_list("status", "message", "processed")) == [
        ("failed", "another ingest of this source is still running", 0)
    ]
    assert TaxSale.objects.count() == 0 and county.layer.requests == []
    assert ingested_parcels(county) == ["29-22-28-8850-02-050", "29-22-28-8850-02-060"]
