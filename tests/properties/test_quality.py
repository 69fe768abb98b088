import datetime

import pytest
from django.contrib.gis.geos import Point

from properties.models import QualityReport
from properties.quality import quality_report_create
from tests import factories as pf

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 6, 0, tzinfo=datetime.UTC)


@pytest.fixture
def defects(db):
    for parcel in ("GOOD1", "GOOD2"):
        pf.ValuationFactory(property=pf.PropertyFactory(parcel_id=parcel))
    pf.ValuationFactory(property=pf.PropertyFactory(parcel_id="NOADDR", street="", address_normalized=""))
    pf.ValuationFactory(property=pf.PropertyFactory(parcel_id="NOPOINT", location=None))
    for parcel in ("DUP1", "DUP2"):
        pf.ValuationFactory(property=pf.PropertyFactory(parcel_id=parcel, street="9 OAK ST"))
    pf.PropertyFactory(parcel_id="FAR", location=Point(-80.0, 27.0, srid=4326))
    gone = pf.PropertyFactory(parcel_id="GONE", is_active=False)
    pf.TaxSaleFactory(property=gone)
    pf.CodeViolationFactory.create_batch(2, property=gone)

    stale = pf.DataSourceFactory(slug="orange-parcels", enabled=True)
    pf.IngestionRunFactory(source=stale, started_at=NOW - datetime.timedelta(days=10))
    pf.IngestionRunFactory(source=stale, started_at=NOW - datetime.timedelta(hours=5), status="failed")
    fresh = pf.DataSourceFactory(slug="orange-tax-sales", enabled=True)
    pf.IngestionRunFactory(source=fresh, started_at=NOW - datetime.timedelta(days=1))
    pf.DataSourceFactory(slug="switched-off", enabled=False)


def test_finds_every_seeded_defect_with_exact_counts(defects, settings):
    settings.COUNTY_EXTENT = (-81.66, 28.34, -80.86, 28.79)

    report = quality_report_create(now=NOW)

    assert report.findings == [
        {
            "check": "no_address",
            "severity": "warning",
            "count": 1,
            "message": "1 active properties have no address",
            "sample": ["NOADDR"],
        },
        {
            "check": "no_point",
            "severity": "warning",
            "count": 1,
            "message": "1 active properties have no point",
            "sample": ["NOPOINT"],
        },
        {
            "check": "no_valuation",
            "severity": "warning",
            "count": 1,
            "message": "1 active properties have no valuation",
            "sample": ["FAR"],
        },
        {
            "check": "records_of_inactive_properties",
            "severity": "warning",
            "count": 3,
            "message": "3 records belong to inactive (soft-deleted) properties",
            "sample": ["tax_sales: 1", "code_violations: 2"],
        },
        {
            "check": "duplicate_addresses",
            "severity": "warning",
            "count": 2,
            "message": "2 active properties share an address and zip with another parcel",
            "sample": ["9 OAK ST, ORLANDO, FL 32801 (2)"],
        },
        {
            "check": "outside_county",
            "severity": "warning",
            "count": 1,
            "message": "1 points lie outside the county extent -81.66,28.34,-80.86,28.79",
            "sample": ["FAR"],
        },
        {
            "check": "stale_sources",
            "severity": "error",
            "count": 1,
            "message": "1 enabled sources have had no successful run in 3 days",
            "sample": ["orange-parcels"],
        },
    ]
    assert (report.status, report.warnings, report.errors, report.created_at) == ("error", 6, 1, NOW)
    assert report.counts == {
        "properties": 8,
        "active_properties": 7,
        "tax_sales": 1,
        "foreclosures": 0,
        "valuations": 6,
        "tax_delinquencies": 0,
        "code_violations": 2,
        "listings": 0,
        "price_changes": 0,
        "data_sources": 12,
        "ingestion_runs": 3,
    }


def test_stale_window_and_extra_checks(defects):
    report = quality_report_create(stale_days=30, now=NOW, extra_counts={"leads": 4}, extra_checks=[list])
    assert "stale_sources" not in [f["check"] for f in report.findings]
    assert (report.status, report.errors, report.counts["leads"]) == ("warning", 0, 4)


def test_clean_data_is_ok(db):
    pf.ValuationFactory(property=pf.PropertyFactory())
    report = quality_report_create(now=NOW)
    assert (report.status, report.findings, report.warnings, report.errors) == ("ok", [], 0, 0)
    assert QualityReport.objects.count() == 1
