"""Arms-length rules, each alone (properties.sales_rules; pure: no database)."""

import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from properties.deed_types import DeedKind
from properties.sales_rules import Flag, SaleFacts, SaleRulesParams, assess_sale

ARMS_LENGTH = {
    "price": Decimal("250000"),
    "deed_type": "WARRANTY DEED",
    "grantors": "JONES PAUL",
    "grantees": "LEE KIM",
}


def assess(params=None, **overrides):
    return assess_sale(SaleFacts(**{**ARMS_LENGTH, **overrides}), params)


def test_a_plain_warranty_sale_between_strangers_is_arms_length_with_no_flag():
    result = assess()
    assert result.flags == ()
    assert (result.deed_kind, result.is_arms_length, result.is_distressed, result.is_purchase) == (
        DeedKind.CONVEYANCE,
        True,
        False,
        True,
    )
    assert result.as_json() == {
        "deed_kind": "conveyance",
        "is_arms_length": True,
        "is_distressed": False,
        "is_purchase": True,
        "flags": [],
    }


@pytest.mark.parametrize("price", [Decimal("0"), Decimal("10"), Decimal("999.99")])
def test_nominal_price_under_the_floor(price):
    result = assess(price=price)
    assert result.codes == {Flag.NOMINAL_PRICE}
    assert result.reasons == [f"Price ${price:,.0f} is under the $1,000 nominal-price floor"]
    assert not result.is_arms_length and not result.is_purchase


def test_nominal_price_as_a_tiny_share_of_the_assessed_value():
    result = assess(price=Decimal("7000"), assessed_value=Decimal("150000"))
    assert result.reasons == ["Price $7,000 is under 5% of the assessed value $150,000"]
    assert assess(price=Decimal("7500"), assessed_value=Decimal("150000")).flags == ()  # exactly 5% is not under
    assert assess(price=Decimal("7000"), assessed_value=None).flags == ()
    assert assess(price=Decimal("7000"), assessed_value=Decimal("0")).flags == ()


def test_the_nominal_thresholds_are_parameters():
    params = SaleRulesParams.from_mapping({"nominal_price_floor": 20000, "nominal_share_of_assessed": "0.5"})
    assert params.nominal_price_floor == Decimal("20000")
    assert assess(params, price=Decimal("15000")).codes == {Flag.NOMINAL_PRICE}
    assert assess(params, price=Decimal("60000"), assessed_value=Decimal("150000")).codes == {Flag.NOMINAL_PRICE}
    assert assess(params, price=Decimal("80000"), assessed_value=Decimal("150000")).flags == ()


def test_an_unknown_price_is_no_comp_but_still_a_purchase():
    result = assess(price=None)
    assert result.codes == {Flag.PRICE_UNKNOWN}
    assert not result.is_arms_length and result.is_purchase


@pytest.mark.parametrize("deed_type", ["QCD", "QUIT CLAIM", "QUITCLAIM DEED", "DEED - QUITCLAIM", "Quit claim"])
def test_a_quitclaim_at_a_real_price_is_no_comp_but_a_purchase(deed_type):
    result = assess(deed_type=deed_type)
    assert result.codes == {Flag.NON_WARRANTY_DEED}
    assert result.reasons == [f"Quitclaim deed ({deed_type}): no warranty of title"]
    assert not result.is_arms_length and result.is_purchase


@pytest.mark.parametrize(
    ("deed_type", "flag", "purchase"),
    [
        ("DEED LAND BANK", Flag.NON_MARKET_DEED, True),
        ("GIFT DEED", Flag.NO_SALE_DEED, False),
        ("CORRD", Flag.CORRECTIVE_DEED, False),
        ("RPTT", Flag.NOT_A_DEED, False),
    ],
)
def test_other_non_market_deed_types(deed_type, flag, purchase):
    result = assess(deed_type=deed_type)
    assert result.codes == {flag}
    assert (result.is_arms_length, result.is_purchase) == (False, purchase)


@pytest.mark.parametrize(
    ("deed_type", "reason"),
    [
        ("SHERIFF'S DEED", "Foreclosure deed (SHERIFF'S DEED): kept, marked distressed"),
        ("CERTIFICATE OF TITLE", "Foreclosure deed (CERTIFICATE OF TITLE): kept, marked distressed"),
        ("TAX DEED", "Tax deed (TAX DEED): kept, marked distressed"),
        ("DEED IN LIEU", "Deed in lieu of foreclosure (DEED IN LIEU): kept, marked distressed"),
    ],
)
def test_foreclosure_tax_and_in_lieu_deeds_are_kept_but_distressed(deed_type, reason):
    result = assess(deed_type=deed_type)
    assert result.reasons == [reason]
    assert (result.is_arms_length, result.is_distressed, result.is_purchase) == (True, True, True)


def test_a_bank_selling_its_reo_is_kept_but_distressed():
    result = assess(grantors="FEDERAL NATIONAL MORTGAGE ASSOCIATION", deed_type="SPECIAL WARRANTY DEED")
    assert result.reasons == [
        "Seller FEDERAL NATIONAL MORTGAGE ASSOCIATION is a lender or agency: a bank-owned (REO) sale"
    ]
    assert (result.is_arms_length, result.is_distressed) == (True, True)


