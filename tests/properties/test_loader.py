import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from properties import models as m
from properties.ingest.base import Page, RawRecord, SourceError
from properties.ingest.loader import ingest_source
from tests.factories import DataSourceFactory, PropertyFactory

pytestmark = pytest.mark.django_db

PARCELS_MAPPING = {
    "parcel_id": "PARCEL",
    "owner_name": "NAME1",
    "street": "SITUS",
    "city": "SITUS_CITY",
    "state": {"value": "FL"},
    "zip": "SITUS_ZIP",
    "mailing_street": "MAIL_ADDR1",
    "mailing_city": "MAIL_CITY",
    "mailing_state": {"source": "MAIL_STZIP", "split": "state_zip", "part": "state"},
    "mailing_zip": {"source": "MAIL_STZIP", "split": "state_zip", "part": "zip"},
    "property_type": {"source": "DOR_CODE", "vocabulary": "fl_dor"},
    "year_built": "YEAR_BUILT",
    "market_value": "TOTAL_MKT",
    "taxable_value": "TAXABLE",
    "annual_taxes": "TAXES",
    "last_sale_price": "SALE_PRICE",
    "last_sale_date": "SALE_DATE",
}


def parcel(n, **overrides):
    attrs = {
        "OBJECTID": n,
        "PARCEL": f"13-23-32-7600-00-{n:03d}",
        "NAME1": f"OWNER {n}",
        "SITUS": f"  {100 + n} north main street  ",
        "SITUS_CITY": "ORLANDO",
        "SITUS_ZIP": "32801",
        "MAIL_ADDR1": f"{100 + n} N MAIN ST",
        "MAIL_CITY": "ORLANDO",
        "MAIL_STZIP": "FL32801",
        "DOR_CODE": "0101",
        "YEAR_BUILT": 1990,
        "TOTAL_MKT": 200000,
        "TAXABLE": 150000,
        "TAXES": 3000,
        "SALE_PRICE": 50000,
        "SALE_DATE": 946684800000,  # 2000-01-01
    }
    attrs.update(overrides)
    return RawRecord(str(n), attrs, Point(-81.38 + n / 1000, 28.54, srid=4326))


