"""The address fast path gives exactly scourgify's record whenever it answers (and it answers the common shapes).

`_fast_record` reads "123 [N] OAK GROVE ST [N] [APT 4]" without scourgify's CRF parser; any address it is not sure
of it leaves to scourgify (None). Every case here compares the two on the same input.
"""

import csv
import json
import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scourgify import normalize_address_record
from scourgify.exceptions import AddressNormalizationError

from properties.normalize import _clean, _fast_record, _scourgify_record, _zip5, normalize_address

SAMPLE = Path(__file__).resolve().parents[2] / "properties" / "sample_data"
CHECK = settings(max_examples=600, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])

NAME_WORDS = ["KALEY", "COLONIAL", "MICHIGAN", "ORANGE", "BLOSSOM", "CONWAY", "SEMORAN", "PINE", "HILLS", "LAKE",
              "UNDERHILL", "OAK", "RIDGE", "CURRY", "FORD", "MAIN", "WASHINGTON", "MARTIN", "LUTHER", "KING",
              "PARK", "CENTER", "MILL", "GROVE", "SAINT", "CHURCH", "MAGNOLIA", "ELM", "VISTA", "DEL", "LA", "EL",
              "VIA", "MAR", "FLORIDA", "VIRGINIA", "ALA", "CALIF", "WOODWARD", "BRICKELL", "CT", "APT", "UNIT", "BOX",
              "PO", "FL", "NORTH", "WEST", "A", "Main", "oak", "X", "ST", "AVE", "RD", "DR"]  # fmt: skip
SUFFIXES = ["ST", "STREET", "AVE", "AVENUE", "AV", "DR", "DRIVE", "BLVD", "RD", "ROAD", "CT", "COURT", "LN", "LANE",
            "WAY", "PL", "PLACE", "CIR", "TER", "TRL", "PKWY", "HWY", "LOOP", "RUN", "PATH", "PARK", "CV", "street",
            "avenue", "Ct", "XYZ", "US RTE"]  # fmt: skip
DIRECTIONS = ["", "", "", "N", "S", "E", "W", "NE", "SW", "NORTH", "s", "NORTH-WEST"]
UNITS = ["", "", "", "UNIT", "APT", "APARTMENT", "STE", "SUITE", "#", "LOT", "BLDG", "unit"]
UNIT_IDS = ["101", "4", "4B", "B", "12A", "0", "ONE", "#2", "1-2"]
CITIES = ["ORLANDO", "Orlando", "WINTER PARK", "NEW YORK", "St Cloud", "SAINT CLOUD", "MT DORA", "O'FALLON", ""]
STATES = ["FL", "fl", "Florida", "CT", "ct", "NY", "MI", "XX", "N Y", ""]
ZIPS = ["32801", "06103", "3280", "", "32801-1234", "328011234", "ABCDE"]


def _scourgify(street, city, state, zip5):
    try:
        return dict(_scourgify_record(street, city, state, zip5))
    except (AddressNormalizationError, TypeError, ValueError, KeyError):
        return "error"


def assert_same(street, city="ORLANDO", state="FL", zip="32801"):
    street, city, state, zip5 = _clean(street), _clean(city), _clean(state), _zip5(zip)
    fast = _fast_record(street, city, state, zip5)
    if fast is not None:
        assert fast == _scourgify(street, city, state, zip5), (street, city, state, zip5)
    return fast is not None


street_words = st.lists(st.sampled_from(NAME_WORDS), min_size=1, max_size=4)
random_words = st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=10), min_size=1, max_size=3)


@st.composite
def addresses(draw):
    number = draw(st.one_of(st.integers(1, 199999).map(str), st.sampled_from(["0", "012", "12-14", "1/2", "A1"])))
    name = draw(st.one_of(street_words, random_words))
    unit_type = draw(st.sampled_from(UNITS))
    unit = f" {unit_type} {draw(st.sampled_from(UNIT_IDS))}" if unit_type else ""
    parts = (number, draw(st.sampled_from(DIRECTIONS)), *name, draw(st.sampled_from(SUFFIXES)),
             draw(st.sampled_from(DIRECTIONS)))  # fmt: skip
    return " ".join(p for p in parts if p) + unit


@st.composite
def common_shapes(draw):
    """The shape the fast path answers, with made-up street names (the parser sees unknown words then)."""
    name = draw(st.one_of(st.lists(st.sampled_from(NAME_WORDS), min_size=1, max_size=2), random_words))
    unit_type = draw(st.sampled_from(["", "", "UNIT", "APT", "STE", "unit"]))
    unit = f" {unit_type} {draw(st.sampled_from(UNIT_IDS))}" if unit_type else ""
    parts = (str(draw(st.integers(1, 99999))), draw(st.sampled_from(DIRECTIONS)), *name,
             draw(st.sampled_from(SUFFIXES)))  # fmt: skip
    return " ".join(p for p in parts if p) + unit


@CHECK
@given(street=common_shapes(), city=st.sampled_from(CITIES[:4]), state=st.sampled_from(STATES[:4]))
def test_fast_path_equals_scourgify_on_common_shapes(street, city, state):
    assert_same(street, city, state, "32801")


@CHECK
@given(street=addresses(), city=st.sampled_from(CITIES), state=st.sampled_from(STATES), zip=st.sampled_from(ZIPS))
def test_fast_path_equals_scourgify_on_generated_addresses(street, city, state, zip):
    assert_same(street, city, state, zip)


