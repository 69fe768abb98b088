"""Issue 21's done-when case on a small county of recorded sales, through the pure core end to end:
sales_rules -> comps/ARV -> deal numbers, and sales_rules -> buyer discovery -> buy box -> matching.

A broker's hand computation, for the subject (single-family, 1,500 sqft, 3 beds):
    comp  price     sqft   size factor 1 + 0.5 x (1500 / sqft - 1)   adjusted
    A     300,000   1,500  1                                          300,000
    B     264,000   1,600  0.96875                                    255,750
    C     250,000   1,250  1.1                                        275,000
    D     240,000   1,200  1.125                                      270,000
    E     290,000   1,500  1                                          290,000
(a small county: fewer than 10 market sales with a living area in any 13 months, so no time trend and no
time adjustment). Sorted: 255,750  270,000  275,000  290,000
300,000: ARV = the median 275,000; low / high = the 25th / 75th percentiles 270,000 / 290,000; the mean
absolute deviation from the median is 12,850 = 4.7% of it, with 5 comps: high confidence.
Excluded: a $0 transfer, a family quitclaim, a three-parcel deed, a sheriff's deed, a condo, the subject's own
earlier sale, a sale 0.8 mile away and one 15 months ago (enough comps closer in and newer).
"""

import datetime
from collections import Counter
from decimal import Decimal

from buyers.discovery import Transfer, discover_buyers
from buyers.matching import BuyBox, MatchCandidate, MatchWeights, score_match
from leads.comps import CompParams, CompSale, Subject, comps_and_arv
from leads.comps_trend import county_trend
from leads.deals import DealParams, deal_numbers
from properties.sales_rules import SaleFacts, assess_sale

AS_OF = datetime.date(2026, 3, 2)
LAT, LON = 28.5383, -81.3792
MILE = 1 / 69.09  # degrees of latitude, about


def record(
    doc,
    parcel,
    deed,
    price,
    *,
    miles=0.2,
    days=90,
    sqft=1500,
    beds=3,
    ptype="sfr",
    grantor="JONES PAUL",
    grantee="LEE KIM",
    zip="32805",
    mortgage=None,
):
    return {
        "document_id": doc,
        "parcel_id": parcel,
        "deed_type": deed,
        "price": None if price is None else Decimal(price),
        "lat": LAT + miles * MILE,
        "lon": LON,
        "sale_date": AS_OF - datetime.timedelta(days=days),
        "living_sqft": sqft,
        "beds": beds,
        "property_type": ptype,
        "grantor": grantor,
        "grantee": grantee,
        "zip": zip,
        "mortgage_amount": None if mortgage is None else Decimal(mortgage),
    }


