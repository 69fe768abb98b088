import pytest

from properties.normalize import (
    NormalizedAddress,
    is_absentee,
    listing_status_from,
    normalize_address,
    normalize_parcel_id,
    normalize_place,
    split_city_state_zip,
    usps_state,
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
def test_plain_parcel_ids_delete_separators(raw, expected):
    assert normalize_parcel_id(raw, "plain") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (" 41-13-25-300-013 ", "41-13-25-300-013"),
        ("41 13 25 300 013", "41-13-25-300-013"),
        ("r123.45/a", "R123-45-A"),
        ("  -0221--052- ", "0221-052"),
        (12345, "12345"),
        ("221-52", "221-52"),
        ("2215-2", "2215-2"),
    ],
)
def test_canonical_parcel_ids_keep_separators_in_one_form(raw, expected):
    assert normalize_parcel_id(raw) == expected  # canonical is the default
    assert normalize_parcel_id(expected) == expected


def test_canonical_keeps_baltimore_block_lots_apart_where_plain_merged_them():
    assert normalize_parcel_id("221-52") != normalize_parcel_id("2215-2")
    assert normalize_parcel_id("221-52", "plain") == normalize_parcel_id("2215-2", "plain") == "22152"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("17-16-100-010-0000", "17161000100000"),
        ("17161000100000", "17161000100000"),
        ("17-16-100-010", "17161000100000"),
    ],
)
def test_cook_il_pins(raw, expected):
    assert normalize_parcel_id(raw, "cook_il") == expected


@pytest.mark.parametrize("raw", ["17-16-100", "1716100010000", "AB-16-100-010-0000"])
def test_cook_il_garbage(raw):
    with pytest.raises(ValueError, match="not a Cook County PIN"):
        normalize_parcel_id(raw, "cook_il")


@pytest.mark.parametrize("fmt", ["plain", "canonical"])
@pytest.mark.parametrize("raw", ["", "   ", "N/A", "0000-000", None, "--"])
def test_plain_garbage(raw, fmt):
    with pytest.raises(ValueError, match="not a parcel id"):
        normalize_parcel_id(raw, fmt)


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
    addr = normalize_address("1550 Woodward Avenue, Detroit, MI 48226")
    assert (addr.normalized, addr.raw) == (
        "1550 WOODWARD AVE, DETROIT, MI 48226",
        "1550 Woodward Avenue, Detroit, MI 48226",
    )


PINE_ISLAND = ("2 BROZDOWSKI LN", "", "PINE ISLAND", "NY", "10969", "2 BROZDOWSKI LN, PINE ISLAND, NY 10969")


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        (("2 BROZDOWSKI LN, PINE ISLAND NY 10969",), PINE_ISLAND),  # the situs as one line
        (("2 BROZDOWSKI LN, PINE ISLAND, NY 10969",), PINE_ISLAND),
        (("2 BROZDOWSKI LN PINE ISLAND NY 10969",), PINE_ISLAND),  # no commas: the parser finds the city
        (("2 BROZDOWSKI LN", "PINE ISLAND NY 10969"), PINE_ISLAND),  # street + a combined CityStateZip
        (("2 Brozdowski Ln", "Pine Island, New York 10969-1234"), PINE_ISLAND),
        (("2 BROZDOWSKI LN", "PINE ISLAND", "NY10969"), PINE_ISLAND),  # state and zip in one column
        (("2 BROZDOWSKI LN", "PINE ISLAND", "NY 10969", "10969"), PINE_ISLAND),
        (
            ("123 Main St, Apt 4, Winston Salem, North Carolina 27101",),
            ("123 MAIN ST", "APT 4", "WINSTON SALEM", "NC", "27101", "123 MAIN ST APT 4, WINSTON SALEM, NC 27101"),
        ),
        (
            ("4660 22 MILE RD NW", "GRANT                    ", "MI49327     "),  # Kent County MI padding
            ("4660 22 MILE RD NW", "", "GRANT", "MI", "49327", "4660 22 MILE RD NW, GRANT, MI 49327"),
        ),
        (("100 MAIN ST NE",), ("100 MAIN ST NE", "", "", "", "", "100 MAIN ST NE")),  # NE is no state here
        (("123 OAK AVE, APT 4",), ("123 OAK AVE, APT 4", "", "", "", "", "123 OAK AVE, APT 4")),
    ],
)
def test_one_parser_reads_one_line_and_combined_situs_like_mailing(parts, expected):
    addr = normalize_address(*parts)
    assert (addr.street, addr.unit, addr.city, addr.state, addr.zip, addr.normalized) == expected


