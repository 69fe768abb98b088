import factory
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from factory.django import DjangoModelFactory

from buyers import models
from tests.leads.factories import LeadFactory
from tests.properties.factories import ORLANDO, PropertyFactory


def square(center=ORLANDO, half=0.05) -> MultiPolygon:
    x, y = center
    ring = (
        (x - half, y - half),
        (x + half, y - half),
        (x + half, y + half),
        (x - half, y + half),
        (x - half, y - half),
    )
    return MultiPolygon(Polygon(ring), srid=4326)


class BuyerFactory(DjangoModelFactory):
    class Meta:
        model = models.Buyer

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    company = factory.Faker("company")
    email = factory.Sequence(lambda n: f"buyer{n}@example.test")
    phone = factory.Sequence(lambda n: f"+1407555{n:04d}")
    tags = factory.LazyFunction(lambda: ["cash-buyer"])
    min_price = 50000
    max_price = 300000
    property_types = factory.LazyFunction(lambda: ["sfr", "townhouse"])
    min_beds = 2
    target_area = factory.LazyFunction(square)
    target_zips = factory.LazyFunction(lambda: ["32801", "32805"])
    center = factory.LazyFunction(lambda: Point(*ORLANDO, srid=4326))
    radius_miles = 10
    strategies = factory.LazyFunction(lambda: ["flip"])
    cash_buyer = True
    proof_of_funds = True


class PropertyMatchFactory(DjangoModelFactory):
    class Meta:
        model = models.PropertyMatch

    property = factory.SubFactory(PropertyFactory)
    buyer = factory.SubFactory(BuyerFactory)
    score = 85
    reasons = factory.LazyFunction(lambda: ["Inside the buyer's target area (+40)"])


class MatchingProfileFactory(DjangoModelFactory):
    class Meta:
        model = models.MatchingProfile
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Matching {n}")
    is_active = False


def area_buyer(**kwargs) -> models.Buyer:
    """A buyer whose only location criterion is a drawn target area (default: a square around Orlando)."""
    return BuyerFactory(**{"target_zips": [], "center": None, "radius_miles": None, **kwargs})


def zip_buyer(zips, **kwargs) -> models.Buyer:
    return BuyerFactory(**{"target_area": None, "target_zips": zips, "center": None, "radius_miles": None, **kwargs})


def radius_buyer(center, miles, **kwargs) -> models.Buyer:
    point = Point(*center, srid=4326)
    return BuyerFactory(**{"target_area": None, "target_zips": [], "center": point, "radius_miles": miles, **kwargs})


def lead_at(lon, lat, zip_="32801", **lead_kwargs):
    """A lead whose property sits at (lon, lat); `property={...}` passes fields to the property."""
    prop = PropertyFactory(location=Point(lon, lat, srid=4326), zip=zip_, **lead_kwargs.pop("property", {}))
    return LeadFactory(property=prop, **lead_kwargs)
