"""Tax delinquency is a standing distress record: it counts until a source resolves it or stops listing it."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from leads.models import Lead, ScoringProfile
from leads.services import leads_score_all
from properties import models as m
from properties.ingest.base import Page, RawRecord
from properties.ingest.loader import ingest_source
from tests.factories import DataSourceFactory, ScoringProfileFactory
from tests.leads.conftest import TODAY

pytestmark = pytest.mark.django_db

ROLL = {"parcel_id": "PIN", "street": "SITUS", "zip": "ZIP", "tax_year": "YEAR", "market_value": "MKT",
        "delinquent_amount": "DUE"}  # fmt: skip


def roll(year, due, **extra):
    attributes = {"PIN": "10-20-30", "SITUS": "12 ELM ST", "ZIP": "63139", "YEAR": year, "MKT": 180000, "DUE": due}
    return [Page(1, [RawRecord(f"{year}", {**attributes, **extra})])]


def lead():
    return Lead.objects.get(property__parcel_id="10-20-30")


def distress_reasons():
    return [r for r in lead().reasons if "elinquen" in r]


@pytest.fixture
def appraiser(db):
    ScoringProfileFactory(name="Default", is_active=True)
    return DataSourceFactory(slug="appraiser", dataset="parcels", field_mapping=ROLL)


def test_a_delinquent_amount_alone_scores_and_a_newer_roll_does_not_erase_it(appraiser):
    ingest_source(source=appraiser, reader=roll(2024, "$2,310.55"))
    leads_score_all(today=TODAY)
    assert distress_reasons() == ["Property taxes delinquent since 2024, $2,311 owed (+8)"]
    valuation = m.Valuation.objects.get()
    assert (valuation.tax_delinquent, valuation.delinquent_amount) == (True, Decimal("2310.55"))

    ingest_source(source=appraiser, reader=roll(2025, None))  # the next roll says nothing about 2024
    leads_score_all(today=TODAY)
    assert distress_reasons() == ["Property taxes delinquent since 2024, $2,311 owed (+8)"]
    assert m.Valuation.objects.count() == 2


def test_paid_by_the_source_demotes_the_lead_and_says_why(appraiser):
    ingest_source(source=appraiser, reader=roll(2024, 2310))
    leads_score_all(today=TODAY)
    before = lead().distress
    ingest_source(source=appraiser, reader=roll(2024, 0))  # the same roll year, now owing nothing
    leads_score_all(today=TODAY)
    assert lead().distress == before - 8
    assert distress_reasons() == ["Tax delinquency resolved (paid: nothing owed): no longer counted (+0)"]
    owed = m.TaxDelinquency.objects.get()
    assert (owed.is_open, owed.status) == (False, "paid: nothing owed")
    ingest_source(source=appraiser, reader=roll(2024, 120))  # owed again: counts again
    leads_score_all(today=TODAY)
    assert distress_reasons() == ["Property taxes delinquent since 2024, $120 owed (+8)"]


def test_an_unlisted_delinquency_ages_out_by_the_profiles_rule(appraiser):
    ingest_source(source=appraiser, reader=roll(2024, 500))
    m.PropertySource.objects.update(last_seen_at=timezone.now() - dt.timedelta(days=800))
    leads_score_all(today=timezone.localdate())
    assert distress_reasons() == ["Tax delinquency not listed by its source for 730 days: no longer counted (+0)"]
    ScoringProfile.objects.update(parameters={"tax_delinquency_unlisted_days": 0})
    leads_score_all(today=timezone.localdate())
    assert distress_reasons() == ["Property taxes delinquent since 2024, $500 owed (+8)"]


def test_a_delinquency_list_keeps_each_year_until_its_own_record_resolves(db):
    ScoringProfileFactory(name="Default", is_active=True)
    source = DataSourceFactory(
        slug="city-delinquency",
        dataset="tax_delinquencies",
        field_mapping={"parcel_id": "PIN", "tax_year": "YEAR", "delinquent_amount": "DUE", "status": "STATUS"},
    )

    def listing(*rows):
        return [Page(1, [RawRecord(str(i), {"PIN": "10-20-30", **row}) for i, row in enumerate(rows)])]

    ingest_source(source=source, reader=listing({"YEAR": 2022, "DUE": 900}, {"YEAR": 2023, "DUE": 400}))
    leads_score_all(today=TODAY)
    assert distress_reasons() == ["Property taxes delinquent since 2022, $1,300 owed (+8)"]
    ingest_source(source=source, reader=listing({"YEAR": 2022, "DUE": 0, "STATUS": "PAID"}, {"YEAR": 2023, "DUE": 400}))
    leads_score_all(today=TODAY)
    assert distress_reasons() == ["Property taxes delinquent since 2023, $400 owed (+8)"]
    ingest_source(source=source, reader=listing({"YEAR": 2022, "DUE": 0, "STATUS": "PAID"},
                                                {"YEAR": 2023, "STATUS": "ABATED"}))  # fmt: skip
    leads_score_all(today=TODAY)
    assert distress_reasons() == ["Tax delinquency resolved (PAID): no longer counted (+0)"]