COUNTY = [
    # The five arms-length comps a broker keeps.
    record("D1", "A", "WARRANTY DEED", 300000, miles=0.1, mortgage=240000),
    record("D2", "B", "SPECIAL WARRANTY DEED", 264000, miles=0.2, sqft=1600, beds=4, grantee="DIAZ ANA"),
    record("D3", "C", "WD", 250000, miles=0.3, sqft=1250, grantee="NGUYEN BAO", mortgage=200000),
    record("D4", "D", "WARRANTY DEED", 240000, miles=0.35, sqft=1200, beds=2, grantee="COHEN ERIC"),
    record("D5", "E", "WD", 290000, miles=0.45, grantee="PATEL RAJ", mortgage=230000),
    # What a broker excludes.
    record("D6", "F", "WARRANTY DEED", 0, miles=0.15, grantee="KING ROSE"),
    record("D7", "G", "QCD", 150000, miles=0.12, grantor="SMITH JOHN A", grantee="SMITH MARY"),
    *(
        record("D8", p, "WARRANTY DEED", 600000, miles=0.2, grantee="OAK STREET PARTNERS LLC", mortgage=450000)
        for p in ("H1", "H2", "H3")
    ),
    record(
        "D9",
        "I",
        "SHERIFF'S DEED",
        140000,
        miles=0.25,
        grantor="SHERIFF OF ORANGE COUNTY",
        grantee="WELLS FARGO BANK NA",
    ),
    record("D10", "J", "WARRANTY DEED", 210000, miles=0.1, ptype="condo", grantee="ORTIZ LUIS", mortgage=150000),
    record("D11", "SUBJ", "WARRANTY DEED", 180000, miles=0, days=200, grantee="BROWN TOM", mortgage=150000),
    record("D12", "K", "WARRANTY DEED", 500000, miles=0.8, grantee="WHITE AMY", mortgage=400000),
    record("D13", "L", "WARRANTY DEED", 200000, miles=0.2, days=450, grantee="GREEN SAM", mortgage=160000),
    # A company buying three houses in one zip within a year, cash, across town: no comps of the subject.
    record(
        "D20",
        "X1",
        "CERTIFICATE OF TITLE",
        95000,
        miles=6,
        days=300,
        grantee="BLUE OAK HOMES LLC",
        grantor="CLERK OF COURT",
    ),
    record("D21", "X2", "WARRANTY DEED", 120000, miles=6.2, days=200, grantee="Blue Oak Homes, L.L.C.", sqft=None),
    record(
        "D22",
        "X3",
        "QUIT CLAIM DEED",
        132500,
        miles=6.4,
        days=100,
        grantee="BLUE OAK HOMES LLC",
        grantor="HEIRS OF ROSA MARTIN",
    ),
    # A landlord's financed purchase in another zip and a bank's credit bid are no cash buyers.
    record(
        "D23",
        "Y1",
        "WARRANTY DEED",
        180000,
        miles=7,
        sqft=None,
        grantee="RIVERSIDE RENTALS LLC",
        zip="32806",
        mortgage=135000,
    ),
]

SUBJECT = Subject(as_of=AS_OF, property_type="sfr", lat=LAT, lon=LON, living_sqft=1500, beds=3, parcel_id="SUBJ")


def assessed_sales():
    parcels_per_document = Counter(r["document_id"] for r in COUNTY)  # the loader's COUNT(*) OVER (document_id)
    out = []
    for r in COUNTY:
        facts = SaleFacts(
            price=r["price"],
            deed_type=r["deed_type"],
            grantors=r["grantor"],
            grantees=r["grantee"],
            parcel_count=parcels_per_document[r["document_id"]],
        )
        out.append((r, assess_sale(facts), facts.parcel_count))
    return out


def test_a_leads_arv_equals_the_brokers_hand_computation_from_the_arms_length_comps():
    sales = [
        CompSale(
            sale_id=r["document_id"] + "/" + r["parcel_id"],
            **{k: r[k] for k in ("sale_date", "price", "property_type", "living_sqft", "beds", "lat", "lon")},
            parcel_id=r["parcel_id"],
            is_arms_length=a.is_arms_length,
            is_distressed=a.is_distressed,
            flags=tuple(a.reasons),
        )
        for r, a, _ in assessed_sales()
    ]
    params = CompParams()
    trend = county_trend(sales, as_of=AS_OF, params=params)
    result = comps_and_arv(SUBJECT, sales, trend=trend, params=params)

    assert [c.sale.parcel_id for c in result.comps] == ["A", "B", "C", "D", "E"]
    assert [int(c.adjusted_value) for c in result.comps] == [300000, 255750, 275000, 270000, 290000]
    assert (result.arv, result.low, result.high, result.confidence) == (
        Decimal("275000"),
        Decimal("270000"),
        Decimal("290000"),
        "high",
    )
    assert round(result.dispersion, 4) == round(12850 / 275000, 4)
    why = {d.sale.parcel_id: d.reason for d in result.dropped}
    assert why == {
        "F": "Not arms-length: Price $0 is under the $1,000 nominal-price floor",
        "G": "Not arms-length: Quitclaim deed (QCD): no warranty of title; "
        "Grantor and grantee share the surname SMITH (SMITH JOHN A / SMITH MARY)",
        "H1": "Not arms-length: One document for 3 parcels: the $600,000 is for all of them",
        "H2": "Not arms-length: One document for 3 parcels: the $600,000 is for all of them",
        "H3": "Not arms-length: One document for 3 parcels: the $600,000 is for all of them",
        "I": "Distressed sale: Foreclosure deed (SHERIFF'S DEED): kept, marked distressed",
        "J": "A condo, not a sfr",
        "SUBJ": "The subject's own sale",
        "K": "Outside 0.5 mi and 12 months: enough comps closer in",
        "L": "Outside 0.5 mi and 12 months: enough comps closer in",
        "X1": "Distressed sale: Foreclosure deed (CERTIFICATE OF TITLE): kept, marked distressed",
        "X2": "6.20 mi away, over 1 mi",
        "X3": "Not arms-length: Quitclaim deed (QUIT CLAIM DEED): no warranty of title",
        "Y1": "7.00 mi away, over 1 mi",
    }
    assert result.notes == ("Too few county sales for a trend: prices are not adjusted for time",)
    assert set(result.as_json()) == {"arv", "low", "high", "confidence", "comps"}


