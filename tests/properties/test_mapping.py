import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from properties.ingest.base import RawRecord
from properties.ingest.mapping import FieldMapping, MappingError, RowError, load_preset, preset_names


def apply(config, attributes, dataset="parcels"):
    return FieldMapping.from_config(dataset, {"parcel_id": "P", **config}).apply(
        RawRecord("1", {"P": "1", **attributes})
    )


def test_unknown_target_is_a_mapping_error_naming_field_and_allowed():
    with pytest.raises(MappingError) as err:
        FieldMapping.from_config("tax_sales", {"parcel_id": "P", "tda_number": "T", "sale_price": "X"})
    message = str(err.value)
    assert message.startswith("unknown target field 'sale_price' for dataset tax_sales; allowed: baths, beds, city,")
    assert "tda_number" in message


@pytest.mark.parametrize(
    ("dataset", "config", "message"),
    [
        ("parcels", {"street": "S"}, "the parcels mapping must map 'parcel_id'"),
        ("tax_sales", {"parcel_id": "P"}, "the tax_sales mapping must map 'tda_number'"),
        ("code_violations", {"parcel_id": "P"}, "the code_violations mapping must map 'case_number'"),
        ("parcels", {"parcel_id": {"source": "P", "transform": "reverse"}}, "parcel_id: unknown transform 'reverse'"),
        ("parcels", {"parcel_id": {"column": "P"}}, "parcel_id: a spec is a source attribute name or an object"),
        ("parcels", {"parcel_id": "P", "zip": {"source": "Z", "split": "state_zip"}}, "zip: split state_zip needs"),
        ("parcels", {"preset": "nope"}, "unknown mapping preset 'nope'; available: generic_csv, mls,"),
        ("rentals", {"parcel_id": "P"}, "unknown dataset 'rentals'"),
        ("parcels", {"parcel_id": "P", "last_sale_date": {"source": "D", "transform": "rebase:soon"}}, "rebase needs"),
        ("parcels", {"parcel_id": {"source": "P", "transform": None}}, "parcel_id: 'transform' is a transform name"),
        ("parcels", {"parcel_id": {"source": "P", "transform": [1]}}, "parcel_id: 'transform' is a transform name"),
        ("parcels", {"parcel_id": {"concat": None}}, "parcel_id: 'concat' is a list of source attribute names"),
        ("parcels", {"parcel_id": {"concat": ["A"], "sep": 1}}, "parcel_id: 'sep' must be a string"),
        ("parcels", {"parcel_id": {"source": "P", "split": 1, "part": 0}}, "parcel_id: 'split' is 'state_zip' or"),
        ("parcels", {"parcel_id": {"source": "P", "split": "-", "part": True}}, "parcel_id: 'part' is 'state', 'zip'"),
    ],
)
def test_configuration_errors(dataset, config, message):
    with pytest.raises(MappingError, match=message):
        FieldMapping.from_config(dataset, config)


def test_transforms():
    row = apply(
        {
            "street": {"concat": ["ADDR1", "ADDR2"], "sep": " "},
            "city": {"source": "CITY", "transform": ["title"]},
            "owner_name": {"source": "OWNER", "transform": "upper"},
            "state": {"source": "STZIP", "split": "state_zip", "part": "state"},
            "zip": {"source": "STZIP", "split": "state_zip", "part": "zip"},
            "county": {"value": "Orange"},
            "mailing_city": {"source": "CSZ", "split": ",", "part": 0},
            "last_sale_date": {"source": "SALE_DATE", "transform": ["date:%m/%d/%Y"]},
            "market_value": {"source": "MKT", "transform": ["number"]},
            "beds": {"source": "BEDS", "default": 0},
            "tax_delinquent": "DELINQ",
            "baths": "BATHS",
        },
        {
            "ADDR1": " 12 Main St ",
            "ADDR2": "Apt 4",
            "CITY": "  winter park ",
            "OWNER": "jane doe",
            "STZIP": "MI49327",
            "CSZ": "Grand Rapids, MI",
            "SALE_DATE": "03/07/2019",
            "MKT": "$250,000",
            "BEDS": "   ",
            "DELINQ": "Y",
            "BATHS": 2.5,
        },
    )
    assert {k: v for k, v in row.items() if k != "parcel_id"} == {
        "street": "12 Main St Apt 4",
        "city": "Winter Park",
        "owner_name": "JANE DOE",
        "state": "MI",
        "zip": "49327",
        "county": "Orange",
        "mailing_city": "Grand Rapids",
        "last_sale_date": dt.date(2019, 3, 7),
        "market_value": Decimal("250000.00"),
        "beds": 0,
        "tax_delinquent": True,
        "baths": Decimal("2.5"),
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1700000000000, dt.date(2023, 11, 14)),  # epoch ms
        (1.7e12, dt.date(2023, 11, 14)),
        ("1700000000000", dt.date(2023, 11, 14)),
        ("2024-01-05", dt.date(2024, 1, 5)),
        ("2024-01-05T00:00:00.000", dt.date(2024, 1, 5)),
        ("20240105", dt.date(2024, 1, 5)),
        ("01/05/2024", dt.date(2024, 1, 5)),
        (dt.datetime(2024, 1, 5, 0, 0, tzinfo=dt.UTC), dt.date(2024, 1, 5)),
        ("", None),
    ],
)
def test_date_coercion(value, expected):
    assert apply({"last_sale_date": "D"}, {"D": value})["last_sale_date"] == expected


def test_rebase_moves_anchor_to_today(settings):
    today = timezone.localdate()
    row = apply({"last_sale_date": {"source": "D", "transform": ["rebase:2026-01-01"]}}, {"D": "2026-01-11"})
    assert row["last_sale_date"] == today + dt.timedelta(days=10)


@pytest.mark.parametrize(
    ("config", "attributes", "reason"),
    [
        ({"market_value": "M"}, {"M": "lots"}, "bad market_value: 'lots' ("),
        ({"market_value": "M"}, {"M": -5}, "bad market_value: -5 (out of range)"),
        ({"beds": "B"}, {"B": 2.5}, "bad beds: 2.5 (not a whole number)"),
        ({"state": {"source": "S", "split": "state_zip", "part": "state"}}, {"S": "Michigan"}, "cannot split"),
        ({"market_value": {"source": "M", "transform": "number"}}, {"M": "abc"}, "number cannot read 'abc'"),
    ],
)
def test_row_errors(config, attributes, reason):
    with pytest.raises(RowError) as err:
        apply(config, attributes)
    assert str(err.value).startswith(reason)


def test_missing_required_value_is_a_row_error():
    mapping = FieldMapping.from_config("tax_sales", {"parcel_id": "P", "tda_number": "T"})
    with pytest.raises(RowError, match=r"^missing tda_number$"):
        mapping.apply(RawRecord("1", {"P": "12", "T": "  "}))


def test_attribute_names_match_case_insensitively():
    assert apply({"owner_name": "name1"}, {"NAME1": "X"})["owner_name"] == "X"


def test_presets_with_overrides_and_removal():
    assert preset_names() == [
        "generic_csv",
        "mls",
        "orange_fl_parcels",
        "orange_fl_tax_sales",
        "orlando_code_violations",
        "realtor",
        "zillow",
    ]
    mapping = FieldMapping.from_config("listings", {"preset": "zillow", "list_price": "listPrice", "url": None})
    targets = {s.target: s.sources for s in mapping.specs}
    assert targets["list_price"] == ("listPrice",)
    assert "url" not in targets
    for name in preset_names():
        preset = load_preset(name)
        assert FieldMapping.from_config(preset["dataset"], {"preset": name}).dataset == preset["dataset"]
