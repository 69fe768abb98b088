"""Real-format county files through the whole ingest: what is stored is what the source means.

The files under tests/fixtures/files are made up (no real owners) in the shape of public exports: New York's tax
parcels (Warwick, Orange County NY: print keys, ORPS property classes, state-plane GRID_EAST/GRID_NORTH), a city
tax-delinquency list (St. Louis MO), Baltimore's real property and tax sale lists (block/lot ids), Franklin
County OH and Cook County IL parcels (their own land-use vocabularies).
"""

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from properties import models as m
from properties.services import datasource_ingest
from tests.factories import DataSourceFactory

pytestmark = pytest.mark.django_db

FILES = Path(__file__).resolve().parent.parent / "fixtures" / "files"
NY_CLASSES = {
    "210": "sfr",
    "220": "multi",
    "230": "multi",
    "270": "mobile",
    "311": "land",
    "1": "other",
    "4": "commercial",
}
WARWICK = {
    "parcel_id": "PRINT_KEY",
    "street": "PARCEL_ADDR",
    "owner_name": "PRIMARY_OWNER",
    "mailing_street": "MAIL_ADDR",
    "mailing_city": "MAIL_CITY",
    "mailing_state": "MAIL_STATE",
    "mailing_zip": "MAIL_ZIP",
    "property_type": {"source": "PROP_CLASS", "vocabulary": NY_CLASSES},
    "year_built": "YR_BLT",
    "living_sqft": "SQ_FT",
    "beds": "NBR_BEDROOMS",
    "market_value": "FULL_MV",
    "last_sale_price": "SALE_PRICE",
    "last_sale_date": "SALE_DATE",
    "x": {"source": "GRID_EAST", "null": [0]},
    "y": {"source": "GRID_NORTH", "null": [0]},
    "epsg": 2260,  # NAD83 / New York East (US feet)
}


def file_source(name, dataset, mapping, **extra):
    return DataSourceFactory(
        kind="file", dataset=dataset, url=str(FILES / name), field_mapping=mapping, enabled=True, **extra
    )


def counts(run):
    return (run.status, run.processed, run.inserted, run.updated, run.unchanged, run.failed, run.duplicates)


def prop(parcel_id):
    return m.Property.objects.get(parcel_id=parcel_id)


def test_warwick_ny_parcels_store_what_the_county_means():
    source = file_source("warwick_ny_tax_parcels.csv", "parcels", WARWICK)
    run = datasource_ingest(source_id=source.pk)
    assert counts(run) == ("success", 8, 7, 0, 0, 0, 1)
    assert (run.stored, run.unplaced) == (7, 2)

    pine = prop("5-1-27-2")  # separators kept, as one: print keys 5-1-27.2 and 5-12-7.2 are two parcels
    assert (pine.street, pine.city, pine.state, pine.zip) == ("2 BROZDOWSKI LN", "PINE ISLAND", "NY", "10969")
    assert pine.owner_name == "KOWALSKI ANNA"  # the first record of a repeated key is kept, every run
    assert pine.owner_mailing_address == "2 BROZDOWSKI LN, PINE ISLAND, NY 10969"
    assert pine.is_absentee is False
    assert pine.location.x == pytest.approx(-74.4843, abs=1e-5)  # state-plane feet, transformed by GDAL
    assert pine.location.y == pytest.approx(41.2962, abs=1e-5)
    value = pine.valuations.get()
    assert (value.last_sale_price, value.equity_percent) == (None, None)  # a $0 sale is no sale: no 100% equity

    glenwood = prop("5-12-7-2")
    assert (glenwood.property_type, glenwood.year_built, glenwood.living_sqft, glenwood.beds) == (
        "multi",
        None,
        None,
        None,
    )
    assert glenwood.is_absentee is True
    assert glenwood.valuations.get().last_sale_date == dt.date(2019, 6, 14)

    oakland = prop("17-1-4")  # "06 OAKLAND AVE" and the owner's "6 Oakland Ave" are one address
    assert (oakland.street, oakland.property_type, oakland.is_absentee) == ("6 OAKLAND AVE", "mobile", False)
    assert prop("17-1-3").property_type == "land"
    farm = prop("17-2-11")
    assert (farm.property_type, farm.location) == ("other", None)  # GRID 0/0 means no point
    assert farm.owner_mailing_address == "120 PINE ISLAND TPKE, WARWICK, NY 10990"
    assert (prop("17-2-12").property_type, prop("17-2-12").location) == ("commercial", None)  # "#VALUE!" easting
    assert prop("17-2-13").property_type == "other"  # class 999 is in no vocabulary: unknown, and said so

    stats = run.field_stats
    assert stats["last_sale_price"] == {
        "filled": 4,
        "blank": 0,
        "sentinel": 4,
        "bad": 0,
        "examples": [
            "record 2: SALE_PRICE: '0' read as unknown",
            "record 4: SALE_PRICE: '0' read as unknown",
            "record 6: SALE_PRICE: 'NULL--' read as unknown",
            "record 9: SALE_PRICE: '0' read as unknown",
        ],
    }
    assert (stats["beds"]["sentinel"], stats["beds"]["bad"]) == (2, 0)
    assert stats["beds"]["examples"] == ["record 3: NBR_BEDROOMS: 'N/A' read as unknown",
                                         "record 4: NBR_BEDROOMS: 'NULL' read as unknown"]  # fmt: skip
    assert stats["x"] == {
        "filled": 6,
        "blank": 0,
        "sentinel": 1,
        "bad": 1,
        "examples": ["record 6: GRID_EAST: '0' read as unknown", "record 7: GRID_EAST: '#VALUE!' is not a number"],
    }
    assert stats["property_type"]["bad"] == 1
    assert stats["property_type"]["examples"] == [
        "record 8: PROP_CLASS: '999' is not in the mapping's table land-use vocabulary"
    ]
    assert {k: v for k, v in stats["location"].items() if k != "examples"} == {
        "filled": 6,
        "blank": 2,
        "sentinel": 0,
        "bad": 0,
    }
    assert run.warnings == [
        {
            "record": "9",
            "reason": "key '5-1-27-2' repeats an earlier record of this run: the first one is kept, this one skipped",
        }
    ]

    again = datasource_ingest(source_id=source.pk)
    assert counts(again) == ("success", 8, 0, 0, 7, 0, 1)  # converged: the repeated key no longer flip-flops
    assert (again.stored, again.unplaced) == (7, 2)
    assert {t: {k: v for k, v in c.items() if k != "examples"} for t, c in again.field_stats.items()} == {
        t: {k: v for k, v in c.items() if k != "examples"} for t, c in stats.items()
    }
    assert (
        again.field_stats["last_sale_price"]["examples"]
        == [  # the repeated key is read again every run
            "record 9: SALE_PRICE: '0' read as unknown",
            *stats["last_sale_price"]["examples"][:3],
        ]
    )
    assert again.field_stats["x"]["examples"] == stats["x"]["examples"]
    assert prop("5-1-27-2").owner_name == "KOWALSKI ANNA"