def transfers():
    return [
        Transfer(
            document_id=r["document_id"],
            parcel_id=r["parcel_id"],
            sale_date=r["sale_date"],
            grantee=r["grantee"],
            grantor=r["grantor"],
            zip=r["zip"],
            price=r["price"],
            property_type=r["property_type"],
            mortgage_amount=r["mortgage_amount"],
            mortgages_published=True,
            parcel_count=parcels,
            is_purchase=a.is_purchase,
        )
        for r, a, parcels in assessed_sales()
    ]


def test_a_company_that_bought_three_houses_in_one_zip_is_discovered_with_that_zip_and_a_covering_band():
    buyers = discover_buyers(transfers(), as_of=AS_OF)
    assert [b.name for b in buyers] == ["BLUE OAK HOMES LLC"]
    (blue_oak,) = buyers
    assert blue_oak.as_json() | {"purchases": len(blue_oak.purchases)} == {
        "name": "BLUE OAK HOMES LLC",
        "purchases": 3,
        "zips": ["32805"],
        "min_price": 95000,
        "max_price": 132500,
        "property_types": ["sfr"],
        "style": "unknown",
    }
    prices = [e.transfer.price for e in blue_oak.purchases]
    assert all(blue_oak.min_price <= p <= blue_oak.max_price for p in prices)
    assert blue_oak.reasons == (
        "A company",
        "3 purchases within 12 months",
        "No mortgage recorded on 3 of 3 purchases",
        "None of the purchases is 12 months old or resold yet",
    )


def test_the_discovered_buy_box_matches_a_lead_in_that_zip():
    (blue_oak,) = discover_buyers(transfers(), as_of=AS_OF)
    box = blue_oak.buy_box()
    assert box["target_zips"] == ["32805"] and box["cash_buyer"] is True
    buy_box = BuyBox(
        min_price=box["min_price"],
        max_price=box["max_price"],
        property_types=tuple(box["property_types"]),
        zips=tuple(box["target_zips"]),
        cash_buyer=box["cash_buyer"],
    )
    # The subject lead: its ARV from the comps, its MAO from the deal analyzer (ARV x 70% - repairs - fee).
    deal = deal_numbers(
        market_value=Decimal("275000"),
        list_price=None,
        living_sqft=1500,
        year_built=1985,
        current_year=2026,
        params=DealParams(),
    )
    assert deal.mao == Decimal("142000")  # 192,500 - 40,500 repairs - 10,000 fee
    lead = MatchCandidate(
        property_id=1,
        zip="32805",
        property_type="sfr",
        beds=3,
        baths=Decimal("2"),
        year_built=1985,
        mao=deal.mao,
        list_price=None,
        arv=Decimal("275000"),
    )
    result = score_match(lead, buy_box, MatchWeights())
    assert result.keep and result.score == 77  # in the zip, MAO 7% over the band (half the price points), cash
    elsewhere = MatchCandidate(**{**lead.__dict__, "zip": "32806"})
    assert not score_match(elsewhere, buy_box, MatchWeights()).keep
