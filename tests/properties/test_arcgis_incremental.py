"""ArcGIS layers with editor tracking are re-read by what changed since the last successful run (issue 18 2):
`<editDateField> > TIMESTAMP '...'`, nothing at all when the layer's last edit is older, a full read when the
layer has no editor tracking or the server refuses the query, and a full read every INGEST_FULL_READ_DAYS to
see deletions."""

import datetime as dt

import pytest
from django.utils import timezone

from properties import models as m
from properties.ingest.arcgis_changes import changes_plan
from properties.services import datasource_ingest
from tests.factories import DataSourceFactory
from tests.fakes.arcgis import FakeArcGISLayer

MAPPING = {"parcel_id": "PARCELID", "owner_name": "OWNERNME1", "street": "SITEADDRESS", "zip": "SITEZIP"}
SINCE = dt.datetime(2024, 12, 3, 11, 45, tzinfo=dt.UTC)


def epoch_ms(when: dt.datetime) -> int:
    return int(when.timestamp() * 1000)


@pytest.fixture
def layer(httpserver):
    return FakeArcGISLayer.from_fixture(httpserver, "summit-oh-parcels")


def source_for(layer):
    return DataSourceFactory(kind="arcgis", dataset="parcels", url=layer.url, field_mapping=MAPPING, enabled=True)


def edit(layer, index: int, **attributes) -> None:
    """Edit one feature now, as a GIS editor would: its edit date and the layer's last edit move."""
    now = epoch_ms(timezone.now())
    layer.features[index]["attributes"].update(attributes, last_edited_date=now)
    layer.metadata_extra["editingInfo"] = {**layer.metadata_extra["editingInfo"], "lastEditDate": now}


def asked_where(layer) -> list[str]:
    return [r.params.get("where", "") for r in layer.requests if r.kind == "ids"]


# --- the plan (pure) -----------------------------------------------------------------------------------------


def test_without_since_or_editor_tracking_the_layer_is_read_in_full():
    assert changes_plan(where="1=1", since=None, edit_date_field="EditDate", last_edit_date=None).where is None
    plan = changes_plan(where="1=1", since=SINCE, edit_date_field=None, last_edit_date=None)
    assert (plan.where, plan.since, plan.nothing) == (None, None, False)
    assert plan.reason == "the layer has no editor tracking (editFieldsInfo)"


@pytest.mark.parametrize(
    "where, expected",
    [
        ("1=1", "EditDate > TIMESTAMP '2024-12-03 11:45:00'"),
        ("", "EditDate > TIMESTAMP '2024-12-03 11:45:00'"),
        ("STATUS = 'A'", "(STATUS = 'A') AND EditDate > TIMESTAMP '2024-12-03 11:45:00'"),
    ],
)
def test_only_features_edited_since_are_asked_for_within_the_sources_own_where(where, expected):
    plan = changes_plan(where=where, since=SINCE, edit_date_field="EditDate", last_edit_date=None)

    assert (plan.where, plan.since, plan.nothing) == (expected, SINCE, False)


def test_a_layer_last_edited_before_since_is_not_asked_anything():
    older = SINCE - dt.timedelta(seconds=1)

    plan = changes_plan(where="1=1", since=SINCE, edit_date_field="EditDate", last_edit_date=older)

    assert (plan.nothing, plan.since) == (True, SINCE)
    assert changes_plan(where="1=1", since=SINCE, edit_date_field="EditDate", last_edit_date=SINCE).nothing is True


@pytest.mark.parametrize("zone", ["Eastern Standard Time", "America/New_York", "Pacific Standard Time"])
def test_dates_in_a_local_time_zone_widen_the_window_by_a_day(zone):
    plan = changes_plan(
        where="1=1", since=SINCE, edit_date_field="EditDate", last_edit_date=SINCE - dt.timedelta(hours=5),
        time_reference={"timeZone": zone, "respectsDaylightSaving": True},
    )  # fmt: skip

    assert (plan.nothing, plan.since) == (False, SINCE - dt.timedelta(days=1))
    assert plan.where == "EditDate > TIMESTAMP '2024-12-02 11:45:00'"


def test_utc_time_references_are_not_widened():
    for zone in ("UTC", "utc", "Coordinated Universal Time", None):
        plan = changes_plan(
            where="1=1", since=SINCE, edit_date_field="E", last_edit_date=None, time_reference={"timeZone": zone}
        )
        assert plan.since == SINCE