def test_state_plane_coordinates_without_their_epsg_load_unplaced_with_a_warning():
    source = file_source("warwick_ny_tax_parcels.csv", "parcels", {**WARWICK, "epsg": None})
    run = datasource_ingest(source_id=source.pk)
    assert run.status == "success"
    assert (run.stored, run.unplaced) == (7, 7)
    assert m.Property.objects.filter(location__isnull=False).count() == 0
    location = run.field_stats["location"]
    assert (location["filled"], location["bad"]) == (0, 6)
    assert location["examples"][0] == (
        "record 2: (496439, 897109) is not a longitude/latitude (projected coordinates? name their EPSG): "
        "loaded without a location"
    )


def test_a_tax_delinquency_list_scores_until_paid():
    mapping = {
        "parcel_id": "ParcelId",
        "street": "SiteAddr",
        "zip": "SiteZip",
        "city": {"value": "SAINT LOUIS"},
        "state": {"value": "MO"},
        "owner_name": "OwnerName",
        "mailing_street": "OwnerAddr",
        "mailing_city": "OwnerCity",
        "mailing_state": "OwnerState",
        "mailing_zip": "OwnerZip",
        "tax_year": "TaxYear",
        "delinquent_amount": "AmountDue",
        "status": "Status",
    }
    source = file_source("stlouis_mo_tax_delinquency.csv", "tax_delinquencies", mapping)
    run = datasource_ingest(source_id=source.pk)
    assert counts(run) == ("success", 5, 5, 0, 0, 0, 0)
    osage = prop("56360000100")
    assert (osage.street, osage.is_absentee) == ("6214 OSAGE AVE", False)  # zero-padded situs, plain mailing
    assert osage.owner_mailing_address == "6214 OSAGE AVE, SAINT LOUIS, MO 63139"  # "Missouri" is MO, not MI
    owed = osage.tax_delinquencies.order_by("tax_year")
    assert [(d.external_id, d.tax_year, d.amount_owed, d.is_open) for d in owed] == [
        ("56360000100:2022", 2022, Decimal("1234.56"), True),
        ("56360000100:2023", 2023, Decimal("980.10"), True),
    ]
    assert prop("11230000300").owner_mailing_address == "PO BOX 77, CHICAGO, IL 60601"
    assert prop("11230000300").tax_delinquencies.get().is_open is True  # on the list, amount unknown: owed
    assert prop("20910000800").tax_delinquencies.get().is_open is True
    paid = prop("20910000700").tax_delinquencies.get()
    assert (paid.is_open, paid.status, paid.amount_owed) == (False, "PAID IN FULL", Decimal("0.00"))
    assert run.field_stats["delinquent_amount"]["sentinel"] == 2


