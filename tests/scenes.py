"""Scenes for tests, built from tests/factories.py: a lead at a point, buyers who look by area, zip or radius."""

from django.contrib.gis.geos import Point

from tests import factories


def area_buyer(**kwargs) -> factories.bm.Buyer:
    """A buyer whose only location criterion is a drawn target area (default: a square around Orlando)."""
    return factories.BuyerFactory(**{"target_zips": [], "center": None, "radius_miles": None, **kwargs})


def zip_buyer(zips, **kwargs) -> factories.bm.Buyer:
    return factories.BuyerFactory(
        **{"target_area": None, "target_zips": zips, "center": None, "radius_miles": None, **kwargs}
    )


def radius_buyer(center, miles, **kwargs) -> factories.bm.Buyer:
    point = Point(*center, srid=4326)
    return factories.BuyerFactory(
        **{"target_area": None, "target_zips": [], "center": point, "radius_miles": miles, **kwargs}
    )


def lead_at(lon, lat, zip_="32801", **lead_kwargs):
    """A lead whose property sits at (lon, lat); `property={...}` passes fields to the property."""
    prop = factories.PropertyFactory(location=Point(lon, lat, srid=4326), zip=zip_, **lead_kwargs.pop("property", {}))
    return factories.LeadFactory(property=prop, **lead_kwargs)
