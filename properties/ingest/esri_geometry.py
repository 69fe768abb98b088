"""Esri and GeoJSON geometry to WGS84 points: spatial references (WKID or WKT) and their GDAL transforms, a
point on the surface for polygons, Esri JSON geometry read with arcgis2geojson. Used by every reader."""

from __future__ import annotations

import functools
import math
import re

from arcgis2geojson import arcgis2geojson
from django.contrib.gis.gdal import CoordTransform, GDALException, OGRGeometry, SpatialReference, SRSException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point

XY = tuple[float, float]
WGS84 = 4326


class ArcGISError(ValueError):
    """An ArcGIS `{"error": ...}` body or an answer that is not a usable query result (an unusable spatial
    reference too)."""


@functools.lru_cache(maxsize=64)
def _transform_to_wgs84(key: int | str) -> CoordTransform:
    try:
        source = SpatialReference(key)
    except (GDALException, SRSException):
        if not isinstance(key, int):
            raise
        source = SpatialReference(f"ESRI:{key}")  # esri-only wkids such as 102729
    if not (source.projected or source.geographic):
        raise GDALException("neither a projected nor a geographic coordinate system")
    return CoordTransform(source, SpatialReference(WGS84))


def spatial_reference_label(spatial_reference: dict | None) -> str:
    """How a message names a spatial reference: "WKID 2272" or the WKT's name ("WKT 'Local grid'")."""
    sr = spatial_reference or {}
    wkid = sr.get("latestWkid") or sr.get("wkid")
    if wkid is not None:
        return f"WKID {wkid}"
    wkt = str(sr.get("wkt") or "")
    name = re.search(r'^\s*\w+\s*\[\s*"([^"]*)"', wkt)
    return f"WKT {name.group(1)!r}" if name else f"WKT {wkt[:60]!r}" if wkt else "an empty spatial reference"


def coord_transform(spatial_reference: dict | None) -> CoordTransform | None:
    """The transform from an esri `spatialReference` to WGS84, or None when it already is (or is absent).

    An unsupported one (unknown WKID, unreadable WKT, a local or vertical system) is an ArcGISError naming it.
    """
    sr = spatial_reference or {}
    key = sr.get("latestWkid") or sr.get("wkid") or sr.get("wkt")
    if key in (None, WGS84):
        return None
    if isinstance(key, float) and key.is_integer():
        key = int(key)
    try:
        return _transform_to_wgs84(key)
    except (GDALException, SRSException, TypeError, ValueError) as exc:
        raise ArcGISError(
            f"unsupported coordinate system {spatial_reference_label(sr)}: it cannot be converted to longitude/latitude"
            f" ({exc})"
        ) from None


def looks_like_degrees(xys: list[XY | None]) -> bool:
    """Every (x, y) is a plausible longitude/latitude (and there is at least one)."""
    points = [xy for xy in xys if xy]
    return bool(points) and all(-180 <= x <= 180 and -90 <= y <= 90 for x, y in points)


def page_spatial_reference(data: dict, layer_reference: dict | None, xys: list[XY | None]) -> dict | None:
    """The spatial reference a query answer's coordinates are in: the answer's own; else, when the answer
    names none, the layer's (a server that ignored outSR answers in the layer's system), unless every point
    already reads as longitude/latitude (a server that honoured outSR but left the answer's reference out)."""
    if data.get("spatialReference"):
        return data["spatialReference"]
    return None if looks_like_degrees(xys) else layer_reference


def _representative_xy(geometry: GEOSGeometry) -> XY | None:
    """A point for any geometry: itself for a point, else a point on its surface (lines, multipoints too)."""
    if geometry.empty:
        return None
    if geometry.geom_type != "Point":
        try:
            geometry = geometry.point_on_surface
        except GEOSException:  # invalid (self-intersecting) rings
            geometry = geometry.centroid
    return geometry.x, geometry.y


def geojson_xy(geojson: dict) -> XY | None:
    """A GeoJSON geometry's representative (x, y); None when it is empty or malformed (the record loads unplaced)."""
    try:
        wkt = _wkt(geojson.get("type"), geojson.get("coordinates"))
        return _representative_xy(GEOSGeometry(wkt)) if wkt else None
    except (GEOSException, ValueError, TypeError, IndexError):
        return None


def geojson_point(geojson: dict) -> Point | None:
    xy = geojson_xy(geojson)
    return Point(*xy, srid=WGS84) if xy else None


def esri_xy(geometry: dict | None) -> XY | None:
    """The representative (x, y) of an esri JSON geometry, in its own spatial reference."""
    if not geometry:
        return None
    if "x" in geometry:  # points, the common case, without a detour through GEOS
        try:
            x, y = float(geometry["x"]), float(geometry["y"])
        except (TypeError, ValueError, KeyError):
            return None
        return (x, y) if math.isfinite(x) and math.isfinite(y) else None
    return geojson_xy(arcgis2geojson(geometry))


def wgs84_xys(xys: list[XY | None], transform: CoordTransform | None) -> list[XY | None]:
    """(x, y) pairs as float pairs in SRID 4326, transformed with one GDAL call for the whole list."""
    if transform is not None and any(xys):
        multipoint = OGRGeometry(_wkt("MultiPoint", [xy for xy in xys if xy]))
        try:
            multipoint.transform(transform)
        except GDALException as exc:
            raise ArcGISError(f"cannot transform coordinates to WGS84: {exc}") from exc
        moved = iter(multipoint.coords)
        xys = [next(moved) if xy else None for xy in xys]
    return [(float(xy[0]), float(xy[1])) if xy else None for xy in xys]


def esri_point(geometry: dict | None, transform: CoordTransform | None = None) -> Point | None:
    """An esri JSON geometry as a SRID 4326 point; None for null or empty geometry."""
    xy = wgs84_xys([esri_xy(geometry)], transform)[0]
    return Point(*xy, srid=WGS84) if xy else None


def _wkt(kind: str | None, coordinates: list) -> str | None:
    """WKT (2D) for a GeoJSON geometry type and its coordinates; None when empty."""

    def seq(points: list) -> str:
        return "(" + ", ".join(f"{float(p[0])!r} {float(p[1])!r}" for p in points) + ")"

    if not coordinates:
        return None
    writers = {
        "Point": lambda c: seq([c]),
        "MultiPoint": seq,
        "LineString": seq,
        "MultiLineString": lambda c: "(" + ", ".join(map(seq, c)) + ")",
        "Polygon": lambda c: "(" + ", ".join(map(seq, c)) + ")",
        "MultiPolygon": lambda c: "(" + ", ".join("(" + ", ".join(map(seq, p)) + ")" for p in c) + ")",
    }
    if kind not in writers:
        raise ValueError(f"unsupported geometry type {kind!r}")
    return f"{kind.upper()} {writers[kind](coordinates)}"
