"""Land-use vocabularies belong to the source: a code means what its county says, words are read everywhere."""

import pytest

from properties.landuse import property_type_from, vocabulary_errors


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0101", "sfr"),
        ("01", "sfr"),
        ("1", "sfr"),
        (101.0, "sfr"),
        ("0400", "condo"),
        ("0800", "multi"),
        ("0200", "mobile"),
        ("0000", "land"),
        ("1100", "commercial"),
        ("4100", "commercial"),
        ("5100", "other"),  # agricultural: known, no property type of ours
        ("9900", "other"),
        ("0100 - SINGLE FAMILY", "sfr"),
    ],
)
def test_florida_dor_codes_when_the_source_says_so(value, expected):
    assert property_type_from(value, "fl_dor") == expected


@pytest.mark.parametrize(
    ("value", "vocabulary", "expected"),
    [
        ("200", None, None),  # an agricultural "200" elsewhere is not a Florida mobile home
        ("200", "words", None),
        ("510 - SINGLE FAMILY", None, "sfr"),  # Ohio: words, not DOR class 05 (condo)
        ("520 - TWO FAMILY DWELLING", None, "multi"),
        ("550 - CONDOMINIUM", None, "condo"),
        ("560 - HOUSE TRAILER", None, "mobile"),
        ("500 - RESIDENTIAL VACANT LAND", None, "land"),
        ("510 - ONE-FAMILY DWLG ON PLATTED LOT", None, "sfr"),  # Franklin County OH: a lot is weaker than a house
        ("520 - TWO-FAMILY DWLG ON PLATTED LOT", None, "multi"),
        ("2-11", None, None),  # Cook: without its vocabulary a code is unknown
        ("2-11", "cook_il", "multi"),  # an apartment building, not a mobile home
        ("211", "cook_il", "multi"),
        ("2-95", "cook_il", "townhouse"),
        ("2-99", "cook_il", "condo"),
        ("2-03", "cook_il", "sfr"),
        ("3-18", "cook_il", "multi"),
        ("5-17", "cook_il", "commercial"),
        ("EX", "cook_il", "other"),
        ("2-17", "cook_il", None),  # a class Cook does not have
        ("2-17 ONE STORY RESIDENCE", "cook_il", "sfr"),  # words beat an unknown code
        ("9999 SINGLE FAMILY", {"0100": "sfr"}, "sfr"),
        ("R1", {"R1": "sfr", "R2": "multi"}, "sfr"),
        ("r2 - duplex", {"R1": "sfr", "R2": "multi"}, "multi"),
        ("5-10", {"5": "commercial", "5-10": "sfr"}, "sfr"),  # the longest key wins
        ("5-20", {"5": "commercial", "5-10": "sfr"}, "commercial"),
        ("510", {"5-10": "sfr"}, "sfr"),  # separators do not matter in codes
    ],
)
def test_codes_read_through_the_sources_vocabulary(value, vocabulary, expected):
    assert property_type_from(value, vocabulary) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("SINGLE FAMILY", "sfr"),
        ("SINGLE_FAMILY", "sfr"),
        ("Single Family Residence", "sfr"),
        ("Condominium", "condo"),
        ("CONDOS", "condo"),
        ("TOWNHOUSE", "townhouse"),
        ("TOWNHOMES", "townhouse"),
        ("MANUFACTURED", "mobile"),
        ("Mobile Home", "mobile"),
        ("Duplex", "multi"),
        ("MULTI_FAMILY", "multi"),
        ("LOT", "land"),
        ("PARKING LOT", "commercial"),
        ("Unimproved Land", "land"),
        ("WAREHOUSE", "commercial"),  # not a house
        ("AGRICULTURAL", "other"),
        ("", None),
        ("GLORP", None),
    ],
)
def test_words(value, expected):
    assert property_type_from(value) == expected


@pytest.mark.parametrize(
    ("vocabulary", "message"),
    [
        ("fl_dor", None),
        ({"510": "sfr"}, None),
        ("ohio", "unknown vocabulary 'ohio'; use one of words, fl_dor, cook_il or a table of codes"),
        ({"510": "house"}, "unknown property types 'house'; allowed: sfr, multi"),
        ({}, "a vocabulary is a name or a non-empty table"),
        (["510"], "a vocabulary is a name or a non-empty table"),
    ],
)
def test_vocabulary_errors(vocabulary, message):
    error = vocabulary_errors(vocabulary)
    assert error == message if message is None else error.startswith(message)