def test_fast_path_equals_scourgify_on_the_sample_data_and_answers_most_of_it():
    parcels = json.loads((SAMPLE / "parcels.json").read_text())["features"]
    cases = []
    for f in parcels:
        a = f["attributes"]
        cases.append((a.get("SITUS") or "", a.get("SITUS_CITY") or "", "FL", a.get("SITUS_ZIP") or ""))
        stzip = a.get("MAIL_STZIP") or ""
        cases.append((a.get("MAIL_ADDR1") or "", a.get("MAIL_CITY") or "", stzip[:2], stzip[2:]))
    with (SAMPLE / "listings_zillow.csv").open() as fh:
        cases += [(r["streetAddress"], r["city"], r["state"], r["zipcode"]) for r in csv.DictReader(fh)]
    with (SAMPLE / "code_violations.csv").open() as fh:
        cases += [(r["address"], "ORLANDO", "FL", "32801") for r in csv.DictReader(fh)]
    answered = sum(assert_same(*case) for case in cases)
    assert answered > len(cases) * 0.6


def test_fast_path_equals_scourgify_on_benchmark_county_addresses():
    from dealfinder.ops.benchmark.county import AWAY, STREETS, SUFFIXES

    rng = random.Random(7)
    for _ in range(400):
        street = f"{rng.randint(100, 19899)} {rng.choice(['', 'N ', 'S ', 'E ', 'W '])}{rng.choice(STREETS)} "
        street += rng.choice(SUFFIXES) + (f" UNIT {rng.randint(101, 420)}" if rng.random() < 0.2 else "")
        assert_same(street if rng.random() < 0.8 else f"  {street.lower()}   ", "ORLANDO", "FL", "32801")
    for street, city, stzip in AWAY:
        assert_same(street, city, stzip[:2], stzip[2:])


@pytest.mark.parametrize(
    ("street", "line1", "unit"),
    [
        ("123 n kaley street", "123 N KALEY ST", ""),
        ("123 KALEY DRIVE", "123 KALEY DR", ""),
        ("123 KALEY CT", "123 KALEY CT", ""),
        ("9 E WASHINGTON ST", "9 E WASHINGTON ST", ""),
        ("123 W KALEY COURT", "123 W KALEY CT", ""),
        ("12 NW MAIN ST APT 4B", "12 NW MAIN ST", "APT 4B"),
        ("456 s colonial avenue ste 200", "456 S COLONIAL AVE", "STE 200"),
    ],
)
def test_fast_path_answers_the_common_shapes(street, line1, unit):
    assert assert_same(street)
    result = normalize_address(street, "ORLANDO", "FL", "32801")
    assert (result.street, result.unit, result.parsed) == (line1, unit, True)


@pytest.mark.parametrize(
    "street",
    ["PO BOX 9821", "88 LAKE SHORE DR", "123 MAIN", "123 5TH AVE", "1/2 MAIN ST", "12 MAIN ST NE"],
)
def test_fast_path_leaves_other_shapes_to_scourgify(street):
    assert _fast_record(street, "ORLANDO", "FL", "32801") is None


def test_fast_path_leaves_ct_in_connecticut_to_scourgify():
    assert _fast_record("123 KALEY CT", "HARTFORD", "CT", "06103") is None
    assert assert_same("123 KALEY CT", "HARTFORD", "CT", "06103") is False


def _scourgify_line(line):
    try:
        rec = normalize_address_record(line)
    except (AddressNormalizationError, TypeError, ValueError, KeyError):
        return None
    street = " ".join(p for p in (rec["address_line_1"], rec["address_line_2"]) if p)
    return normalize_address(street, rec["city"] or "", rec["state"] or "", rec["postal_code"] or "")


@st.composite
def situs_streets(draw):
    """Streets as counties write them: a number, maybe a direction, one or two name words, a type, maybe a unit."""
    words = [
        "KALEY",
        "COLONIAL",
        "OAK",
        "RIDGE",
        "MAGNOLIA",
        "BROZDOWSKI",
        "OSAGE",
        "GLENWOOD",
        "LINDELL",
        "WABASH",
        "Elm",
    ]
    name = draw(st.lists(st.sampled_from(words), min_size=1, max_size=2))
    unit = draw(st.sampled_from(["", "", "", " UNIT 4", " APT 12B", " STE 200"]))
    parts = (str(draw(st.integers(1, 99999))), draw(st.sampled_from(["", "", "N", "S", "W", "E"])), *name,
             draw(st.sampled_from(["ST", "AVE", "RD", "LN", "DR", "BLVD", "Street", "CT", "WAY"])))  # fmt: skip
    return " ".join(p for p in parts if p) + unit


@CHECK
@given(
    street=situs_streets(),
    city=st.sampled_from(["ORLANDO", "Winter Park", "PINE ISLAND", "SAINT CLOUD", "MOUNT DORA"]),
    state=st.sampled_from(["FL", "NY", "Florida", "New York", "fl"]),
    zip=st.sampled_from(["32801", "10969", "32801-1234"]),
    comma=st.booleans(),
)
def test_a_line_split_at_its_commas_reads_as_scourgify_reads_the_whole_line(street, city, state, zip, comma):
    """One-line situs ("2 BROZDOWSKI LN, PINE ISLAND NY 10969") is split at its commas, then read in parts (fast
    path or parser); scourgify's parser on the whole line gives the same address."""
    line = f"{street}, {city}{',' if comma else ''} {state} {zip}"
    theirs = _scourgify_line(line)
    if theirs is not None and theirs.parsed:
        ours = normalize_address(line)
        assert (ours.street, ours.unit, ours.city, ours.state, ours.zip) == (
            theirs.street,
            theirs.unit,
            theirs.city,
            theirs.state,
            theirs.zip,
        ), line
