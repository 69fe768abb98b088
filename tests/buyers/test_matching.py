"""The matcher's rules, without a database."""

from decimal import Decimal

import pytest

from buyers.matching import (
    BuyBox,
    MatchCandidate,
    MatchResult,
    MatchWeights,
    best_matches,
    haversine_miles,
    score_match,
)

W = MatchWeights()


def candidate(**overrides) -> MatchCandidate:
    values = {
        "property_id": 1,
        "zip": "32801",
        "property_type": "sfr",
        "beds": 3,
        "baths": Decimal("2"),
        "year_built": 1985,
        "mao": Decimal("135000"),
        "list_price": Decimal("199000"),
        "arv": Decimal("250000"),
        "in_area": True,
        "distance_miles": None,
    }
    return MatchCandidate(**{**values, **overrides})


def box(**overrides) -> BuyBox:
    values = {
        "min_price": Decimal("50000"),
        "max_price": Decimal("300000"),
        "property_types": ("sfr", "townhouse"),
        "has_area": True,
        "cash_buyer": True,
        "proof_of_funds": True,
    }
    return BuyBox(**{**values, **overrides})


def test_full_match_has_every_reason():
    assert score_match(candidate(), box(), W) == MatchResult(
        score=100,
        reasons=[
            "Inside the buyer's target area (+40)",
            "MAO $135,000 within $50,000-$300,000 (+25)",
            "Property type sfr wanted (+15)",
            "Cash buyer (+10)",
            "Proof of funds on file (+10)",
        ],
        keep=True,
    )


def test_defaults_are_the_design_weights():
    assert (W.location, W.price, W.type, W.cash, W.proof_of_funds, W.threshold) == (40, 25, 15, 10, 10, 70)


def test_location_by_zip_when_not_in_area():
    result = score_match(candidate(in_area=False), box(zips=("32801",)), W)
    assert result.reasons[0] == "In target zip 32801 (+40)"
    assert result.score == 100


def test_location_by_radius():
    result = score_match(
        candidate(in_area=False, distance_miles=2.34),
        box(has_area=False, center=(-81.38, 28.54), radius_miles=5.0),
        W,
    )
    assert result.reasons[0] == "2.3 mi from the buyer's center, within 5 mi (+40)"
    assert result.score == 100


@pytest.mark.parametrize(
    ("cand", "bx", "reason"),
    [
        (candidate(in_area=False), box(), "Outside the buyer's target area, zips and radius"),
        (
            candidate(in_area=False, distance_miles=5.01),
            box(has_area=False, center=(-81.38, 28.54), radius_miles=5.0),
            "Outside the buyer's target area, zips and radius",
        ),
        (
            candidate(zip="32805", in_area=False),
            box(has_area=False, zips=("32801",)),
            "Outside the buyer's target area, zips and radius",
        ),
        (candidate(), box(has_area=False), "The buy box has no target area, zips or radius"),
        (candidate(property_type="condo"), box(), "Property type condo not in sfr, townhouse"),
        (candidate(beds=2), box(min_beds=3), "2 beds, the buyer wants 3+"),
        (candidate(baths=Decimal("1.5")), box(min_baths=Decimal("2")), "1.5 baths, the buyer wants 2+"),
        (candidate(year_built=1950), box(min_year_built=1960), "Built 1950, before 1960"),
        (candidate(year_built=2010), box(max_year_built=2000), "Built 2010, after 2000"),
        (candidate(mao=Decimal("340000")), box(), "MAO $340,000 outside $50,000-$300,000"),
        (candidate(mao=Decimal("44000")), box(), "MAO $44,000 outside $50,000-$300,000"),
    ],
)
def test_hard_filters_score_zero(cand, bx, reason):
    assert score_match(cand, bx, W) == MatchResult(score=0, reasons=[reason], keep=False)


def test_unknown_beds_baths_year_pass():
    result = score_match(
        candidate(beds=None, baths=None, year_built=None),
        box(min_beds=3, min_baths=Decimal("2"), min_year_built=1960, max_year_built=2000),
        W,
    )
    assert result.score == 100


def test_price_basis_falls_back_to_list_price_then_arv():
    assert score_match(candidate(mao=None), box(), W).reasons[1] == "List price $199,000 within $50,000-$300,000 (+25)"
    assert (
        score_match(candidate(mao=None, list_price=None), box(), W).reasons[1]
        == "ARV $250,000 within $50,000-$300,000 (+25)"
    )
    assert candidate(mao=None, list_price=None).price == Decimal("250000")


def test_price_within_tolerance_earns_half():
    result = score_match(candidate(mao=Decimal("315000")), box(), W)
    assert result.reasons[1] == "MAO $315,000 is 5% over $50,000-$300,000 (+12)"
    assert result.score == 87
    under = score_match(candidate(mao=Decimal("47500")), box(min_price=Decimal("50000"), max_price=None), W)
    assert under.reasons[1] == "MAO $47,500 is 5% under $50,000 or more (+12)"


def test_unknown_price_earns_nothing_but_is_no_miss():
    result = score_match(candidate(mao=None, list_price=None, arv=None), box(max_price=Decimal("300000")), W)
    assert result.reasons[1] == "No MAO, list price or ARV to compare with $50,000-$300,000 (+0)"
    assert result.score == 75
    assert result.keep is True


def test_open_box_criteria_award_full_points():
    result = score_match(candidate(), box(min_price=None, max_price=None, property_types=()), W)
    assert result.reasons[1:3] == ["Any price (+25)", "Any property type (+15)"]
    assert result.score == 100


def test_threshold_drops_weak_matches():
    # No cash, no proof of funds, unknown price: 40 + 0 + 15 = 55 < 70.
    result = score_match(candidate(mao=None, list_price=None, arv=None), box(cash_buyer=False, proof_of_funds=False), W)
    assert (result.score, result.keep) == (55, False)
    assert score_match(candidate(), box(cash_buyer=False, proof_of_funds=False), W) == MatchResult(
        score=80,
        reasons=[
            "Inside the buyer's target area (+40)",
            "MAO $135,000 within $50,000-$300,000 (+25)",
            "Property type sfr wanted (+15)",
        ],
        keep=True,
    )


def test_custom_weights_and_cap_at_100():
    heavy = MatchWeights(location=60, price=30, type=20, cash=10, proof_of_funds=10, threshold=95)
    assert score_match(candidate(), box(), heavy).score == 100
    strict = MatchWeights(threshold=101)
    assert score_match(candidate(), box(), strict).keep is False


def test_haversine_one_degree_of_latitude():
    assert round(haversine_miles(-81.0, 28.0, -81.0, 29.0), 2) == 69.09


def test_best_matches_rank_by_score_then_lead_score_then_property():
    cands = [
        candidate(property_id=1, lead_score=50),
        candidate(property_id=2, lead_score=90),
        candidate(property_id=3, lead_score=90),
        candidate(property_id=4, lead_score=99, mao=Decimal("315000")),  # half price points: 87
        candidate(property_id=5, lead_score=99, property_type="land"),  # a miss: never kept
    ]
    scored = [(c, score_match(c, box(), W)) for c in cands]
    assert [(c.property_id, r.score) for c, r in best_matches(scored, W)] == [(2, 100), (3, 100), (1, 100), (4, 87)]
    capped = MatchWeights(max_matches_per_buyer=2)
    assert [c.property_id for c, _ in best_matches(scored, capped)] == [2, 3]
    assert W.max_matches_per_buyer == 200
