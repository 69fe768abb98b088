"""Issue 18 item 1: records derived in a helper process (dealfinder.common.offload) while the loader writes the
previous batch give exactly what one process gives: the same stored rows, run counters, errors and warnings in
record order, field stats, and the first record of a repeated key kept."""

import time

import pytest

from properties import models as m
from properties.ingest import loader, pipelined
from properties.ingest.base import Page, RawRecord
from properties.ingest.loader import ingest_source
from tests.factories import DataSourceFactory
from tests.properties.test_loader import PARCELS_MAPPING, parcel

pytestmark = pytest.mark.django_db

RUN_FIELDS = ("status", "message", "processed", "inserted", "updated", "unchanged", "failed", "stored", "unplaced",
              "duplicates", "pages", "pages_failed", "errors", "warnings", "field_stats")  # fmt: skip
SKIP = {"id", "created_at", "updated_at", "first_seen_at", "last_seen_at", "property", "source", "listing"}
TABLES = (m.Property, m.PropertySource, m.Valuation, m.TaxDelinquency)


def first_night():
    records = [parcel(n) for n in range(1, 31)]
    records[4] = parcel(5, PARCEL="")  # no parcel id: refused by the mapping
    records[5] = parcel(6, PARCEL="13-23-32")  # not an Orange County parcel id: refused by prepare()
    records[8] = parcel(9, YEAR_BUILT="nineteen", TOTAL_MKT="n/a")  # bad values: dropped, with examples
    records[10] = parcel(10)  # record 10 again, the same in every way, first in the next batch: a duplicate
    records[11] = RawRecord("12", parcel(12).attributes)  # no point
    records[14] = parcel(15, PARCEL=records[13].attributes["PARCEL"])  # the key of record 14, next batch: skipped
    records[21] = parcel(22, TAXES=9000, TAXABLE=3)  # a tax rate out of range
    return records


def second_night():
    records = first_night()
    records[1] = parcel(2, NAME1="SOMEONE ELSE")  # changed
    records[9] = parcel(10, TOTAL_MKT=250000)  # changed, and its copy next batch is now last night's record 10
    records[24] = parcel(25, PARCEL=records[25].attributes["PARCEL"])  # a key repeated later in its own batch
    return records


def read(records, *, failed_page=False):
    pages = [Page(n + 1, records[i : i + 7]) for n, i in enumerate(range(0, len(records), 7))]
    if failed_page:
        pages.insert(2, Page(3, error="HTTP 500 after 3 tries", failed_ids=["99", "100"]))
        for n, page in enumerate(pages, start=1):
            page.number = n
        pages[1].rejected = [{"record": "77", "reason": "a party without its document"}]
    return pages


def stored():
    out = {}
    for model in TABLES:
        names = [f.attname for f in model._meta.concrete_fields if f.name not in SKIP]
        extra = ["property__parcel_id"] if model is not m.Property else []
        rows = model.objects.values(*names, *extra)
        out[model.__name__] = sorted(sorted((k, str(v)) for k, v in row.items()) for row in rows)
    return out


def nights(source, monkeypatch):
    """Three nights' runs (batches of 3, pages of 7) and the rows stored; the lookups of known records made."""
    lookups = []
    known = loader._known
    monkeypatch.setattr(
        loader, "_known", lambda source, digests: lookups.append(len(digests)) or known(source, digests)
    )
    runs = []
    for records, failed_page in ((first_night(), False), (second_night(), True), (second_night(), False)):
        run = ingest_source(source=source, reader=read(records, failed_page=failed_page), batch_size=3)
        runs.append({name: getattr(run, name) for name in RUN_FIELDS})
    return runs, stored(), len(lookups)


class Waiting(pipelined.Offload):
    """A helper that is waited for while it boots, so that it derives every batch (the loader does not wait)."""

    def ready(self):
        while not super().ready():
            time.sleep(0.01)
        return True


class Spy(Waiting):
    sent = 0

    def send(self, *args):
        Spy.sent += len(args[0])
        super().send(*args)


def test_a_helper_process_gives_what_one_process_gives(settings, monkeypatch):
    source = DataSourceFactory(
        slug="oc-parcels", dataset="parcels", parcel_format="orange_fl", field_mapping=PARCELS_MAPPING
    )
    settings.INGEST_PREPARE_PROCESS = False
    alone, rows_alone, lookups_alone = nights(source, monkeypatch)

    for model in (*TABLES, m.IngestionRun):
        model.objects.all().delete()
    settings.INGEST_PREPARE_PROCESS, settings.INGEST_PREPARE_MIN_PAGE = True, 7
    monkeypatch.setattr(pipelined, "Offload", Spy)
    helped, rows_helped, lookups_helped = nights(source, monkeypatch)

    assert Spy.sent > 0  # the helper derived records
    assert helped == alone
    assert rows_helped == rows_alone
    # Record 10's copy was looked up before record 10 was written (first night: unknown, then a duplicate of it;
    # second night: known as it was, then changed): looked up again, once each night.
    assert lookups_helped - lookups_alone == 2
    first, second, third = alone
    assert (first["processed"], first["inserted"], first["failed"], first["duplicates"], first["unplaced"]) == (
        30, 26, 2, 2, 1)  # fmt: skip
    assert (second["pages"], second["pages_failed"], second["failed"], second["updated"]) == (6, 1, 5, 3)
    assert (third["unchanged"], third["duplicates"]) == (25, 3)
    assert [e.get("record") for e in first["errors"]] == ["5", "6"]
    assert [w["record"] for w in first["warnings"]] == ["10", "15"]
    assert first["field_stats"]["year_built"]["bad"] == 1


