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


def read(config, attributes, dataset="parcels"):
    return FieldMapping.from_config(dataset, {"parcel_id": "P", **config}).read(
        RawRecord("1", {"P": "1", **attributes})
    )


@pytest.mark.parametrize(
    ("config", "attributes", "target", "problem"),
    [
        ({"market_value": "M"}, {"M": "lots"}, "market_value", "M: 'lots' is not a number"),
        ({"market_value": "M"}, {"M": "NULL x"}, "market_value", "M: 'NULL x' is not a number"),
        ({"market_value": "M"}, {"M": -5}, "market_value", "M: -5 is negative"),
        ({"market_value": "M"}, {"M": "1e20"}, "market_value", "M: '1e20' is too large"),
        ({"beds": "B"}, {"B": 2.5}, "beds", "B: 2.5 is not a whole number"),
        ({"beds": "B"}, {"B": 99999}, "beds", "B: 99999 is out of range (0 to 32767)"),
        ({"year_built": "Y"}, {"Y": 3020}, "year_built", "Y: 3020 is not a plausible year built (1700 to 2100)"),
        ({"latitude": "LAT"}, {"LAT": 3300123.5}, "latitude", "LAT: 3300123.5 is not a latitude (-90 to 90)"),
        ({"last_sale_date": "D"}, {"D": "soon"}, "last_sale_date", "D: 'soon' is not a date (e.g. 2024-03-01"),
        ({"tax_delinquent": "T"}, {"T": "maybe"}, "tax_delinquent", "T: 'maybe' is not yes/no"),
        ({"state": "S"}, {"S": "Ontario"}, "state", "S: 'Ontario' is not a US state"),
        ({"zip": "Z"}, {"Z": "K1A 0B1"}, "zip", "Z: 'K1A 0B1' is not a zip code"),
        (
            {"state": {"source": "S", "split": "state_zip", "part": "state"}},
            {"S": "Michigan"},
            "state",
            "S: 'Michigan' is not a state and zip (e.g. FL 32801)",
        ),
        (
            {"market_value": {"source": "M", "transform": "number"}},
            {"M": "abc"},
            "market_value",
            "M: transform number: 'abc' is not a number",
        ),
        (
            {"last_sale_date": {"source": "D", "transform": "date:%m/%d/%Y"}},
            {"D": "2024-13-01"},
            "last_sale_date",
            "D: '2024-13-01' is not a date in the format %m/%d/%Y",
        ),
    ],
)
def test_a_bad_value_drops_the_value_not_the_record_and_says_why(config, attributes, target, problem):
    mapped = read({"owner_name": "O", **config}, {"O": "JANE DOE", **attributes})
    assert mapped.row[target] is None
    assert mapped.row["owner_name"] == "JANE DOE"
    assert mapped.flags == "f" + "f" + "x"  # parcel_id, owner_name, the bad field
    ((where, text),) = mapped.problems
    assert where == target
    assert text.startswith(problem)
    assert "ConversionSyntax" not in text and "InvalidOperation" not in text


@pytest.mark.parametrize("blank", ["NULL", "null", " N/A ", "None", "NULL--", "#N/A", "NaN", "-", "--"])
@pytest.mark.parametrize("target", ["market_value", "last_sale_date", "owner_name", "year_built", "state"])
def test_literal_nulls_are_blanks_in_any_column(blank, target):
    mapped = read({target: "V"}, {"V": blank})
    assert (mapped.row[target], mapped.flags, mapped.problems) == (
        None,
        "fs",
        [(target, f"V: {blank!r} read as unknown")],
    )


@pytest.mark.parametrize(
    ("target", "value"),
    [("last_sale_price", 0), ("last_sale_price", "0.00"), ("last_sale_price", "$0"), ("year_built", 0),
     ("year_built", "0000"), ("living_sqft", 0), ("lot_sqft", 0.0)],
)  # fmt: skip
def test_default_sentinels_mean_unknown(target, value):
    mapped = read({target: "V"}, {"V": value})
    assert (mapped.row[target], mapped.flags) == (None, "fs")
    assert mapped.problems == [(target, f"V: {value!r} read as unknown")]


