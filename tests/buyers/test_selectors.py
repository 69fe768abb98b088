import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buyers.matching import EARTH_RADIUS_MILES
from buyers.selectors import buyer_candidates, buyer_match_candidates
from tests.buyers.factories import BuyerFactory, area_buyer, lead_at, radius_buyer, square, zip_buyer
from tests.properties.factories import ORLANDO

pytestmark = pytest.mark.django_db


def streets(qs) -> set[str]:
    return set(qs.values_list("street", flat=True))


def test_inside_polygon(places):
    buyer = area_buyer()
    # condo: wrong type, pricey: MAO over the range, dead lead, no lead, inactive property: all left out.
    assert streets(buyer_candidates(buyer=buyer)) == {"1 CENTER ST", "2 EAST ST", "9 LISTED LN"}


def test_within_radius(places):
    assert streets(buyer_candidates(buyer=radius_buyer(ORLANDO, 5))) == {"1 CENTER ST", "2 EAST ST", "9 LISTED LN"}
    assert streets(buyer_candidates(buyer=radius_buyer(ORLANDO, 6))) == {
        "1 CENTER ST",
        "2 EAST ST",
        "3 RING RD",
        "9 LISTED LN",
    }


def test_zip_list(places):
    assert streets(buyer_candidates(buyer=zip_buyer(["32805", "32803"]))) == {"2 EAST ST", "5 ZIP WAY"}


def test_location_criteria_are_ored(places):
    buyer = BuyerFactory(target_area=square(half=0.005), target_zips=["32817"], center=None, radius_miles=None)
    assert streets(buyer_candidates(buyer=buyer)) == {"1 CENTER ST", "4 FAR AVE"}


def test_buyer_without_location_gets_nothing(places):
    buyer = BuyerFactory(target_area=None, target_zips=[], center=None, radius_miles=None)
    with CaptureQueriesContext(connection) as ctx:
        assert list(buyer_candidates(buyer=buyer)) == []
    assert len(ctx.captured_queries) == 0


def test_filters_price_type_beds_year(places):
    # Wide open box except beds/year: center..listed are 3 beds, built 1985.
    open_box = {"min_price": None, "max_price": None, "property_types": []}
    assert streets(buyer_candidates(buyer=area_buyer(**open_box))) == {
        "1 CENTER ST",
        "2 EAST ST",
        "6 CONDO CT",
        "7 PRICEY PL",
        "9 LISTED LN",
    }
    assert streets(buyer_candidates(buyer=area_buyer(**open_box, min_beds=4))) == set()
    assert streets(buyer_candidates(buyer=area_buyer(**open_box, min_year_built=1990))) == set()
    # The listed lead has no MAO: its active list price (189,000) is the price compared (MAOs are 135,000).
    priced = area_buyer(**{**open_box, "min_price": 160000, "max_price": 200000})
    assert streets(buyer_candidates(buyer=priced)) == {"9 LISTED LN"}


def test_one_query_per_buyer(places):
    buyers = [area_buyer(), radius_buyer(ORLANDO, 5), zip_buyer(["32805"])]
    for buyer in buyers:
        with CaptureQueriesContext(connection) as ctx:
            buyer_match_candidates(buyer=buyer)
        assert len(ctx.captured_queries) == 1


def test_candidates_carry_area_flag_and_distance(places):
    buyer = BuyerFactory(target_area=square(half=0.005), target_zips=["32803"], center=None, radius_miles=None)
    by_id = {c.property_id: c for c in buyer_match_candidates(buyer=buyer)}
    assert by_id[places.center.property_id].in_area is True
    assert by_id[places.east.property_id].in_area is False
    radius = radius_buyer(ORLANDO, 5)
    distances = {c.property_id: round(c.distance_miles, 2) for c in buyer_match_candidates(buyer=radius)}
    assert distances == {places.center.property_id: 0.0, places.east.property_id: 1.95, places.listed.property_id: 1.84}


def test_radius_edge_is_the_same_on_every_backend(db):
    x, y = ORLANDO
    deg_lat = 180 / 3.141592653589793 / EARTH_RADIUS_MILES  # degrees of latitude per mile
    deg_lon = deg_lat / 0.8785  # at Orlando's latitude
    lead_at(x, y + 4.98 * deg_lat, property={"street": "NORTH 4.98"})
    lead_at(x, y + 5.02 * deg_lat, property={"street": "NORTH 5.02"})  # inside the index box, outside the circle
    lead_at(x + 4.98 * deg_lon, y, property={"street": "EAST 4.98"})
    lead_at(x - 5.02 * deg_lon, y, property={"street": "WEST 5.02"})
    assert streets(buyer_candidates(buyer=radius_buyer(ORLANDO, 5))) == {"NORTH 4.98", "EAST 4.98"}