@pytest.mark.parametrize(
    ("street", "expected"),
    [("06214 OSAGE AVE", "6214 OSAGE AVE"), ("0012 1/2 MAIN ST", "12 1/2 MAIN ST"), ("0 MAIN ST", "0 MAIN ST")],
)
def test_zero_padded_house_numbers(street, expected):
    assert normalize_address(street, "SAINT LOUIS", "MO", "63139").street == expected
    assert normalize_address(f"{street}, SAINT LOUIS, MO 63139").street == expected


def test_zero_padded_situs_and_plain_mailing_agree():
    situs = normalize_address("06214 OSAGE AVE", "ST LOUIS", "MO", "63139")
    mailing = normalize_address("6214 Osage Ave, St Louis, Missouri 63139")
    assert situs.normalized == mailing.normalized == "6214 OSAGE AVE, ST LOUIS, MO 63139"
    assert is_absentee(situs, mailing) is False


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("Missouri", "MO"),
        ("MARYLAND", "MD"),
        ("Michigan", "MI"),
        ("mo", "MO"),
        ("Md.", "MD"),
        ("N. Dak.", "ND"),
        ("District of Columbia", "DC"),
        ("Puerto Rico", "PR"),
        ("Calif", "CA"),
        ("Ontario", ""),
        ("MX", ""),
        ("Mississippi River", ""),
        ("", ""),
        (None, ""),
    ],
)
def test_state_names_and_abbreviations_are_usps_codes_never_truncated(value, code):
    assert usps_state(value) == code


def test_full_state_names_in_addresses():
    assert normalize_address("12 Main St", "Baltimore", "Maryland", "21201").state == "MD"
    assert normalize_address("12 Main St", "Columbia", "Missouri", "65201").normalized == (
        "12 MAIN ST, COLUMBIA, MO 65201"
    )
    unknown = normalize_address("12 Main St", "Toronto", "Ontario", "")
    assert (unknown.state, unknown.normalized) == ("", "12 MAIN ST, TORONTO")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("PINE ISLAND NY 10969", ("PINE ISLAND", "NY", "10969")),
        ("Mcgregor, Texas 76657", ("Mcgregor", "TX", "76657")),
        ("BATON ROUGE LA", ("BATON ROUGE", "LA", "")),
        ("ORLANDO 32801", ("ORLANDO", "", "32801")),
        ("ORLANDO", None),
        ("LA", None),
        ("EAST KENT", None),  # "KENT" abbreviates Kentucky only in a state column
    ],
)
def test_split_city_state_zip(text, expected):
    assert split_city_state_zip(text) == expected


def test_place_without_a_street():
    assert normalize_place("pine island ny 10969") == ("PINE ISLAND", "NY", "10969")
    assert normalize_place("Grant", "MI 49327") == ("GRANT", "MI", "49327")
    assert normalize_place("Columbia", "Missouri", 65201) == ("COLUMBIA", "MO", "65201")


def test_absentee():
    home = normalize_address("123 N Main St", "Orlando", "FL", "32801")
    assert is_absentee(home, normalize_address("123 north main street", "ORLANDO", "FL", "32801")) is False
    assert is_absentee(home, normalize_address("PO Box 77", "Detroit", "MI", "48226")) is True
    assert is_absentee(home, normalize_address("123 N Main St", "Tampa", "FL", "33601")) is True
    assert is_absentee(home, None) is False


@pytest.mark.parametrize(
    ("value", "expected"),
    [("FOR_SALE", "active"), ("Active Under Contract", "pending"), ("Sold", "sold"), ("Withdrawn", "off_market")],
)
def test_listing_status(value, expected):
    assert listing_status_from(value) == expected


def test_an_address_in_any_case_is_parsed_once_and_keeps_its_own_raw_text():
    from properties import normalize

    normalize._normalize_address.cache_clear()
    lower = normalize_address("19321 mills avenue", "orlando", "fl", "32809")
    upper = normalize_address("19321 MILLS AVENUE", "ORLANDO", "FL", "32809")
    parsed = ("19321 MILLS AVE", "", "ORLANDO", "FL", "32809", "19321 MILLS AVE, ORLANDO, FL 32809", True)
    assert (lower.street, lower.unit, lower.city, lower.state, lower.zip, lower.normalized, lower.parsed) == parsed
    assert (upper.street, upper.unit, upper.city, upper.state, upper.zip, upper.normalized, upper.parsed) == parsed
    assert (lower.raw, upper.raw) == ("19321 mills avenue, orlando, fl 32809", "19321 MILLS AVENUE, ORLANDO, FL 32809")
    assert normalize._normalize_address.cache_info().misses == 1