def pages(records, size=3):
    return [Page(i // size + 1, records[i : i + size]) for i in range(0, len(records), size)]


@pytest.fixture
def parcels_source():
    return DataSourceFactory(
        slug="oc-parcels", dataset="parcels", parcel_format="orange_fl", field_mapping=PARCELS_MAPPING
    )


def counts(run):
    return (run.status, run.processed, run.inserted, run.updated, run.unchanged, run.failed)


def test_parcels_load_then_rerun_is_all_unchanged(parcels_source):
    records = [parcel(n) for n in range(1, 8)]
    first = ingest_source(source=parcels_source, reader=pages(records), batch_size=2)
    assert counts(first) == ("success", 7, 7, 0, 0, 0)
    assert first.pages == 3
    prop = m.Property.objects.get(parcel_id="322313760000001")
    assert prop.parcel_id_raw == "13-23-32-7600-00-001"
    assert prop.address_normalized == "101 N MAIN ST, ORLANDO, FL 32801"
    assert prop.address_raw == "101 north main street, ORLANDO, FL 32801"
    assert (prop.property_type, prop.is_absentee, prop.year_built) == ("sfr", False, 1990)
    assert prop.location.coords == (-81.379, 28.54)
    val = prop.valuations.get()
    assert (val.external_id, val.market_value, val.equity_percent, val.tax_rate) == (
        "322313760000001",
        Decimal("200000.00"),
        Decimal("75.00"),
        Decimal("0.02000"),
    )
    assert val.last_sale_date == dt.date(2000, 1, 1)
    assert prop.source_records.get().external_id == "322313760000001"

    second = ingest_source(source=parcels_source, reader=pages(records), batch_size=2)
    assert counts(second) == ("success", 7, 0, 0, 7, 0)
    assert (m.Property.objects.count(), m.Valuation.objects.count(), m.PropertySource.objects.count()) == (7, 7, 7)


def test_changed_record_is_updated_and_absentee_detected(parcels_source):
    ingest_source(source=parcels_source, reader=pages([parcel(1), parcel(2)]))
    moved = parcel(2, MAIL_ADDR1="PO BOX 77", MAIL_CITY="DETROIT", MAIL_STZIP="MI49327", TOTAL_MKT=250000)
    run = ingest_source(source=parcels_source, reader=pages([parcel(1), moved]))
    assert counts(run) == ("success", 2, 0, 1, 1, 0)
    prop = m.Property.objects.get(parcel_id="322313760000002")
    assert prop.is_absentee is True
    assert prop.owner_mailing_address == "PO BOX 77, DETROIT, MI 49327"
    assert prop.valuations.get().market_value == Decimal("250000.00")


def test_bad_rows_recorded_with_reasons_good_rows_land(parcels_source):
    records = [
        parcel(1),
        parcel(2, PARCEL="13-23-32"),
        parcel(3, PARCEL="   "),
        parcel(4, SALE_DATE="not a date"),
        parcel(5, YEAR_BUILT=3020),
        parcel(6),
    ]
    run = ingest_source(source=parcels_source, reader=pages(records))
    assert counts(run) == ("partial", 6, 4, 0, 0, 2)
    assert run.errors == [
        {
            "record": "2",
            "reason": "not an Orange County parcel id (SS-TT-RR-SSSS-BB-LLL or 15 digits): '13-23-32'",
        },
        {"record": "3", "reason": "missing parcel_id"},
    ]
    # A bad optional value drops that value, never the record.
    assert set(m.Property.objects.values_list("parcel_id", flat=True)) == {
        "322313760000001",
        "322313760000004",
        "322313760000005",
        "322313760000006",
    }
    four, five = (
        m.Property.objects.get(parcel_id="322313760000004"),
        m.Property.objects.get(parcel_id="322313760000005"),
    )
    assert (four.year_built, four.valuations.get().last_sale_date) == (1990, None)
    assert (five.year_built, five.valuations.get().market_value) == (None, Decimal("200000.00"))
    stats = run.field_stats
    assert stats["last_sale_date"] == {  # every record read counts, those that failed for their parcel id too
        "filled": 5,
        "blank": 0,
        "sentinel": 0,
        "bad": 1,
        "examples": [
            "record 4: SALE_DATE: 'not a date' is not a date (e.g. 2024-03-01, 03/01/2024 or epoch milliseconds)"
        ],
    }
    assert stats["year_built"]["bad"] == 1
    assert stats["year_built"]["examples"] == [
        "record 5: YEAR_BUILT: 3020 is not a plausible year built (1700 to 2100)"
    ]
    assert stats["parcel_id"] == {
        "filled": 4,
        "blank": 1,
        "sentinel": 0,
        "bad": 1,
        "examples": ["record 2: not an Orange County parcel id (SS-TT-RR-SSSS-BB-LLL or 15 digits): '13-23-32'"],
    }
    assert (stats["location"]["filled"], run.stored, run.unplaced) == (4, 4, 0)


def test_failed_page_recorded_rest_kept(parcels_source):
    reader = [
        Page(1, [parcel(1), parcel(2)]),
        Page(2, error="HTTP 500 from server after 3 attempts", failed_ids=["3", "4"]),
        Page(3, [parcel(5)]),
    ]
    run = ingest_source(source=parcels_source, reader=reader)
    assert counts(run) == ("partial", 5, 3, 0, 0, 2)
    assert (run.pages, run.pages_failed) == (3, 1)
    assert run.errors == [{"page": 2, "reason": "HTTP 500 from server after 3 attempts", "records": ["3", "4"]}]
    assert m.Property.objects.count() == 3


def failing_reader(records, fail_after_pages):
    yield from pages(records, size=2)[:fail_after_pages]
    raise SourceError("connection reset while reading page 3")


def test_reader_exception_keeps_earlier_batches_and_marks_run_failed(parcels_source):
    records = [parcel(n) for n in range(1, 11)]
    run = ingest_source(source=parcels_source, reader=failing_reader(records, 2))
    assert counts(run) == ("failed", 4, 4, 0, 0, 0)
    assert run.message == "SourceError: connection reset while reading page 3"
    assert m.Property.objects.count() == 4
    rerun = ingest_source(source=parcels_source, reader=pages(records, size=2))
    assert counts(rerun) == ("success", 10, 6, 0, 4, 0)
    assert m.Property.objects.count() == 10


def test_exception_mid_batch_rolls_back_that_batch_only():
    source = DataSourceFactory(dataset="tax_sales", field_mapping={"parcel_id": "P", "tda_number": "TDA"})

    def rec(n, **extra):
        return RawRecord(str(n), {"P": f"P{n:03d}", "TDA": f"2024-{n}", **extra})

    # The last record of page 2 carries a value the JSON column cannot store: the error surfaces while the
    # batch writes its tax sales, after its parent properties were already upserted in the same transaction.
    reader = [Page(1, [rec(1), rec(2)]), Page(2, [rec(3), rec(4, blob=object())]), Page(3, [rec(5)])]
    run = ingest_source(source=source, reader=reader)
    assert counts(run) == ("failed", 2, 2, 0, 0, 0)
    assert run.message.startswith("TypeError: Object of type object is not JSON serializable")
    assert sorted(m.Property.objects.values_list("parcel_id", flat=True)) == ["P001", "P002"]
    assert m.TaxSale.objects.count() == 2


def test_child_dataset_creates_minimal_parent_fills_blanks_and_does_not_overwrite():
    PropertyFactory(parcel_id="322313760000001", owner_name="KEEP ME", beds=None)
    source = DataSourceFactory(
        dataset="tax_sales",
        parcel_format="orange_fl",
        field_mapping={
            "parcel_id": "USER_PARCEL",
            "tda_number": "USER_TDA_NUM",
            "sale_date": "USER_Sale_Date",
            "deed_status": "USER_Deed_Status",
            "owner_name": "OWNER",
            "beds": "BEDS",
        },
    )
    records = [
        RawRecord("11", {"USER_PARCEL": "13-23-32-7600-00-001", "USER_TDA_NUM": "2023-4348", "OWNER": "X", "BEDS": 3}),
        RawRecord("12", {"USER_PARCEL": "322313760000002", "USER_TDA_NUM": "2023-4349", "USER_Sale_Date": 1.7e12}),
        RawRecord("13", {"USER_PARCEL": "322313760000002", "USER_TDA_NUM": "2023-4350", "USER_Deed_Status": "Active"}),
    ]
    run = ingest_source(source=source, reader=[Page(1, records)])
    assert counts(run) == ("success", 3, 3, 0, 0, 0)
    kept = m.Property.objects.get(parcel_id="322313760000001")
    assert (kept.owner_name, kept.beds) == ("KEEP ME", 3)
    minimal = m.Property.objects.get(parcel_id="322313760000002")
    assert (minimal.parcel_id_raw, minimal.street, minimal.property_type) == ("322313760000002", "", "other")
    assert list(minimal.tax_sales.order_by("tda_number").values_list("tda_number", "deed_status", "sale_date")) == [
        ("2023-4349", "", dt.date(2023, 11, 14)),
        ("2023-4350", "Active", None),
    ]
    assert counts(ingest_source(source=source, reader=[Page(1, records)])) == ("success", 3, 0, 0, 3, 0)
    assert (m.Property.objects.count(), m.TaxSale.objects.count()) == (2, 3)


def test_code_violations_keyed_on_case_number():
    source = DataSourceFactory(dataset="code_violations", field_mapping={"preset": "orlando_code_violations"})
    rows = [
        {"apno": "CE2024-001", "parcel_id": "292228885002050", "casedt": "2024-03-01T00:00:00.000", "resdt": None},
        {"apno": "CE2024-002", "parcel_id": "292228885002050", "casedt": "2024-05-01", "resdt": "2024-04-01"},
    ]
    run = ingest_source(source=source, reader=[Page(1, [RawRecord(f"row-{i}", r) for i, r in enumerate(rows)])])
    assert counts(run) == ("success", 2, 2, 0, 0, 0)
    # A closing date before the opening one cannot both be right: the closing date is dropped, the case kept.
    assert run.field_stats["closed_at"]["bad"] == 1
    assert run.field_stats["closed_at"]["examples"] == [
        "record row-1: closed 2024-04-01 is before opened 2024-05-01: closed date dropped"
    ]
    assert list(m.CodeViolation.objects.order_by("case_number").values_list(
        "case_number", "external_id", "opened_at", "closed_at")) == [
        ("CE2024-001", "row-0", dt.date(2024, 3, 1), None),
        ("CE2024-002", "row-1", dt.date(2024, 5, 1), None),
    ]  # fmt: skip


def listing(n, price, **extra):
    return RawRecord(f"z{n}", {"zpid": f"{n}", "parcelId": f"PARCEL-{n}", "price": price, **extra})


def test_price_changes_detected_between_runs_and_reported_by_source():
    source = DataSourceFactory(dataset="listings", kind="file", field_mapping={"preset": "zillow"})
    reported = {"priceChange": -10000, "datePriceChanged": 1700000000000}
    first = ingest_source(source=source, reader=[Page(1, [listing(1, 250000), listing(2, 190000, **reported)])])
    assert counts(first) == ("success", 2, 2, 0, 0, 0)
    second = ingest_source(source=source, reader=[Page(1, [listing(1, 240000), listing(2, 190000, **reported)])])
    assert counts(second) == ("success", 2, 0, 1, 1, 0)
    changes = m.PriceChange.objects.order_by("listing__external_id")
    assert [(c.listing.external_id, c.old_price, c.new_price, c.is_reduction) for c in changes] == [
        ("1", Decimal("250000.00"), Decimal("240000.00"), True),
        ("2", Decimal("200000.00"), Decimal("190000.00"), True),
    ]
    assert changes[1].changed_at == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)
    third = ingest_source(source=source, reader=[Page(1, [listing(1, 240000), listing(2, 190000, **reported)])])
    assert counts(third) == ("success", 2, 0, 0, 2, 0)
    assert m.PriceChange.objects.count() == 2


def test_constant_queries_per_batch(parcels_source):
    def queries(records):
        with CaptureQueriesContext(connection) as ctx:
            ingest_source(source=parcels_source, reader=[Page(1, records)], batch_size=1000)
        return len(ctx.captured_queries)

    small = queries([parcel(n) for n in range(1, 6)])
    large = queries([parcel(n) for n in range(100, 125)])
    assert small == large
    # Unchanged records are recognised by their record hash (stamped as seen already today): run row, hash lookup,
    # savepoints.
    assert queries([parcel(n) for n in range(100, 125)]) == 6


def test_records_seen_again_are_stamped_once_a_day(parcels_source):
    records = [parcel(n) for n in range(1, 4)]
    ingest_source(source=parcels_source, reader=pages(records))
    first = dict(m.PropertySource.objects.values_list("external_id", "last_seen_at"))

    ingest_source(source=parcels_source, reader=pages(records))  # the same day: nothing written again
    assert dict(m.PropertySource.objects.values_list("external_id", "last_seen_at")) == first

    one, two, three = sorted(first)  # keyed by parcel id, in record order
    yesterday = timezone.now() - dt.timedelta(days=1)
    m.PropertySource.objects.filter(external_id__in=[one, two]).update(last_seen_at=yesterday)
    run = ingest_source(source=parcels_source, reader=pages(records[:1]))  # the next day, record 1 listed again
    assert counts(run) == ("success", 1, 0, 0, 1, 0)
    stamps = dict(m.PropertySource.objects.values_list("external_id", "last_seen_at"))
    assert stamps[one] > first[one]
    assert (stamps[two], stamps[three]) == (yesterday, first[three])


def test_changed_mapping_rederives_unchanged_records(parcels_source):
    records = [parcel(n) for n in range(1, 4)]
    ingest_source(source=parcels_source, reader=pages(records))
    before = set(m.PropertySource.objects.values_list("record_hash", flat=True))
    parcels_source.field_mapping = {**PARCELS_MAPPING, "county": {"value": "Orange"}}
    run = ingest_source(source=parcels_source, reader=pages(records))
    assert counts(run) == ("success", 3, 0, 3, 0, 0)
    assert set(m.Property.objects.values_list("county", flat=True)) == {"Orange"}
    assert before.isdisjoint(m.PropertySource.objects.values_list("record_hash", flat=True))
    assert counts(ingest_source(source=parcels_source, reader=pages(records))) == ("success", 3, 0, 0, 3, 0)


def test_records_of_merged_duplicate_land_on_survivor(parcels_source):
    ingest_source(source=parcels_source, reader=pages([parcel(1), parcel(2)]))
    survivor, dup = m.Property.objects.order_by("parcel_id")
    dup.merged_into, dup.is_active = survivor, False
    dup.save()
    source = DataSourceFactory(
        dataset="tax_sales", parcel_format="orange_fl", field_mapping={"preset": "orange_fl_tax_sales"}
    )
    rec = RawRecord("1", {"USER_PARCEL": dup.parcel_id_raw, "USER_TDA_NUM": "2024-1"})
    ingest_source(source=source, reader=[Page(1, [rec])])
    assert m.TaxSale.objects.get().property == survivor


def test_a_key_repeated_in_one_run_keeps_the_first_record_every_run_in_any_batch():
    source = DataSourceFactory(
        dataset="tax_sales", field_mapping={"parcel_id": "P", "tda_number": "T", "deed_status": "S"}
    )

    def sale(n, status):
        return RawRecord(str(n), {"P": "12-34", "T": "2024-7", "S": status})

    a, b = sale(1, "Active"), sale(2, "Redeemed")
    first = ingest_source(source=source, reader=[Page(1, [a]), Page(2, [b])], batch_size=1)
    assert (counts(first), first.duplicates, first.stored) == (("success", 2, 1, 0, 0, 0), 1, 1)
    assert first.warnings == [
        {"record": "2", "reason": "key '2024-7' repeats an earlier record of this run: the first one is kept, this one "
         "skipped"}
    ]  # fmt: skip
    for _ in range(2):  # converged: no "updated=1" every run
        again = ingest_source(source=source, reader=[Page(1, [a, b])])
        assert (counts(again), again.duplicates) == (("success", 2, 0, 0, 1, 0), 1)
        assert m.TaxSale.objects.get().deed_status == "Active"
    # The source now lists them the other way round: the first one read wins, and then stays.
    swapped = ingest_source(source=source, reader=[Page(1, [b, a])])
    assert (counts(swapped), swapped.duplicates) == (("success", 2, 0, 1, 0, 0), 1)
    assert m.TaxSale.objects.get().deed_status == "Redeemed"
    settled = ingest_source(source=source, reader=[Page(1, [b, a])])
    assert (counts(settled), settled.duplicates) == (("success", 2, 0, 0, 1, 0), 1)