def test_a_mapping_names_its_own_sentinels_or_none():
    config = {"market_value": {"source": "M", "null": [-1, "UNK"]}, "last_sale_price": {"source": "S", "null": []}}
    mapped = read(config, {"M": "-1", "S": 0})
    assert mapped.row["market_value"] is None and mapped.row["last_sale_price"] == Decimal("0.00")
    assert mapped.flags == "fsf"
    assert read(config, {"M": " unk ", "S": 5}).row["market_value"] is None
    assert read(config, {"M": 7, "S": 5}).row["market_value"] == Decimal("7.00")


def test_a_bad_or_missing_key_fails_the_record_with_its_reason():
    mapping = FieldMapping.from_config("tax_sales", {"parcel_id": "P", "tda_number": "T", "opening_bid": "B"})
    with pytest.raises(RowError, match=r"^missing parcel_id$") as err:
        mapping.read(RawRecord("1", {"P": "NULL", "T": "2024-1", "B": "x"}))
    assert (err.value.field, err.value.mapped.flags) == ("parcel_id", "sfx")


@pytest.mark.parametrize(
    ("value", "vocabulary", "expected", "problem"),
    [
        ("0101", "fl_dor", "sfr", None),
        (
            "0101",
            None,
            None,
            """'0101' is a land-use code: name the source's vocabulary ("fl_dor", "cook_il" or a table)""",
        ),
        (
            "2-11",
            None,
            None,
            """'2-11' is a land-use code: name the source's vocabulary ("fl_dor", "cook_il" or a table)""",
        ),
        ("2-11", "cook_il", "multi", None),
        ("2-17", "cook_il", None, "'2-17' is not in the cook_il land-use vocabulary"),
        ("200", {"200": "land"}, "land", None),
        ("300", {"200": "land"}, None, "'300' is not in the mapping's table land-use vocabulary"),
        ("510 - SINGLE FAMILY", None, "sfr", None),
        ("GLORP", None, None, "'GLORP' names no property type DealFinder knows"),
    ],
)
def test_property_type_through_the_sources_vocabulary(value, vocabulary, expected, problem):
    spec = {"source": "U", **({"vocabulary": vocabulary} if vocabulary else {})}
    mapped = read({"property_type": spec}, {"U": value})
    assert mapped.row["property_type"] == expected
    assert mapped.problems == (None if problem is None else [("property_type", f"U: {problem}")])


@pytest.mark.parametrize(
    ("value", "expected"),
    [("Missouri", "MO"), ("md", "MD"), ("MI49327", "MI 49327"), ("  MI 49327  ", "MI 49327"), ("Ohio", "OH")],
)
def test_states_are_usps_codes(value, expected):
    assert read({"state": "S"}, {"S": value}).row["state"] == expected


def test_zip_stored_as_a_number_gets_its_zero_back():
    assert read({"zip": "Z"}, {"Z": 2801}).row["zip"] == "02801"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"x": "X", "y": "Y", "epsg": 2236}, None),
        ({"x": "X", "y": "Y", "epsg": "EPSG:2236"}, None),
        ({"x": "X"}, "map both x and y"),
        ({"latitude": "Y", "epsg": 2236}, "epsg 2236 names the coordinate system of x and y: map them too"),
        ({"x": "X", "y": "Y", "epsg": 99999}, "EPSG:99999 is not a coordinate system GDAL knows"),
        ({"x": "X", "y": "Y", "epsg": "feet"}, "epsg must be an EPSG code such as 2236"),
        ({"x": "X", "y": "Y", "epsg": True}, "epsg must be an EPSG code such as 2236"),
        ({"property_type": {"source": "U", "vocabulary": "ohio"}}, "property_type: unknown vocabulary 'ohio'"),
        ({"zip": {"source": "U", "vocabulary": "fl_dor"}}, "zip: only property_type takes a 'vocabulary'"),
        ({"zip": {"source": "U", "null": [{"a": 1}]}}, "zip: 'null' is a value or a list of values"),
    ],
)
def test_coordinates_vocabulary_and_null_configuration(config, message):
    if message is None:
        assert FieldMapping.from_config("parcels", {"parcel_id": "P", **config}).epsg == 2236
    else:
        with pytest.raises(MappingError, match=message):
            FieldMapping.from_config("parcels", {"parcel_id": "P", **config})


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
