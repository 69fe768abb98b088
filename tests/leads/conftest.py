import datetime

import pytest

from tests import factories as pf
from tests.factories import BrokerFactory

TODAY = datetime.date(2026, 3, 2)


def days(n: int) -> datetime.date:
    return TODAY + datetime.timedelta(days=n)


def at(n: int) -> datetime.datetime:
    return datetime.datetime.combine(days(n), datetime.time(12), tzinfo=datetime.UTC)


@pytest.fixture
def broker(db):
    return BrokerFactory(username="alice")


def hot_property(**kwargs):
    """Tax sale in 12 days + auction in 30 days + 2 open violations + absentee + 52% equity: tier A (75)."""
    prop = pf.PropertyFactory(is_absentee=True, **kwargs)
    pf.TaxSaleFactory(property=prop, sale_date=days(12))
    pf.ForeclosureFactory(property=prop, auction_date=days(30), filing_date=days(-90))
    pf.CodeViolationFactory.create_batch(2, property=prop, opened_at=days(-40))
    pf.ValuationFactory(property=prop)
    return prop


@pytest.fixture
def county(db):
    """A small county with one parcel per tier plus records that must not count."""
    parcels = {"hot": hot_property(parcel_id="HOT")}

    warm = pf.PropertyFactory(parcel_id="WARM", is_absentee=True)
    pf.TaxSaleFactory(property=warm, sale_date=days(25))
    pf.CodeViolationFactory(property=warm, opened_at=days(-5))
    pf.ValuationFactory(property=warm)
    pf.TaxDelinquencyFactory(property=warm, tax_year=None, amount_owed=None)
    parcels["warm"] = warm

    filed = pf.PropertyFactory(parcel_id="FILED", is_absentee=True, is_vacant=True)
    pf.ForeclosureFactory(property=filed, auction_date=None, filing_date=days(-20))
    pf.ValuationFactory(property=filed)
    parcels["filed"] = filed

    listed = pf.PropertyFactory(parcel_id="LISTED", zip="32805", living_sqft=None)
    pf.ValuationFactory(property=listed)
    listing = pf.ListingFactory(property=listed, list_price=199000)
    pf.PriceChangeFactory(listing=listing, old_price=215000, new_price=199000, changed_at=at(-10))
    pf.PriceChangeFactory(listing=listing, old_price=199000, new_price=205000, changed_at=at(-5))
    pf.PriceChangeFactory(listing=listing, old_price=230000, new_price=215000, changed_at=at(-400))
    parcels["listed"] = listed

    parcels["clean"] = pf.PropertyFactory(parcel_id="CLEAN")
    pf.ValuationFactory(property=parcels["clean"])

    stale = pf.PropertyFactory(parcel_id="STALE", year_built=None)
    pf.TaxSaleFactory(property=stale, sale_date=days(10), deed_status="Redeemed")
    pf.TaxSaleFactory(property=stale, sale_date=days(-10), deed_status="Active")
    pf.ForeclosureFactory(property=stale, status="Dismissed", auction_date=days(5))
    pf.ForeclosureFactory(property=stale, auction_date=days(-1), filing_date=days(-200))
    pf.CodeViolationFactory(property=stale, status="Open", opened_at=days(-50), closed_at=days(-3))
    pf.CodeViolationFactory(property=stale, status="Closed - complied", opened_at=days(-50))
    pf.ListingFactory(property=stale, status="sold", list_price=100000)
    parcels["stale"] = stale

    parcels["inactive"] = hot_property(parcel_id="GONE", is_active=False)
    return parcels