def test_a_small_first_page_stays_in_this_process(settings, monkeypatch):
    source = DataSourceFactory(dataset="parcels", parcel_format="orange_fl", field_mapping=PARCELS_MAPPING)
    settings.INGEST_PREPARE_PROCESS, settings.INGEST_PREPARE_MIN_PAGE = True, 8
    monkeypatch.setattr(pipelined, "Offload", None)  # would fail if called
    run = ingest_source(source=source, reader=read([parcel(n) for n in range(1, 20)]))
    assert (run.status, run.inserted) == ("success", 19)


def test_no_helper_when_turned_off(settings, monkeypatch):
    source = DataSourceFactory(dataset="parcels", parcel_format="orange_fl", field_mapping=PARCELS_MAPPING)
    settings.INGEST_PREPARE_PROCESS, settings.INGEST_PREPARE_MIN_PAGE = False, 1
    monkeypatch.setattr(pipelined, "Offload", None)
    run = ingest_source(source=source, reader=read([parcel(n) for n in range(1, 20)]))
    assert (run.status, run.inserted) == ("success", 19)


def test_a_failing_helper_costs_speed_not_records(settings, monkeypatch, caplog):
    source = DataSourceFactory(dataset="parcels", parcel_format="orange_fl", field_mapping=PARCELS_MAPPING)
    settings.INGEST_PREPARE_PROCESS, settings.INGEST_PREPARE_MIN_PAGE = True, 1
    started = []

    class Broken(Waiting):
        def __init__(self, target, setup):
            super().__init__("tests.dealfinder.offload_targets:failing", setup)
            started.append(self)

    monkeypatch.setattr(pipelined, "Offload", Broken)
    run = ingest_source(source=source, reader=read([parcel(n) for n in range(1, 20)]), batch_size=3)
    assert (run.status, run.processed, run.inserted, run.failed) == ("success", 19, 19, 0)
    (helper,) = started
    assert helper._process.poll() is not None  # no process left behind
    (failure,) = [r for r in caplog.records if r.name == "properties.ingest.pipelined"]
    assert failure.getMessage() == "the ingest helper process failed; records are derived in this process"
    assert "ValueError: cannot derive 3 records" in str(failure.exc_info[1])


def test_the_helper_derives_without_a_database(monkeypatch):
    """The helper process opens no database connection: with an unreachable database it derives just the same."""
    from properties.ingest.derive import derive_records, deriver_setup
    from properties.ingest.mapping import FieldMapping

    monkeypatch.setenv("DATABASE_URL", "postgis://nobody:nothing@127.0.0.1:9/nowhere")
    mapping = FieldMapping.from_config("parcels", PARCELS_MAPPING)
    records = [parcel(1), parcel(2, PARCEL="13-23-32"), parcel(3, YEAR_BUILT="nineteen")]
    setup = deriver_setup(mapping, dataset="parcels", parcel_format="orange_fl")
    with pipelined.Offload("properties.ingest.derive:record_deriver", setup) as helper:
        helper.send(records)
        there = helper.receive()
    here = derive_records(records, mapping, dataset="parcels", parcel_format="orange_fl")
    assert [(d.read, d.place, d.item, str(d.error)) for d in there] == [
        (d.read, d.place, d.item, str(d.error)) for d in here
    ]
    assert [d.item is None for d in there] == [False, True, False]


def test_a_run_of_unchanged_records_never_starts_the_helper(settings, monkeypatch):
    source = DataSourceFactory(dataset="parcels", parcel_format="orange_fl", field_mapping=PARCELS_MAPPING)
    records = [parcel(n) for n in range(1, 20)]
    settings.INGEST_PREPARE_PROCESS = False
    ingest_source(source=source, reader=read(records))
    settings.INGEST_PREPARE_PROCESS, settings.INGEST_PREPARE_MIN_PAGE = True, 1
    monkeypatch.setattr(pipelined, "Offload", None)  # would fail the run if called
    run = ingest_source(source=source, reader=read(records), batch_size=3)
    assert (run.status, run.unchanged) == ("success", 19)
