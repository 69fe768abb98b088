"""Cash-buyer discovery, each rule alone (buyers.discovery; pure: no database)."""

import datetime
import random
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from buyers.discovery import DiscoveryParams, Transfer, covering_zips, discover_buyers
from properties.party_names import PartyKind

AS_OF = datetime.date(2026, 3, 2)
_docs = iter(range(1, 10**6))


def day(days_ago: int) -> datetime.date:
    return AS_OF - datetime.timedelta(days=days_ago)


def bought(grantee: str, days_ago: int = 30, **overrides) -> Transfer:
    doc = next(_docs)
    values = {
        "document_id": f"D{doc}",
        "parcel_id": f"P{doc}",
        "sale_date": day(days_ago),
        "grantee": grantee,
        "grantor": f"SELLER {doc}",
        "zip": "32805",
        "price": Decimal("100000"),
        "property_type": "sfr",
        "mortgage_amount": None,
        "mortgages_published": True,
    }
    return Transfer(**{**values, **overrides})


def names(transfers, **kwargs) -> list[str]:
    return [b.name for b in discover_buyers(transfers, as_of=AS_OF, **kwargs)]


def test_a_company_with_one_cash_purchase_is_a_buyer():
    (buyer,) = discover_buyers([bought("BLUE OAK HOMES LLC")], as_of=AS_OF)
    assert (buyer.name, buyer.kind, buyer.cash) == ("BLUE OAK HOMES LLC", PartyKind.COMPANY, True)
    assert buyer.reasons[:2] == ("A company", "No mortgage recorded on 1 of 1 purchases")


def test_a_person_needs_two_purchases_within_12_months():
    assert names([bought("JONES PAUL")]) == []
    assert names([bought("JONES PAUL", 10), bought("JONES PAUL", 300)]) == ["JONES PAUL"]
    twelve_months = (AS_OF - datetime.date(2025, 3, 2)).days
    assert names([bought("LEE KIM", 0), bought("LEE KIM", twelve_months)]) == ["LEE KIM"]
    assert names([bought("LEE KIM", 0), bought("LEE KIM", twelve_months + 1)]) == []
    assert names([bought("SMITH FAMILY TRUST", 10), bought("SMITH FAMILY TRUST", 20)]) == ["SMITH FAMILY TRUST"]
    (trust,) = discover_buyers([bought("SMITH FAMILY TRUST", 10), bought("SMITH FAMILY TRUST", 20)], as_of=AS_OF)
    assert trust.reasons[0] == "2 purchases within 12 months"


def test_financed_purchases_are_no_evidence_where_the_county_publishes_mortgages():
    loan = {"mortgage_amount": Decimal("80000")}
    assert names([bought("JONES PAUL", 10, **loan), bought("JONES PAUL", 20, **loan)]) == []
    assert names([bought("ACME HOMES LLC", **loan)]) == []
    assert names([bought("JONES PAUL", 10, **loan), bought("JONES PAUL", 20)]) == []  # one cash purchase
    (buyer,) = discover_buyers(
        [bought("ACME HOMES LLC", 10), bought("ACME HOMES LLC", 20), bought("ACME HOMES LLC", 30, **loan)], as_of=AS_OF
    )
    assert len(buyer.purchases) == 2
    assert "No mortgage recorded on 2 of 3 purchases" in buyer.reasons
    assert names([bought("ACME HOMES LLC", mortgage_amount=Decimal("0"))]) == ["ACME HOMES LLC"]


def test_where_the_county_publishes_no_mortgages_cash_is_unknown_but_the_buyer_is_listed():
    unpublished = {"mortgages_published": False, "mortgage_amount": None}
    (buyer,) = discover_buyers([bought("JONES PAUL", 10, **unpublished), bought("JONES PAUL", 20, **unpublished)],
                               as_of=AS_OF)  # fmt: skip
    assert buyer.cash is None
    assert "The county publishes no mortgages: cash not confirmed" in buyer.reasons
    assert [p["cash"] for p in buyer.as_json()["purchases"]] == [None, None]
    assert buyer.buy_box()["cash_buyer"] is False


@pytest.mark.parametrize(
    "grantee", ["WELLS FARGO BANK NA", "FEDERAL NATIONAL MORTGAGE ASSOCIATION", "CITY OF ORLANDO", "PHILA LAND BANK"]
)
def test_lenders_and_government_are_never_buyers(grantee):
    assert names([bought(grantee, 10), bought(grantee, 20), bought(grantee, 30)]) == []


