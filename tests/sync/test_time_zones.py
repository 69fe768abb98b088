"""Where a contact is in time zones: ZIP, prefix, state, area code, and the strictest reading when unsure."""

import json

import pytest

from sync.time_zones import TABLE, Location, locate

NY, CHI, DEN, PHX, LA = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
)


@pytest.mark.parametrize(
    ("zip_code", "zones", "state"),
    [
        ("32801", (NY,), "FL"),  # Orlando
        ("32401", (CHI,), "FL"),  # Panama City, panhandle
        ("32501", (CHI,), "FL"),  # Pensacola
        ("32456", (NY,), "FL"),  # Port St. Joe: Gulf County's Eastern half
        ("32465", (CHI,), "FL"),  # Wewahitchka: Gulf County's Central half
        ("79901", (DEN,), "TX"),  # El Paso
        ("75201", (CHI,), "TX"),  # Dallas
        ("46204", (NY,), "IN"),  # Indianapolis
        ("46360", (CHI,), "IN"),  # Michigan City (LaPorte County, Central)
        ("47630", (CHI,), "IN"),  # Newburgh (Warrick County, Central)
        ("42001", (CHI,), "KY"),  # Paducah
        ("40601", (NY,), "KY"),  # Frankfort
        ("37201", (CHI,), "TN"),  # Nashville
        ("37902", (NY,), "TN"),  # Knoxville
        ("58601", (DEN,), "ND"),  # Dickinson
        ("58501", (CHI,), "ND"),  # Bismarck
        ("57701", (DEN,), "SD"),  # Rapid City
        ("57501", (CHI,), "SD"),  # Pierre
        ("69341", (DEN,), "NE"),  # Gering
        ("68102", (CHI,), "NE"),  # Omaha
        ("67735", (DEN,), "KS"),  # Goodland
        ("66101", (CHI,), "KS"),  # Kansas City
        ("97201", (LA,), "OR"),  # Portland
        ("83501", (LA,), "ID"),  # Lewiston, northern Idaho
        ("83702", (DEN,), "ID"),  # Boise
        ("85004", (PHX,), "AZ"),  # Phoenix: no daylight time
        ("86515", (DEN,), "AZ"),  # Window Rock: the Navajo Nation keeps daylight time
        ("96813", ("Pacific/Honolulu",), "HI"),
        ("00901", ("America/Puerto_Rico",), "PR"),
    ],
)
def test_a_known_zip_gives_its_own_zone(zip_code, zones, state):
    assert locate(zip_code=zip_code) == Location(zones=zones, states=(state,), exact=True)


def test_zip_plus_four_and_a_state_that_agrees():
    assert locate(zip_code="32801-1234", state="fl") == Location(zones=(NY,), states=("FL",), exact=True)


@pytest.mark.parametrize(("zip_code", "zones"), [("36867", (NY, CHI)), ("86001", (PHX,)), ("37405", (NY, CHI))])
def test_border_zips_where_the_sources_disagree_keep_both(zip_code, zones):
    where = locate(zip_code=zip_code)
    assert (where.zones, where.exact) == (zones, len(zones) == 1)


def test_an_unknown_zip_in_a_split_prefix_takes_every_zone_of_the_prefix():
    table = json.loads(TABLE.read_text())
    unknown = next(f"324{n:02d}" for n in range(100) if f"324{n:02d}" not in table["zip"])
    where = locate(zip_code=unknown)
    assert where == Location(
        zones=(NY, CHI),
        states=("FL",),
        exact=False,
        notes=(
            f"ZIP {unknown} is not in the table and ZIPs starting 324 span several time zones: "
            "the strictest of America/New_York, America/Chicago",
        ),
    )


@pytest.mark.parametrize(
    ("state", "zones"),
    [
        ("FL", (NY, CHI)),
        ("TX", (CHI, DEN)),
        ("IN", (NY, CHI)),
        ("KY", (NY, CHI)),
        ("TN", (NY, CHI)),
        ("ND", (CHI, DEN)),
        ("SD", (CHI, DEN)),
        ("NE", (CHI, DEN)),
        ("KS", (CHI, DEN)),
        ("OR", (LA, DEN)),
        ("ID", (LA, DEN)),
        ("GA", (NY,)),
        ("CA", (LA,)),
    ],
)
def test_a_state_alone_gives_every_zone_of_the_state(state, zones):
    where = locate(state=state)
    assert (set(where.zones), where.states, where.exact) == (set(zones), (state,), len(zones) == 1)
    assert where.notes[0].startswith(f"time zone from the state {state} (no usable ZIP)")


def test_a_zip_in_another_state_applies_both():
    where = locate(state="FL", zip_code="30301")  # Atlanta
    assert (where.states, set(where.zones), where.exact) == (("FL", "GA"), {NY, CHI}, False)
    assert where.notes == ("ZIP 30301 is in GA, not FL: the rules of both apply",)


def test_the_area_code_adds_its_zones_and_state():
    where = locate(zip_code="30301", phone="+1 (850) 555-0100")  # a Georgia address, a Florida panhandle phone
    assert (where.zones, where.states, where.exact) == ((NY, CHI), ("GA", "FL"), False)
    assert where.notes == (
        "the phone's area code 850 is also used in FL (America/New_York, America/Chicago): those count too",
    )


def test_an_area_code_that_agrees_adds_nothing():
    assert locate(zip_code="32801", phone="407-555-0100") == Location(zones=(NY,), states=("FL",), exact=True)


@pytest.mark.parametrize("phone", ["+44 20 7946 0958", "555-0100", "1-800-555-0100", ""])
def test_foreign_short_and_toll_free_numbers_are_ignored(phone):
    assert locate(zip_code="32801", phone=phone) == Location(zones=(NY,), states=("FL",), exact=True)


def test_the_area_code_alone_is_enough():
    where = locate(phone="+12125550100")
    assert (where.zones, where.states) == ((NY,), ("NY",))


def test_ghl_time_zone_only_when_nothing_else_is_known():
    assert locate(time_zone="America/Denver").zones == (DEN,)
    assert locate(zip_code="32801", time_zone="Asia/Calcutta").zones == (NY,)


@pytest.mark.parametrize(
    ("kwargs", "note"),
    [
        ({"time_zone": "Mars/Base"}, "time zone 'Mars/Base' is not an IANA time zone"),
        ({"state": "ZZ"}, "state 'ZZ' is not a US state or territory code"),
        ({"zip_code": "1234"}, "ZIP '1234' is not a 5-digit US ZIP"),
        ({"zip_code": "00000"}, "ZIP 00000 is not a known US ZIP"),
    ],
)
def test_bad_input_is_unknown_and_says_why(kwargs, note):
    assert locate(**kwargs) == Location(zones=(), states=(), exact=False, notes=(note,))


def test_nothing_known():
    assert locate() == Location(zones=(), states=(), exact=False)