@pytest.mark.parametrize(
    ("grantors", "grantees", "reason"),
    [
        ("SMITH JOHN A", "SMITH MARY", "Grantor and grantee share the surname SMITH (SMITH JOHN A / SMITH MARY)"),
        (
            "JONES PAUL & SMITH ANN",
            "LEE KIM & SMITH ROBERT",
            "Grantor and grantee share the surname SMITH (SMITH ANN / SMITH ROBERT)",
        ),
        (
            ["GARCIA, LUIS"],
            ["GARCIA ROSA", "PEREZ ANA"],
            "Grantor and grantee share the surname GARCIA (GARCIA, LUIS / GARCIA ROSA)",
        ),
        (
            "SMITH JOHN A",
            "SMITH FAMILY TRUST",
            "Grantor and grantee share the surname SMITH (SMITH JOHN A / SMITH FAMILY TRUST)",
        ),
        ("Acme Homes, L.L.C.", "ACME HOMES LLC", "Grantor and grantee are the same party (ACME HOMES LLC)"),
    ],
)
def test_related_parties_by_name(grantors, grantees, reason):
    result = assess(grantors=grantors, grantees=grantees)
    assert result.reasons == [reason]
    assert not result.is_arms_length and not result.is_purchase


def test_related_parties_by_the_same_owner_record():
    result = assess(
        grantors="JONES PAUL", grantees="BLUE OAK LLC", grantor_owner_keys={"o-17"}, grantee_owner_keys={"o-17", "o-2"}
    )
    assert result.reasons == ["Grantor and grantee are the same owner record"]


def test_no_related_parties_between_strangers_or_companies_sharing_a_word():
    assert assess(grantors="SMITH JOHN", grantees="JONES MARY").flags == ()
    assert assess(grantors="SMITH HOLDINGS LLC", grantees="SMITH JOHN").flags == ()  # a company has no surname
    assert assess(grantor_owner_keys={"o-1"}, grantee_owner_keys={"o-2"}).flags == ()


def test_the_name_order_is_a_parameter():
    params = SaleRulesParams(name_order="first_last")
    assert assess(params, grantors="John Smith", grantees="Mary Smith").codes == {Flag.RELATED_PARTIES}
    assert assess(params, grantors="John Smith", grantees="John Jones").flags == ()
    # Read as "LAST FIRST" (the default), both would be named JOHN: the order must fit the source.
    assert assess(grantors="John Smith", grantees="John Jones").codes == {Flag.RELATED_PARTIES}


def test_one_document_over_several_parcels():
    result = assess(parcel_count=3, price=Decimal("450000"))
    assert result.reasons == ["One document for 3 parcels: the $450,000 is for all of them"]
    assert not result.is_arms_length and result.is_purchase


@pytest.mark.parametrize(
    ("deed_type", "reason"),
    [("DEEDO", "Deed type 'DEEDO' is not one DealFinder knows: kept"), ("", "No deed type recorded: kept")],
)
def test_an_unknown_deed_type_is_said_but_never_excluded_by_itself(deed_type, reason):
    result = assess(deed_type=deed_type)
    assert result.reasons == [reason]
    assert result.is_arms_length and result.is_purchase


def test_every_applicable_flag_is_listed_in_rule_order():
    result = assess(
        price=Decimal("0"),
        deed_type="QCD",
        grantors="SMITH JOHN A",
        grantees="SMITH JOHN A & SMITH MARY",
        parcel_count=2,
    )
    assert [f.code for f in result.flags] == [
        Flag.NOMINAL_PRICE,
        Flag.NON_WARRANTY_DEED,
        Flag.RELATED_PARTIES,
        Flag.MULTI_PARCEL,
    ]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"name_order": "last"}, "name_order must be one of last_first, first_last, either, not 'last'"),
        ({"vocabulary": {"03": "quit"}}, "vocabulary kinds must be deed kinds"),
        ({"nominal_share_of_assessed": Decimal("1.5")}, "0 <= nominal_share_of_assessed < 1"),
    ],
)
def test_bad_parameters_are_refused_with_a_clear_message(values, message):
    with pytest.raises(ValueError, match=message):
        SaleRulesParams(**values)


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    price=st.one_of(st.none(), st.decimals(min_value=-10, max_value=10**7, allow_nan=False, places=2)),
    deed_type=st.one_of(st.none(), st.text(max_size=40), st.sampled_from(["QCD", "WD", "SHERIFF'S DEED", "RPTT"])),
    grantors=st.one_of(st.text(max_size=60), st.lists(st.text(max_size=30), max_size=3)),
    grantees=st.one_of(st.text(max_size=60), st.lists(st.text(max_size=30), max_size=3)),
    parcel_count=st.integers(0, 5),
)
def test_any_recorded_text_gets_an_assessment_never_a_crash(price, deed_type, grantors, grantees, parcel_count):
    facts = SaleFacts(price, deed_type, grantors, grantees, parcel_count=parcel_count)
    result = assess_sale(facts)
    assert isinstance(result.deed_kind, DeedKind)
    assert len(result.reasons) == len(result.flags) and all(result.reasons)
    assert json.loads(json.dumps(result.as_json()))["flags"] == [
        {"code": f.code.value, "reason": f.reason} for f in result.flags
    ]
    if result.is_purchase:
        assert price is None or price >= Decimal("1000")