def test_only_purchases_in_the_lookback_and_up_to_the_as_of_date_count():
    assert names([bought("ACME HOMES LLC", is_purchase=False)]) == []
    assert names([bought("ACME HOMES LLC", 731)]) == []  # 24 months ago and a day
    assert names([bought("ACME HOMES LLC", -1)]) == []  # recorded after the as-of date
    assert names([bought("ACME HOMES LLC", 900)], params=DiscoveryParams(lookback_months=36)) == ["ACME HOMES LLC"]


def test_one_buyer_per_owner_key_or_per_spelling_of_its_name():
    spellings = [bought("Acme Homes, L.L.C.", 10), bought("ACME HOMES LLC", 20), bought("The Acme Homes LLC", 30)]
    (buyer,) = discover_buyers(spellings, as_of=AS_OF)
    assert (buyer.key, buyer.name, len(buyer.purchases)) == ("ACME HOMES LLC", "Acme Homes, L.L.C.", 3)
    keyed = [bought("JONES PAUL", 10, grantee_key="o-9"), bought("Paul Jones", 20, grantee_key="o-9")]
    assert [(b.key, len(b.purchases)) for b in discover_buyers(keyed, as_of=AS_OF)] == [("o-9", 2)]


@pytest.mark.parametrize(
    ("zips", "expected"),
    [
        (["A"] * 5 + ["C"] * 2 + ["B"] * 2 + ["D"], ("A", "B")),  # 5 + 2 of 10 = 70%; B before C on a tie
        (["A", "B", "C"], ("A", "B", "C")),  # 2 of 3 is 67%
        (["A", "A", "A", "B"], ("A",)),
        (["A", "", "A", "B", "A"], ("A",)),  # 3 of the 4 with a zip
        (["", ""], ()),
    ],
)
def test_the_smallest_set_of_zips_holding_70_percent(zips, expected):
    assert covering_zips(zips, Decimal("0.70")) == expected


def test_price_band_from_single_parcel_prices_and_types_most_bought_first():
    purchases = [
        bought("ACME HOMES LLC", 10, price=Decimal("95000"), property_type="sfr"),
        bought("ACME HOMES LLC", 20, price=Decimal("132500.40"), property_type="multi"),
        bought("ACME HOMES LLC", 30, price=Decimal("120000"), property_type="sfr"),
        bought("ACME HOMES LLC", 40, price=Decimal("900000"), parcel_count=3, property_type="other"),
        bought("ACME HOMES LLC", 50, price=None, property_type="condo"),
    ]
    (buyer,) = discover_buyers(purchases, as_of=AS_OF)
    assert (buyer.min_price, buyer.max_price) == (Decimal("95000"), Decimal("132500.40"))
    assert buyer.property_types == ("sfr", "condo", "multi")
    assert (buyer.as_json()["min_price"], buyer.as_json()["max_price"]) == (95000, 132500)


def resale(parcel_id: str, seller: str, days_ago: int, **overrides) -> Transfer:
    return bought(f"NEWMAN {parcel_id}", days_ago, parcel_id=parcel_id, grantor=seller, **overrides)


def test_a_flipper_resells_within_12_months():
    first, second = bought("ACME HOMES LLC", 400), bought("ACME HOMES LLC", 500)
    sold = [resale(first.parcel_id, "Acme Homes LLC", 300), resale(second.parcel_id, "ACME HOMES, LLC", 200)]
    (buyer,) = discover_buyers([first, second, *sold], as_of=AS_OF)
    assert buyer.style == "flipper"
    assert buyer.reasons[-1] == "Resold 2 of 2 purchases within 12 months: flipper"
    assert [e.resold_on for e in buyer.purchases] == [day(200), day(300)]  # oldest purchase first
    assert buyer.buy_box()["strategies"] == ["flip"]


