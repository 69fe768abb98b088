import datetime

import factory
from django.contrib.gis.geos import Point
from factory.django import DjangoModelFactory

from properties import models

# Downtown Orlando; factories spread points around it.
ORLANDO = (-81.3789, 28.5384)


def point_near(n: int) -> Point:
    return Point(ORLANDO[0] + (n % 50) * 0.002, ORLANDO[1] + (n // 50 % 50) * 0.002, srid=4326)


class DataSourceFactory(DjangoModelFactory):
    class Meta:
        model = models.DataSource
        django_get_or_create = ("slug",)

    name = factory.Sequence(lambda n: f"Source {n}")
    slug = factory.Sequence(lambda n: f"source-{n}")
    kind = models.DataSource.Kind.ARCGIS
    dataset = models.DataSource.Dataset.PARCELS
    url = factory.Sequence(lambda n: f"https://gis.example.test/arcgis/rest/services/Layer{n}/FeatureServer/0")
    field_mapping = factory.LazyFunction(lambda: {"parcel_id": "PARCEL"})
    county = "Orange"


class IngestionRunFactory(DjangoModelFactory):
    class Meta:
        model = models.IngestionRun

    source = factory.SubFactory(DataSourceFactory)
    source_label = factory.LazyAttribute(lambda o: o.source.name)
    dataset = factory.LazyAttribute(lambda o: o.source.dataset)
    status = models.IngestionRun.Status.SUCCESS
    processed = 10
    inserted = 10


class PropertyFactory(DjangoModelFactory):
    class Meta:
        model = models.Property

    parcel_id = factory.Sequence(lambda n: f"2922288850{n:05d}")
    parcel_id_raw = factory.LazyAttribute(lambda o: o.parcel_id)
    county = "Orange"
    street = factory.Sequence(lambda n: f"{100 + n} MAIN ST")
    city = "ORLANDO"
    state = "FL"
    zip = "32801"
    address_raw = factory.LazyAttribute(lambda o: f"{o.street}, {o.city}, {o.state} {o.zip}")
    address_normalized = factory.LazyAttribute(lambda o: f"{o.street}, {o.city}, {o.state} {o.zip}")
    location = factory.Sequence(point_near)
    owner_name = factory.Faker("name")
    owner_mailing_address = factory.LazyAttribute(lambda o: o.address_normalized)
    property_type = models.PropertyType.SFR
    beds = 3
    baths = 2
    living_sqft = 1500
    lot_sqft = 7000
    year_built = 1985


class PropertySourceFactory(DjangoModelFactory):
    class Meta:
        model = models.PropertySource

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory)
    external_id = factory.Sequence(str)


class TaxSaleFactory(DjangoModelFactory):
    class Meta:
        model = models.TaxSale

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=models.DataSource.Dataset.TAX_SALES)
    external_id = factory.Sequence(lambda n: f"TS{n}")
    tda_number = factory.Sequence(lambda n: f"2023-{4000 + n}")
    sale_date = factory.Faker("date_between", start_date="+5d", end_date="+60d")
    deed_status = "Active"
    opening_bid = 12500
    raw = factory.LazyAttribute(lambda o: {"USER_TDA_NUM": o.tda_number})


class ForeclosureFactory(DjangoModelFactory):
    class Meta:
        model = models.Foreclosure

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=models.DataSource.Dataset.FORECLOSURES)
    external_id = factory.Sequence(lambda n: f"FC{n}")
    case_number = factory.Sequence(lambda n: f"2024-CA-{n:06d}-O")
    borrower = factory.Faker("name")
    lender = "First National Bank"
    status = "Scheduled"
    default_amount = 85000
    filing_date = factory.Faker("date_between", start_date="-120d", end_date="-10d")
    auction_date = factory.Faker("date_between", start_date="+10d", end_date="+90d")


class ValuationFactory(DjangoModelFactory):
    class Meta:
        model = models.Valuation

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=models.DataSource.Dataset.VALUATIONS)
    external_id = factory.Sequence(lambda n: f"VAL{n}")
    tax_year = 2026
    market_value = 250000
    assessed_value = 210000
    taxable_value = 200000
    annual_taxes = 4200
    last_sale_price = 120000
    last_sale_date = factory.Faker("date_between", start_date="-20y", end_date="-5y")
    equity_percent = 52
    tax_rate = "0.02100"


class TaxDelinquencyFactory(DjangoModelFactory):
    class Meta:
        model = models.TaxDelinquency

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=models.DataSource.Dataset.TAX_DELINQUENCIES)
    external_id = factory.Sequence(lambda n: f"DELQ{n}")
    tax_year = 2024
    amount_owed = 1850
    is_open = True


class CodeViolationFactory(DjangoModelFactory):
    class Meta:
        model = models.CodeViolation

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=models.DataSource.Dataset.CODE_VIOLATIONS)
    case_number = factory.Sequence(lambda n: f"CE{n:07d}")
    external_id = factory.LazyAttribute(lambda o: o.case_number)
    violation_type = "Overgrown lot"
    status = "Open"
    opened_at = factory.Faker("date_between", start_date="-200d", end_date="-1d")
    location = factory.LazyAttribute(lambda o: o.property.location)


class ListingFactory(DjangoModelFactory):
    class Meta:
        model = models.Listing

    property = factory.SubFactory(PropertyFactory)
    source = factory.SubFactory(DataSourceFactory, dataset=models.DataSource.Dataset.LISTINGS, kind="file")
    external_id = factory.Sequence(lambda n: f"MLS{n:07d}")
    list_price = 199000
    status = models.Listing.Status.ACTIVE
    days_on_market = 45
    listed_at = factory.Faker("date_between", start_date="-90d", end_date="-1d")
    url = factory.LazyAttribute(lambda o: f"https://listings.example.test/{o.external_id}")


class PriceChangeFactory(DjangoModelFactory):
    class Meta:
        model = models.PriceChange

    listing = factory.SubFactory(ListingFactory)
    old_price = 215000
    new_price = 199000
    changed_at = factory.Faker("date_time_between", start_date="-30d", end_date="now", tzinfo=datetime.UTC)


class GeocodeCacheFactory(DjangoModelFactory):
    class Meta:
        model = models.GeocodeCache

    address_key = factory.Sequence(lambda n: f"{n} ELM ST, ORLANDO, FL 32801")
    status = "Match"
    location = factory.Sequence(point_near)


class QualityReportFactory(DjangoModelFactory):
    class Meta:
        model = models.QualityReport

    status = models.QualityReport.Status.WARNING
    counts = factory.LazyFunction(lambda: {"properties": 10})
    findings = factory.LazyFunction(
        lambda: [{"check": "no_point", "severity": "warning", "count": 2, "message": "2 properties have no point"}]
    )
    warnings = 1
