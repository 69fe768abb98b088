"""Matching never crashes on a buy box's shape, on either database (issue 16, item 12).

Buyers pulled from GoHighLevel usually have no area, zips or radius: such a buyer matches nothing, the run
says so and goes on with the others.
"""

from decimal import Decimal

import pytest
from django.contrib.gis.geos import Point
from django.core.management import call_command

from buyers.models import PropertyMatch
from buyers.services import matches_refresh_all
from tests.factories import ORLANDO, BuyerFactory
from tests.scenes import area_buyer

pytestmark = pytest.mark.django_db

NOWHERE = {"target_area": None, "target_zips": [], "center": None, "radius_miles": None}

# Buy-box shapes a broker, an import or a GoHighLevel pull can leave behind, and what each matches in `places`.
SHAPES = {
    "pulled from GoHighLevel: contact fields only": (
        {**NOWHERE, "min_price": None, "max_price": None, "property_types": [], "min_beds": None},
        set(),
    ),
    "nothing but a price band": ({**NOWHERE, "min_price": 1, "max_price": 10**9}, set()),
    "a center without a radius": ({**NOWHERE, "center": Point(*ORLANDO, srid=4326)}, set()),
    "a radius without a center": ({**NOWHERE, "radius_miles": Decimal(5)}, set()),
    "zips only, no price, no types": (
        {**NOWHERE, "target_zips": ["32805"], "min_price": None, "max_price": None, "property_types": []},
        {"5 ZIP WAY"},
    ),
    "a type GoHighLevel spells its own way": (
        {**NOWHERE, "target_zips": ["32801"], "property_types": ["single family"]},
        set(),
    ),
    "only a minimum price, every type": (
        {**NOWHERE, "target_zips": ["32801"], "max_price": None, "property_types": [], "min_beds": None},
        {"1 CENTER ST", "6 CONDO CT", "7 PRICEY PL", "9 LISTED LN"},
    ),
    "every criterion open, one zip": (
        {
            **NOWHERE,
            "target_zips": ["32803"],
            "min_price": None,
            "max_price": None,
            "property_types": [],
            "min_beds": None,
            "min_baths": None,
            "cash_buyer": False,
            "proof_of_funds": False,
        },
        {"2 EAST ST"},
    ),
}


def matched_streets(buyer) -> set[str]:
    return set(PropertyMatch.objects.filter(buyer=buyer).values_list("property__street", flat=True))


@pytest.mark.parametrize("shape", list(SHAPES))
def test_every_buy_box_shape_matches_without_crashing(places, shape):
    fields, expected = SHAPES[shape]
    odd = BuyerFactory(**fields)
    usual = area_buyer()

    summary = matches_refresh_all()

    assert matched_streets(odd) == expected
    assert matched_streets(usual) == {"1 CENTER ST", "2 EAST ST", "9 LISTED LN"}  # the run went on
    nowhere = fields["target_zips"] == [] and (fields["center"] is None or fields["radius_miles"] is None)
    assert summary.without_location == (1 if nowhere else 0)


def test_a_buyer_without_area_zips_or_radius_matches_nothing_and_the_command_says_so(places, capsys):
    BuyerFactory(first_name="Gina", last_name="Pulled", **NOWHERE)
    area_buyer()

    call_command("match")

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "Matched: buyers 2, candidates 3, kept 3, created 3, updated 0, removed 0, unchanged 0, without location 1",
        "1 active buyer has no target area, zips or centre + radius and matches nothing: Gina Pulled",
    ]


def test_a_buyer_that_loses_its_location_loses_its_matches(places):
    buyer = area_buyer()
    matches_refresh_all()
    assert matched_streets(buyer) == {"1 CENTER ST", "2 EAST ST", "9 LISTED LN"}
    buyer.target_area = None
    buyer.save()

    summary = matches_refresh_all()

    assert (summary.removed, summary.without_location, matched_streets(buyer)) == (3, 1, set())