def test_a_holder_keeps_them_and_young_purchases_are_undecided():
    held = [bought("ACME HOMES LLC", 400), bought("ACME HOMES LLC", 500)]
    late_resale = resale(held[0].parcel_id, "ACME HOMES LLC", 10)  # sold after 13 months: still held
    (buyer,) = discover_buyers([*held, late_resale], as_of=AS_OF)
    assert (buyer.style, buyer.buy_box()["strategies"]) == ("holder", ["rental"])
    (young,) = discover_buyers([bought("ACME HOMES LLC", 100)], as_of=AS_OF)
    assert young.style == "unknown"
    assert young.reasons[-1] == "None of the purchases is 12 months old or resold yet"


def test_a_resale_is_matched_by_owner_key_and_only_a_real_sale_counts():
    purchase = bought("JONES PAUL", 300, grantee_key="o-1")
    again = bought("JONES PAUL", 310, grantee_key="o-1")
    gift = resale(purchase.parcel_id, "SOMEONE", 200, grantor_key="o-1", is_purchase=False)
    assert discover_buyers([purchase, again, gift], as_of=AS_OF)[0].purchases[1].resold_on is None
    sold = resale(purchase.parcel_id, "SOMEONE", 200, grantor_key="o-1")
    assert discover_buyers([purchase, again, sold], as_of=AS_OF)[0].purchases[1].resold_on == day(200)


def test_buyers_are_listed_most_purchases_first_then_latest():
    transfers = [bought("B LLC", 100), bought("A LLC", 50), bought("C LLC", 10), bought("C LLC", 20)]
    assert names(transfers) == ["C LLC", "A LLC", "B LLC"]


def test_the_json_shape_is_the_promised_one():
    transfer = bought("ACME HOMES LLC", 30, document_id="2025-0001", parcel_id="P9", price=Decimal("99999.50"))
    (buyer,) = discover_buyers([transfer], as_of=AS_OF)
    assert buyer.as_json() == {
        "name": "ACME HOMES LLC",
        "purchases": [
            {
                "document_id": "2025-0001",
                "parcel_id": "P9",
                "zip": "32805",
                "sale_date": "2026-01-31",
                "price": 100000,
                "property_type": "sfr",
                "parcel_count": 1,
                "cash": True,
                "resold_on": None,
            }
        ],
        "zips": ["32805"],
        "min_price": 100000,
        "max_price": 100000,
        "property_types": ["sfr"],
        "style": "unknown",
    }
    explained = buyer.as_json(explain=True)
    assert (explained["key"], explained["kind"], explained["cash"]) == ("ACME HOMES LLC", "company", True)
    assert explained["reasons"] == list(buyer.reasons)


def test_bad_parameters_are_refused_with_a_clear_message():
    with pytest.raises(ValueError, match="zip_coverage and flipper_share must be shares"):
        DiscoveryParams(zip_coverage=Decimal("70"))
    with pytest.raises(ValueError, match="must be at least 1"):
        DiscoveryParams(within_months=0)


@settings(max_examples=100, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["ACME HOMES LLC", "Acme Homes, L.L.C.", "JONES PAUL", "LEE KIM", "US BANK NA"]),
            st.integers(-10, 900),
            st.sampled_from(["32805", "32806", "32807", ""]),
            st.one_of(st.none(), st.integers(0, 500_000).map(Decimal)),
            st.one_of(st.none(), st.just(Decimal("90000"))),
            st.integers(1, 3),
        ),
        max_size=25,
    ),
    seed=st.integers(0, 10**6),
)
def test_discovery_is_order_independent_and_its_box_covers_its_evidence(rows, seed):
    transfers = [
        bought(name, days, zip=zip_code, price=price, mortgage_amount=loan, parcel_count=parcels)
        for name, days, zip_code, price, loan, parcels in rows
    ]
    shuffled = list(transfers)
    random.Random(seed).shuffle(shuffled)
    found = discover_buyers(transfers, as_of=AS_OF)
    assert [b.as_json(explain=True) for b in found] == [
        b.as_json(explain=True) for b in discover_buyers(shuffled, as_of=AS_OF)
    ]
    for buyer in found:
        assert buyer.kind is not PartyKind.LENDER
        evidence = [e.transfer for e in buyer.purchases]
        assert all(t.cash is not False for t in evidence)
        singles = [t.price for t in evidence if t.parcel_count == 1 and t.price]
        assert all(buyer.min_price <= p <= buyer.max_price for p in singles)
        with_zip = [t.zip for t in evidence if t.zip]
        assert sum(1 for z in with_zip if z in buyer.zips) >= Decimal("0.70") * len(with_zip)