def test_baltimore_block_lots_stay_apart_and_the_tax_sale_lands_on_its_parcel():
    parcels = {
        "parcel_id": "BLOCK_LOT",
        "street": "FULLADDR",
        "city": "CITY",
        "state": "STATE",
        "zip": "ZIP_CODE",
        "owner_name": "OWNER_1",
        "owner_mailing_address": "MAILTOADD",
        "property_type": "USEGROUP",
        "year_built": "YEAR_BUILD",
        "last_sale_price": "SALEPRIC",
        "last_sale_date": "SALEDATE",
    }
    sales = {
        "parcel_id": "Block Lot",
        "tda_number": "Certificate",
        "sale_date": "Sale Date",
        "opening_bid": "Opening Bid",
    }
    datasource_ingest(source_id=file_source("baltimore_md_real_property.csv", "parcels", parcels).pk)
    run = datasource_ingest(source_id=file_source("baltimore_md_tax_sale.csv", "tax_sales", sales).pk)
    assert run.status == "success"
    caroline, lafayette = prop("221-52"), prop("2215-2")
    assert (caroline.state, caroline.property_type, caroline.is_absentee) == ("MD", "sfr", False)
    assert list(caroline.tax_sales.values_list("tda_number", flat=True)) == ["TS-2025-0147"]
    assert lafayette.tax_sales.count() == 0
    assert lafayette.owner_mailing_address == "PO BOX 3301, TOWSON, MD 21285"


def test_the_plain_format_says_when_it_merges_ids_written_differently(tmp_path):
    parcels = {"parcel_id": "BLOCK_LOT", "street": "FULLADDR", "zip": "ZIP_CODE", "owner_name": "OWNER_1"}
    source = file_source("baltimore_md_real_property.csv", "parcels", parcels, parcel_format="plain")
    run = datasource_ingest(source_id=source.pk)
    assert m.Property.objects.get().parcel_id == "22152"
    assert run.warnings == [  # in one run the second parcel is a repeated key: the first one is kept
        {"record": "3", "reason": "key '22152' repeats an earlier record of this run: the first one is kept, this one "
         "skipped"}
    ]  # fmt: skip
    later = tmp_path / "lafayette.csv"
    lines = (FILES / "baltimore_md_real_property.csv").read_text().splitlines()
    later.write_text("\n".join([lines[0], lines[2]]) + "\n")
    other = file_source(str(later), "parcels", parcels, parcel_format="plain")
    run = datasource_ingest(source_id=other.pk)
    assert run.warnings == [
        {
            "record": "2",
            "reason": "parcel id '2215-2' and '221-52' both become '22152' in the plain format, so their records share "
            "one property; if they are two parcels, re-key the source to the canonical format (manage.py parcel_rekey)",
        }
    ]


@pytest.mark.parametrize(
    ("name", "mapping", "parcel_format", "expected"),
    [
        (
            "franklin_oh_parcels.csv",
            {"parcel_id": "PARCELID", "street": "SITEADDRESS", "property_type": "CLASSDSCRP", "year_built": "RESYRBLT"},
            "canonical",
            {"010-012345-00": "sfr", "010-012346-00": "multi", "010-098765-00": "condo", "570-200101-00": "land",
             "570-200102-00": "other"},
        ),
        (
            "cook_il_parcels.csv",
            {"parcel_id": "PIN", "property_type": {"source": "CLASS", "vocabulary": "cook_il"}},
            "cook_il",
            {"17161000100000": "multi", "16122000311001": "condo", "13253140200000": "townhouse",
             "20141050080000": "sfr", "17094110030000": "commercial"},
        ),
    ],
)  # fmt: skip
def test_land_use_read_in_the_counties_own_vocabulary(name, mapping, parcel_format, expected):
    run = datasource_ingest(source_id=file_source(name, "parcels", mapping, parcel_format=parcel_format).pk)
    assert run.status == "success"
    assert dict(m.Property.objects.values_list("parcel_id", "property_type")) == expected


def test_ohio_bare_code_is_unknown_and_said_so():
    mapping = {"parcel_id": "PARCELID", "property_type": "CLASSDSCRP"}
    run = datasource_ingest(source_id=file_source("franklin_oh_parcels.csv", "parcels", mapping).pk)
    assert run.field_stats["property_type"]["examples"] == [
        "record 6: CLASSDSCRP: '200' is a land-use code: name the source's vocabulary "
        '("fl_dor", "cook_il" or a table)'
    ]
