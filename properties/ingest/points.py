"""Where each record of a batch is, as a WGS84 (longitude, latitude) pair that is really one.

The point is the reader's geometry (ArcGIS, GeoJSON, Socrata location columns, already in SRID 4326), else the
mapped x/y in the mapping's EPSG system (transformed with GDAL, the whole batch in one call), else the mapped
longitude/latitude. A point outside WGS84's ranges (metres taken for degrees), at (0, 0), or that GDAL cannot
transform is no point: the record loads unplaced and the problem is told, so a stored point is never
overwritten with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .base import RawRecord
from .esri_geometry import ArcGISError, coord_transform, wgs84_xys
from .mapping import BAD, BLANK, FILLED, FieldMapping

XY = tuple[float, float]


@dataclass(frozen=True)
class Placed:
    xy: XY | None  # rounded to 7 decimals (about 1 cm)
    flag: str  # FILLED, BLANK (no coordinates) or BAD (coordinates that are no place)
    problem: str | None = None


NOWHERE = Placed(None, BLANK)


def implausible(xy: XY) -> str | None:
    """Why (x, y) is not a WGS84 longitude/latitude, or None when it is one."""
    x, y = xy
    if not (math.isfinite(x) and math.isfinite(y)):
        return "coordinates are not numbers"
    if not (-180 <= x <= 180 and -90 <= y <= 90):
        return f"({x:.6g}, {y:.6g}) is not a longitude/latitude (projected coordinates? name their EPSG)"
    if x == 0 and y == 0:
        return "(0, 0) is no place (a blank point)"
    return None


def _placed(xy: XY | None) -> Placed:
    if xy is None:
        return NOWHERE
    problem = implausible(xy)
    if problem:
        return Placed(None, BAD, f"{problem}: loaded without a location")
    return Placed((round(xy[0], 7), round(xy[1], 7)), FILLED)


def batch_points(records: list[RawRecord], rows: list[dict | None], mapping: FieldMapping) -> list[Placed]:
    """A Placed per record (rows[i] is record i's mapped values, None when it was not mapped)."""
    placed: list[Placed | None] = [None] * len(records)
    projected: list[tuple[int, XY]] = []
    for i, (record, row) in enumerate(zip(records, rows, strict=True)):
        if row is None:
            placed[i] = NOWHERE
        elif record.geometry is not None or record.xy is not None:
            placed[i] = _placed(record.xy or _geometry_xy(record))
        elif row.get("x") is not None and row.get("y") is not None:
            if mapping.epsg is None:
                placed[i] = _placed((row["x"], row["y"]))
            else:
                projected.append((i, (row["x"], row["y"])))
        elif row.get("longitude") is not None and row.get("latitude") is not None:
            placed[i] = _placed((row["longitude"], row["latitude"]))
        else:
            placed[i] = NOWHERE
    if projected:
        for (i, _), result in zip(projected, _transform([xy for _, xy in projected], mapping.epsg), strict=True):
            placed[i] = result
    return placed  # type: ignore[return-value]


def _geometry_xy(record: RawRecord) -> XY | None:
    geometry = record.geometry
    point = geometry if geometry.geom_type == "Point" else geometry.point_on_surface
    return point.coords[:2]


def _transform(xys: list[XY], epsg: int) -> list[Placed]:
    """The points from EPSG:`epsg` to WGS84 in one GDAL call; one at a time when the batch cannot go in one."""
    transform = coord_transform({"wkid": epsg})
    try:
        return [_placed(xy) for xy in wgs84_xys(xys, transform)]  # the mapping gave finite numbers only
    except ArcGISError:
        return [_transform_one(xy, transform) for xy in xys]


def _transform_one(xy: XY, transform) -> Placed:
    try:
        (moved,) = wgs84_xys([xy], transform)
    except ArcGISError:
        return Placed(
            None, BAD, f"({xy[0]:.6g}, {xy[1]:.6g}) cannot be transformed to WGS84: loaded without a location"
        )
    return _placed(moved)