# --- runs ----------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_an_unedited_layer_is_not_read_again_and_its_data_stays(layer):
    source = source_for(layer)
    first = datasource_ingest(source_id=source.pk)
    pages_before = len(layer.page_requests)

    second = datasource_ingest(source_id=source.pk)

    assert (first.status, first.inserted, first.incremental_since) == ("success", 12, None)
    assert (second.status, second.processed, second.pages) == ("success", 0, 0)
    assert second.incremental_since == first.started_at - dt.timedelta(minutes=15)
    assert len(layer.page_requests) == pages_before  # not one feature page asked for
    assert m.Property.objects.count() == 12
    assert asked_where(layer) == ["1=1"]


@pytest.mark.django_db
def test_only_the_edited_features_are_read_and_written(layer):
    source = source_for(layer)
    first = datasource_ingest(source_id=source.pk)
    edit(layer, 3, OWNERNME1="NEW OWNER LLC")

    second = datasource_ingest(source_id=source.pk)
    third = datasource_ingest(source_id=source.pk)  # the same edit seen again: nothing to write

    since = first.started_at - dt.timedelta(minutes=15)
    stamp = since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert asked_where(layer)[1] == f"last_edited_date > TIMESTAMP '{stamp}'"
    assert (second.status, second.processed, second.updated, second.inserted) == ("success", 1, 1, 0)
    assert (third.processed, third.updated, third.unchanged) == (1, 0, 1)
    parcel = layer.features[3]["attributes"]["PARCELID"]
    assert m.Property.objects.get(parcel_id_raw=parcel).owner_name == "NEW OWNER LLC"
    assert m.Property.objects.count() == 12


@pytest.mark.django_db
def test_a_layer_without_editor_tracking_is_read_in_full_every_run(httpserver):
    layer = FakeArcGISLayer.from_fixture(httpserver, "summit-oh-parcels", metadata_extra={})
    source = source_for(layer)
    datasource_ingest(source_id=source.pk)

    again = datasource_ingest(source_id=source.pk)

    assert (again.status, again.incremental_since, again.processed, again.unchanged) == ("success", None, 12, 12)
    assert asked_where(layer) == ["1=1", "1=1"]


@pytest.mark.django_db
def test_a_server_refusing_the_edited_since_query_is_read_in_full(httpserver):
    layer = FakeArcGISLayer.from_fixture(httpserver, "summit-oh-parcels", edited_since_ok=False)
    source = source_for(layer)
    datasource_ingest(source_id=source.pk)
    edit(layer, 0, OWNERNME1="NEW OWNER LLC")

    run = datasource_ingest(source_id=source.pk)

    assert (run.status, run.incremental_since, run.processed, run.updated, run.unchanged) == (
        "success", None, 12, 1, 11
    )  # fmt: skip
    assert asked_where(layer)[1].startswith("last_edited_date > TIMESTAMP") and asked_where(layer)[2] == "1=1"


@pytest.mark.django_db
def test_a_full_read_comes_back_when_the_last_one_is_older_than_the_interval(layer, settings):
    settings.INGEST_FULL_READ_DAYS = 7
    source = source_for(layer)
    first = datasource_ingest(source_id=source.pk)
    incremental = datasource_ingest(source_id=source.pk)
    eight_days = dt.timedelta(days=8)
    m.IngestionRun.objects.filter(pk=first.pk).update(started_at=first.started_at - eight_days)

    weekly = datasource_ingest(source_id=source.pk)
    after = datasource_ingest(source_id=source.pk)

    assert incremental.incremental_since is not None
    assert (weekly.status, weekly.incremental_since, weekly.processed, weekly.unchanged) == ("success", None, 12, 12)
    assert after.incremental_since == weekly.started_at - dt.timedelta(minutes=15)
    assert asked_where(layer) == ["1=1", "1=1"]


@pytest.mark.django_db
def test_a_deleted_feature_is_seen_by_the_full_read(layer):
    """Incremental reads cannot see a deletion: the record's last_seen_at stays where the last full read left it."""
    source = source_for(layer)
    datasource_ingest(source_id=source.pk)
    gone = layer.features.pop(5)["attributes"]["PARCELID"]  # a parcel's provenance is keyed by its parcel id
    m.IngestionRun.objects.filter(source=source).update(started_at=timezone.now() - dt.timedelta(days=8))
    m.PropertySource.objects.filter(source=source).update(last_seen_at=timezone.now() - dt.timedelta(days=8))

    datasource_ingest(source_id=source.pk)

    seen = dict(m.PropertySource.objects.filter(source=source).values_list("external_id", "last_seen_at"))
    newest = max(seen.values())
    assert [key for key, at in seen.items() if at < newest] == [gone]
