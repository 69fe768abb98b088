import datetime

import pytest
from django.utils import timezone

from properties.models import DataSource, IngestionRun, Property
from sync.models import SyncLog
from tests.api.helpers import walk
from tests.factories import (
    DataSourceFactory,
    IngestionRunFactory,
    PropertySourceFactory,
    SyncLogFactory,
    TaxSaleFactory,
)

pytestmark = pytest.mark.django_db


def test_data_source_crud(admin_api):
    response = admin_api.post(
        "/api/v1/data-sources/",
        {
            "name": "Orange parcels",
            "slug": "orange-parcels",
            "kind": "arcgis",
            "dataset": "parcels",
            "url": "https://gis.example.test/arcgis/rest/services/P/MapServer/216",
            "field_mapping": {"preset": "orange_fl_parcels"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert "Location" not in response  # DRF would have put the source's `url` there
    pk = response.json()["id"]
    assert admin_api.patch(f"/api/v1/data-sources/{pk}/", {"enabled": True}, format="json").json()["enabled"] is True
    duplicate = admin_api.post(
        "/api/v1/data-sources/",
        {
            "name": "Again",
            "slug": "orange-parcels",
            "kind": "file",
            "dataset": "parcels",
            "url": "https://files.example.test/x.csv",
        },
        format="json",
    )
    assert duplicate.json() == {"slug": ["data source with this slug already exists."]}
    bad = admin_api.post(
        "/api/v1/data-sources/",
        {
            "name": "Bad",
            "slug": "bad",
            "kind": "file",
            "dataset": "parcels",
            "url": "https://files.example.test/x.csv",
            "field_mapping": [1],
        },
        format="json",
    )
    assert bad.json() == {"field_mapping": ["Must be an object: target field -> source field or expression."]}
    assert [s["slug"] for s in admin_api.get("/api/v1/data-sources/", {"enabled": "true"}).json()["results"]] == [
        "orange-parcels"
    ]
    assert admin_api.delete(f"/api/v1/data-sources/{pk}/").status_code == 204
    assert not DataSource.objects.exists()


def test_a_source_with_records_cannot_be_deleted(admin_api):
    sale = TaxSaleFactory()
    response = admin_api.delete(f"/api/v1/data-sources/{sale.source_id}/")
    assert response.status_code == 409
    assert response.json() == {"detail": "Records ingested from this source still exist; disable it instead."}


def test_ingest_runs_now_without_a_broker_and_returns_the_run(admin_api, tmp_path):
    csv = tmp_path / "parcels.csv"
    csv.write_text("PARCEL,SITUS_CITY\n29-22-28-8850-02-050,ORLANDO\n29-22-28-8850-02-060,ORLANDO\n")
    source = DataSourceFactory(
        kind="file",
        dataset="parcels",
        url=str(csv),
        field_mapping={"parcel_id": "PARCEL", "city": "SITUS_CITY"},
        enabled=True,
    )

    response = admin_api.post(f"/api/v1/data-sources/{source.pk}/ingest/")

    assert response.status_code == 202, response.content
    body = response.json()
    run = IngestionRun.objects.get()
    assert body["task_id"] is None
    assert body["run"]["id"] == run.pk
    assert (body["run"]["status"], body["run"]["processed"], body["run"]["inserted"]) == ("success", 2, 2)
    assert Property.objects.count() == 2
    assert admin_api.get(f"/api/v1/ingestion-runs/{run.pk}/").json()["inserted"] == 2


def test_ingestion_runs_filters_and_cursor(acq):
    old = IngestionRunFactory(status="failed", started_at=timezone.now() - datetime.timedelta(days=3))
    new = IngestionRunFactory(status="success")
    IngestionRunFactory.create_batch(3)
    assert [r["id"] for r in acq.get("/api/v1/ingestion-runs/", {"status": "failed"}).json()["results"]] == [old.pk]
    assert [r["id"] for r in acq.get("/api/v1/ingestion-runs/", {"source": new.source_id}).json()["results"]] == [
        new.pk
    ]
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    recent = acq.get("/api/v1/ingestion-runs/", {"updated_since": since}).json()["results"]
    assert old.pk not in [r["id"] for r in recent] and len(recent) == 4
    rows = walk(acq, "/api/v1/ingestion-runs/", {"page_size": 2})
    assert [r["id"] for r in rows] == list(IngestionRun.objects.order_by("-id").values_list("id", flat=True))


def test_sync_logs(admin_api):
    push = SyncLogFactory(sync_type="lead_push")
    pull = SyncLogFactory(sync_type="buyer_pull", status="failed")
    SyncLog.objects.filter(pk=push.pk).update(started_at=timezone.now() - datetime.timedelta(days=2))
    assert [r["id"] for r in admin_api.get("/api/v1/sync-logs/", {"sync_type": "buyer_pull"}).json()["results"]] == [
        pull.pk
    ]
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()
    assert [r["id"] for r in admin_api.get("/api/v1/sync-logs/", {"updated_since": since}).json()["results"]] == [
        pull.pk
    ]
    assert [r["id"] for r in walk(admin_api, "/api/v1/sync-logs/", {"page_size": 1})] == [pull.pk, push.pk]
    assert admin_api.post("/api/v1/sync-logs/", {}, format="json").status_code == 405


def test_an_ingestion_run_reports_records_in_and_stored_unplaced_and_field_stats(admin_api, acq, tmp_path):
    csv = tmp_path / "parcels.csv"
    csv.write_text(
        "PIN,SALE,LAT,LON\n"
        "10-1,0,28.54,-81.38\n"  # no sale recorded
        "10-2,abc,3320467.7,-9059456.1\n"  # a word for a price; metres for degrees
        "10-1,5000,28.54,-81.38\n"  # the key again
    )
    mapping = {"parcel_id": "PIN", "last_sale_price": "SALE", "latitude": "LAT", "longitude": "LON"}
    source = DataSourceFactory(kind="file", dataset="parcels", url=str(csv), field_mapping=mapping, enabled=True)
    admin_api.post(f"/api/v1/data-sources/{source.pk}/ingest/")

    body = acq.get(f"/api/v1/ingestion-runs/{IngestionRun.objects.get().pk}/").json()
    assert {k: body[k] for k in ("status", "processed", "stored", "unplaced", "duplicates", "failed")} == {
        "status": "success",
        "processed": 3,
        "stored": 2,
        "unplaced": 1,
        "duplicates": 1,
        "failed": 0,
    }
    assert body["warnings"] == [
        {
            "record": "4",
            "reason": "key '10-1' repeats an earlier record of this run: the first one is kept, this one skipped",
        }
    ]
    assert body["field_stats"]["last_sale_price"] == {
        "filled": 1,
        "blank": 0,
        "sentinel": 1,
        "bad": 1,
        "examples": ["record 2: SALE: '0' read as unknown", "record 3: SALE: 'abc' is not a number"],
    }
    assert body["field_stats"]["latitude"]["examples"] == ["record 3: LAT: '3320467.7' is not a latitude (-90 to 90)"]
    assert set(body["field_stats"]) == {"parcel_id", "last_sale_price", "latitude", "longitude", "location"}


def test_the_parcel_format_of_a_source_with_stored_parcels_changes_only_by_rekey(admin_api):
    sale = TaxSaleFactory()
    PropertySourceFactory(property=sale.property, source=sale.source)
    response = admin_api.patch(f"/api/v1/data-sources/{sale.source_id}/", {"parcel_format": "plain"}, format="json")
    assert response.status_code == 400
    assert response.json()["parcel_format"][0].startswith("this source has parcels stored under the canonical format")
