from types import SimpleNamespace

import pytest

from leads.models import Lead
from properties.models import IngestionRun, PropertyType
from tests.factories import (
    BrokerFactory,
    BuyerFactory,
    CodeViolationFactory,
    DataSourceFactory,
    ForeclosureFactory,
    IngestionRunFactory,
    LeadFactory,
    LeadScoreHistoryFactory,
    ListingFactory,
    PriceChangeFactory,
    PropertyFactory,
    PropertyMatchFactory,
    TaxDelinquencyFactory,
    TaxSaleFactory,
)

TIERS = {"A": 85, "B": 65, "C": 45, "D": 20}


@pytest.fixture
def load_county(db):
    """A small county for the load test: 40 located leads of every tier and several statuses (a few assigned),
    each distress signal, listings with price cuts, buyers and matches, and ingestion runs of each outcome."""
    holder = BrokerFactory(username="holder")
    statuses = list(Lead.Status)
    types = [PropertyType.SFR, PropertyType.CONDO, PropertyType.TOWNHOUSE, PropertyType.MULTI]
    leads = []
    for n in range(40):
        prop = PropertyFactory(property_type=types[n % 4], is_absentee=n % 3 == 0, is_vacant=n % 7 == 0)
        tier = "ABCD"[n % 4]
        leads.append(
            LeadFactory(
                property=prop,
                tier=tier,
                total=TIERS[tier] + n % 5,
                status=statuses[n % len(statuses)],
                stack_count=n % 5,
                arv=150_000 + 5_000 * n,
                mao=40_000 + 2_500 * n,
                assigned_to=holder if n % 6 == 0 else None,
            )
        )
    props = [lead.property for lead in leads]
    for prop in props[:5]:
        TaxSaleFactory(property=prop)
    for prop in props[5:8]:
        ForeclosureFactory(property=prop)
    for prop in props[8:12]:
        CodeViolationFactory(property=prop)
    for prop in props[12:15]:
        TaxDelinquencyFactory(property=prop)
    for prop in props[15:25]:
        PriceChangeFactory(listing=ListingFactory(property=prop, list_price=180_000 + 1_000 * prop.pk % 50_000))
    for lead in leads[:10]:
        LeadScoreHistoryFactory(lead=lead)
    buyers = BuyerFactory.create_batch(5)
    for i, prop in enumerate(props[:15]):
        PropertyMatchFactory(property=prop, buyer=buyers[i % 5], score=70 + i)
    source = DataSourceFactory(name="Orange tax sales", slug="orange-tax-sales")
    for status in IngestionRun.Status:
        IngestionRunFactory(source=source, status=status)
    return SimpleNamespace(leads=leads, buyers=buyers, holder=holder, source=source)
