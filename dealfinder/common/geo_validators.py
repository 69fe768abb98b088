"""Checks for geometries drawn, posted or imported from outside (buy boxes, map selections): WGS 84 lon/lat
within range, 2D, not empty, valid, and bounded in size. Each raises a ValidationError saying what to fix,
which the admin, the API (400) and the buyer import (a row error) show as it is."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.text import capfirst


def check_lon_lat(geometry, *, what: str) -> None:
    """WGS 84 longitude/latitude in range, 2D, not empty. Checked first: GEOS's WKT writer (used for SpatiaLite
    queries) aborts the whole process on coordinates such as 1e308."""
    if geometry.empty:
        raise ValidationError(f"{capfirst(what)} is empty.", code="empty")
    if geometry.hasz:
        raise ValidationError(f"{capfirst(what)} must be 2D: longitude, latitude.", code="3d")
    min_lon, min_lat, max_lon, max_lat = geometry.extent
    in_range = -180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90
    if geometry.srid not in (None, 4326) or not in_range:
        raise ValidationError(
            f"{capfirst(what)} must be in WGS 84 longitude/latitude (longitude -180..180, latitude -90..90, "
            "e.g. -81.38, 28.54).",
            code="not_wgs84",
        )


def check_area(geometry, *, what: str, max_vertices: int, max_span_degrees: float) -> None:
    """check_lon_lat, then at most `max_vertices` vertices, a valid polygon, at most `max_span_degrees` wide and
    tall. The vertex count comes first: it is read without looking at the shape."""
    vertices = geometry.num_coords
    if vertices > max_vertices:
        raise ValidationError(
            f"{capfirst(what)} has {vertices:,} vertices; at most {max_vertices:,} are allowed. Simplify the shape.",
            code="too_many_vertices",
        )
    check_lon_lat(geometry, what=what)
    if not geometry.valid:
        raise ValidationError(f"{capfirst(what)} is not a valid polygon: {geometry.valid_reason}.", code="invalid")
    min_lon, min_lat, max_lon, max_lat = geometry.extent
    width, height = max_lon - min_lon, max_lat - min_lat
    if width > max_span_degrees or height > max_span_degrees:
        raise ValidationError(
            f"{capfirst(what)} spans {width:.2f}° x {height:.2f}°; at most {max_span_degrees:g}° each way are allowed "
            "(use zips or several buyers for a wider market).",
            code="too_wide",
        )
