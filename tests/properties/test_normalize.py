import pytest

from properties.normalize import (
    NormalizedAddress,
    is_absentee,
    listing_status_from,
    normalize_address,
    normalize_address_line,
    normalize_parcel_id,
    property_type_from,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("13-23-32-7600-00-070", "322313760000070"),  # display form: range + township + section + rest
        ("  29-22-28-8850-02-050 ", "282229885002050"),
        ("13 23 32 7600 00 070", "322313760000070"),
        ("322313760000070", "322313760000070"),  # already the API form
    ],
)
def test_orange_fl_parcel_ids(raw, expected):
    assert normalize_parcel_id(raw, "orange_fl") == expected


def test_orange_fl_is_not_just_stripping_dashes():
    assert normalize_parcel_id("13-23-32-7600-00-070", "orange_fl") != "132332760000070"


@pytest.mark.parametrize("raw", ["13-23-32", "", None, "AB-23-32-7600-00-070", "3223137600000700", "N/A"])
def test_orange_fl_garbage_is_a_clear_error(raw):
    with pytest.raises(ValueError, match="not an Orange County parcel id"):
        normalize_parcel_id(raw, "orange_fl")


@pytest.mark.parametrize(
    ("raw", "expected"), [(" 41-13-25-300-013 ", "411325300013"), ("r123.45/a", "R12345A"), (12345, "12345")]
)
def test_plain_parcel_ids(raw, expected):
    assert normalize_parcel_id(raw, "plain") == expected


@pytest.mark.parametrize("raw", ["", "   ", "N/A", "0000-000", None])
def test_plain_garbage(raw):
    with pytest.raises(ValueError, match="not a parcel id"):
        normalize_parcel_id(raw, "plain")


def test_unknown_parcel_format():
    with pytest.raises(ValueError, match="unknown parcel format 'texas'"):
        normalize_parcel_id("1", "texas")


def test_address_usps_normal_form_keeps_raw():
    addr = normalize_address("  123   north main street apt 4 ", "orlando ", "fl", "32801-1234")
    assert addr == NormalizedAddress(
        street="123 N MAIN ST",
        unit="APT 4",
        city="ORLANDO",
        state="FL",
        zip="32801",
        normalized="123 N MAIN ST APT 4, ORLANDO, FL 32801",
        raw="123 north main street apt 4, orlando, fl 32801",
        parsed=True,
    )


def test_address_fallback_when_unparseable():
    addr = normalize_address("lot 5   blk c", "Orlando", "FL", 2801)
    assert (addr.street, addr.normalized, addr.parsed) == ("LOT 5 BLK C", "LOT 5 BLK C, ORLANDO, FL 02801", False)


def test_one_line_address():
    addr = normalize_address_line("1550 Woodward Avenue, Detroit, MI 48226")
    assert (addr.normalized, addr.raw) == (
        "1550 WOODWARD AVE, DETROIT, MI 48226",
        "1550 Woodward Avenue, Detroit, MI 48226",
    )


def test_absentee():
    home = normalize_address("123 N Main St", "Orlando", "FL", "32801")
    assert is_absentee(home, normalize_address("123 north main street", "ORLANDO", "FL", "32801")) is False
    assert is_absentee(home, normalize_address("PO Box 77", "Detroit", "MI", "48226")) is True
    assert is_absentee(home, normalize_address("123 N Main St", "Tampa", "FL", "33601")) is True
    assert is_absentee(home, None) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0101", "sfr"),
        ("01", "sfr"),
        ("1", "sfr"),
        ("0400", "condo"),
        ("0800", "multi"),
        ("0200", "mobile"),
        ("0000", "land"),
        ("1100", "commercial"),
        ("9900", "other"),
        ("SINGLE FAMILY", "sfr"),
        ("SINGLE_FAMILY", "sfr"),
        ("Condominium", "condo"),
        ("TOWNHOUSE", "townhouse"),
        ("MANUFACTURED", "mobile"),
        ("Duplex", "multi"),
        ("LOT", "land"),
        ("", "other"),
    ],
)
def test_property_types(value, expected):
    assert property_type_from(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [("FOR_SALE", "active"), ("Active Under Contract", "pending"), ("Sold", "sold"), ("Withdrawn", "off_market")],
)
def test_listing_status(value, expected):
    assert listing_status_from(value) == expected
