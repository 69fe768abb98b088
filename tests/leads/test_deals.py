"""Rule tests of leads.deals (pure: no database)."""

from decimal import Decimal

import pytest

from leads.deals import DealNumbers, DealParams, deal_numbers

P = DealParams()


def numbers(**kwargs):
    base = {"market_value": None, "list_price": None, "living_sqft": 1500, "year_built": 1985, "current_year": 2026}
    return deal_numbers(**{**base, **kwargs}, params=P)


def test_mao_from_market_value_sqft_and_age():
    # 4 decades old: 1500 x (15 + 3 x 4) = 40,500; 250,000 x 70% - 40,500 - 10,000 = 124,500
    assert numbers(market_value=Decimal("250000.00"), list_price=Decimal("199000")) == DealNumbers(
        arv=Decimal("250000"), repair_estimate=Decimal("40500"), mao=Decimal("124500")
    )


def test_list_price_is_the_arv_when_the_appraiser_has_no_value():
    assert numbers(list_price=Decimal("199000.40")).arv == Decimal("199000")
    assert numbers(market_value=Decimal("0"), list_price=Decimal("199000")).arv == Decimal("199000")


@pytest.mark.parametrize(
    ("year_built", "repairs"),
    [
        (2026, Decimal("22500")),
        (2017, Decimal("22500")),
        (2016, Decimal("27000")),
        (1900, Decimal("49500")),
        (None, Decimal("22500")),
    ],
)
def test_repairs_by_age_with_a_decade_cap(year_built, repairs):
    assert numbers(market_value=Decimal("100000"), year_built=year_built).repair_estimate == repairs


def test_mao_never_below_zero():
    assert numbers(market_value=Decimal("40000")).mao == Decimal("0")


def test_no_sqft_or_no_value_means_no_mao():
    assert numbers(market_value=Decimal("250000"), living_sqft=None) == DealNumbers(
        arv=Decimal("250000"), repair_estimate=None, mao=None
    )
    assert numbers() == DealNumbers(arv=None, repair_estimate=Decimal("40500"), mao=None)


def test_mao_rounds_to_whole_dollars_half_up():
    params = DealParams(arv_percent=Decimal("65.5"), assignment_fee=Decimal("0"))
    result = deal_numbers(
        market_value=Decimal("100001"),
        list_price=None,
        living_sqft=None,
        year_built=None,
        current_year=2026,
        params=params,
    )
    assert result.arv == Decimal("100001")
    params_no_repairs = DealParams(
        arv_percent=Decimal("65.5"), assignment_fee=Decimal("0"), repair_base_per_sqft=Decimal("0")
    )
    result = deal_numbers(
        market_value=Decimal("100001"),
        list_price=None,
        living_sqft=1,
        year_built=None,
        current_year=2026,
        params=params_no_repairs,
    )
    assert result.mao == Decimal("65501")  # 65,500.655 -> 65,501


def test_params_from_mapping():
    params = DealParams.from_mapping({"arv_percent": Decimal("65.00"), "repair_base_per_sqft": 20, "target_zips": []})
    assert params == DealParams(arv_percent=Decimal("65"), repair_base_per_sqft=Decimal("20"))


def test_the_arv_from_comps_comes_before_the_appraisers_value():
    # 275,000 x 70% - 40,500 - 10,000 = 142,000
    assert numbers(comps_arv=Decimal("275000"), market_value=Decimal("250000")) == DealNumbers(
        arv=Decimal("275000"), repair_estimate=Decimal("40500"), mao=Decimal("142000")
    )
    assert numbers(comps_arv=None, market_value=Decimal("250000")).arv == Decimal("250000")
