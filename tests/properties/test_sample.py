import datetime as dt

import pytest
from django.db.models import Count
from django.utils import timezone

from properties import models as m
from properties.ingest.mapping import FieldMapping
from properties.sample import sample_county_ingest
from properties.services import datasources_create_defaults, properties_enrich

pytestmark = pytest.mark.django_db

EXPECTED = [
    ("sample-parcels", 303),
    ("sample-tax-sales", 44),
    ("sample-foreclosures", 34),
    ("sample-code-violations", 68),
    ("sample-listings", 41),
    ("sample-sales", 213),
]


def table_counts():
    return [
        model.objects.count()
        for model in (m.Property, m.PropertySource, m.Valuation, m.TaxSale, m.Foreclosure, m.CodeViolation, m.Listing)
    ] + [m.PriceChange.objects.count()]


def test_sample_county_loads_through_the_loader_twice_identically():
    first = sample_county_ingest()
    assert [(r.source.slug, r.status, r.processed, r.inserted, r.failed) for r in first] == [
        (slug, "success", n, n, 0) for slug, n in EXPECTED
    ]
    after_first = table_counts()
    assert after_first == [304, 703, 303, 44, 34, 68, 41, 30]  # provenance: 213 recorded deeds more

    second = sample_county_ingest()
    assert [(r.status, r.processed, r.inserted, r.updated, r.unchanged) for r in second] == [
        ("success", n, 0, 0, n) for _, n in EXPECTED
    ]
    assert table_counts() == after_first
    assert m.DataSource.objects.filter(slug__startswith="sample-", enabled=True, kind="file").count() == 6


def test_sample_county_is_current_stacked_and_deduped():
    sample_county_ingest()
    today = timezone.localdate()
    sale_dates = list(m.TaxSale.objects.values_list("sale_date", flat=True))
    assert min(sale_dates) >= today + dt.timedelta(days=5)
    assert max(sale_dates) <= today + dt.timedelta(days=60)
    stacked = m.Property.objects.annotate(
        signals=Count("tax_sales", distinct=True) + Count("foreclosures", distinct=True)
        + Count("code_violations", distinct=True) + Count("listings", distinct=True)
    )  # fmt: skip
    assert stacked.filter(signals__gte=3).count() >= 10
    assert stacked.filter(signals=0).count() >= 100
    assert m.Property.objects.filter(is_absentee=True).count() > 50

    summary = properties_enrich()
    assert (summary.dedupe.groups, summary.dedupe.merged) == (3, 3)
    assert summary.geocode.skipped is True
    assert m.Property.objects.filter(is_active=True).count() == 301
    again = sample_county_ingest()
    assert {r.status for r in again} == {"success"}
    assert sum(r.inserted + r.updated for r in again) == 0
    assert properties_enrich().dedupe.merged == 0


def test_default_orange_county_sources_are_disabled_and_idempotent():
    first = datasources_create_defaults()
    second = datasources_create_defaults()
    assert [s.pk for s in first] == [s.pk for s in second]
    assert sorted(m.DataSource.objects.values_list("slug", "enabled", "parcel_format")) == [
        ("orange-fl-appraiser-parcels", False, "orange_fl"),
        ("orange-fl-tax-deed-sales", False, "orange_fl"),
        ("orlando-code-enforcement", False, "orange_fl"),
    ]
    for source in first:
        assert FieldMapping.from_config(source.dataset, source.field_mapping).dataset == source.dataset
