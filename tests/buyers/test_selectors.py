import itertools
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from buyers.matching import EARTH_RADIUS_MILES, BuyBox, MatchCandidate, MatchWeights, score_match
from buyers.matching_sql import CANDIDATE_ROW_FIELDS, match_score_sql, ranked_candidate_statements
from buyers.selectors import buyer_candidates, buyer_match_candidates
from tests.factories import ORLANDO, BuyerFactory, square
from tests.scenes import area_buyer, lead_at, radius_buyer, zip_buyer

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


def on_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the set-based candidate query is PostgreSQL's")


WEIGHTS = [
    MatchWeights(),
    MatchWeights(location=60, price=31, type=15, cash=10, proof_of_funds=10),  # over 100: capped; odd half price
    MatchWeights(location=30, price=20, type=10, cash=0, proof_of_funds=5, threshold=50),
]
PRICES = [None, Decimal("45000"), Decimal("47500"), Decimal("50000"), Decimal("135000"), Decimal("300000"),
          Decimal("315000"), Decimal("330000.50")]  # fmt: skip
RANGES = [(None, None), (Decimal("50000"), None), (None, Decimal("300000")), (Decimal("50000"), Decimal("300000"))]


@pytest.mark.parametrize("weights", WEIGHTS)
def test_sql_score_agrees_with_score_match(db, weights):
    on_postgresql()
    cases = []
    for (low, high), price, cash, pof in itertools.product(RANGES, PRICES, (True, False), (True, False)):
        box = BuyBox(min_price=low, max_price=high, has_area=True, cash_buyer=cash, proof_of_funds=pof)
        cand = MatchCandidate(1, "32801", "sfr", 3, Decimal("2"), 1985, price, None, None, in_area=True)
        result = score_match(cand, box, weights)
        if result.score:  # the SQL scores only candidates that passed the hard filters
            cases.append(((low, high, cash, pof, price), result.score))
    assert len(cases) == 120  # of 128: the 8 price misses are filtered out before scoring
    sql, params = match_score_sql(weights)
    values = ", ".join(["(%s::numeric, %s::numeric, %s::boolean, %s::boolean, %s::numeric)"] * len(cases))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {sql} FROM (VALUES {values}) AS t(min_price, max_price, cash_buyer, proof_of_funds, price)",  # noqa: S608
            [*params, *[v for case, _ in cases for v in case]],
        )
        assert [row[0] for row in cursor.fetchall()] == [score for _, score in cases]


def test_sql_candidates_are_the_selectors(places):
    on_postgresql()
    buyers = [
        area_buyer(),
        radius_buyer(ORLANDO, 6),
        zip_buyer(["32805", "32803"]),
        BuyerFactory(target_area=square(half=0.005), target_zips=["32817"], center=None, radius_miles=None),
        BuyerFactory(),  # area, zips and radius at once: each pair once
        area_buyer(min_price=None, max_price=None, property_types=[], min_beds=None),
        area_buyer(min_price=160000, max_price=200000, property_types=[]),
    ]
    with connection.cursor() as cursor:
        for sql, params in ranked_candidate_statements(
            weights=MatchWeights(max_matches_per_buyer=None), buyer_ids=None
        ):
            cursor.execute(sql, params)
        rows = cursor.fetchall()
    buyer_at, property_at = CANDIDATE_ROW_FIELDS.index("buyer_id"), CANDIDATE_ROW_FIELDS.index("id")
    by_sql = {(row[buyer_at], row[property_at]) for row in rows}
    by_orm = {(b.pk, pid) for b in buyers for pid in buyer_candidates(buyer=b).values_list("id", flat=True)}
    assert by_sql == by_orm
    assert len(rows) == len(by_sql) == 22
