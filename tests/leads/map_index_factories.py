"""Factories for the map index models (leads.grid). To move into tests/leads/factories.py, where
tests/dealfinder/test_admin.py looks for a factory of every model."""

import factory
from django.contrib.gis.geos import Point
from django.utils import timezone
from factory.django import DjangoModelFactory

from leads import models
from tests.leads.factories import LeadFactory


class MapPointFactory(DjangoModelFactory):
    class Meta:
        model = models.MapPoint

    lead = factory.SubFactory(LeadFactory)
    location = factory.LazyAttribute(lambda o: o.lead.property.location or Point(-81.3789, 28.5384, srid=4326))
    tier = factory.LazyAttribute(lambda o: o.lead.tier)
    total = factory.LazyAttribute(lambda o: o.lead.total)


class MapGridCellFactory(DjangoModelFactory):
    class Meta:
        model = models.MapGridCell

    level = 12
    cx = factory.Sequence(lambda n: -3704 + n)
    cy = 1298
    tier = "A"
    n = 2
    sum_lon = -162.75
    sum_lat = 57.08


class MapGridStateFactory(DjangoModelFactory):
    class Meta:
        model = models.MapGridState

    built_at = factory.LazyFunction(timezone.now)
    max_lead_id = None
