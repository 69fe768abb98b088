"""ArcGIS REST layer client (`.../FeatureServer/N`, `.../MapServer/N`) and its reader.

Pages by object ids (`returnIdsOnly`, then POSTed `objectIds` chunks no larger than the
layer's `maxRecordCount`); falls back to `resultOffset` paging ordered by the object id.
Error bodies (`{"error": {...}}`, often with HTTP 200) are errors. Geometry comes back as a
SRID 4326 point (a point on the surface for polygons), transformed with GDAL when the server
answered in another spatial reference; esri date fields become aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import math
import re
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from arcgis2geojson import arcgis2geojson
from django.contrib.gis.gdal import CoordTransform, GDALException, OGRGeometry, SpatialReference, SRSException
from django.contrib.gis.geos import GEOSException, GEOSGeometry, Point

from properties.ingest.base import Page, RawRecord, SourceError
from properties.ingest.http import PAGE_ERRORS, RETRY_WAIT, describe_error, http_client, offset_pages, send
from properties.ingest.schema import SourceField, SourceSchema
from properties.ingest.urls import arcgis_url

DEFAULT_MAX_RECORD_COUNT = 1000  # ArcGIS Server's default when the layer does not say
WGS84 = 4326
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DATE_TYPES = {"esriFieldTypeDate"}
XY = tuple[float, float]


class ArcGISError(ValueError):
    """An ArcGIS `{"error": ...}` body or an answer that is not a usable query result."""


@dataclass(frozen=True)
class LayerMetadata:
    name: str
    max_record_count: int
    object_id_field: str | None
    supports_pagination: bool
    fields: dict[str, str]  # field name -> esri field type
    geometry_type: str | None
    spatial_reference: dict | None  # the layer's own (its data's) spatial reference
    aliases: dict[str, str] = field(default_factory=dict)  # field name -> alias, where it differs
    edit_date_field: str | None = None  # editor tracking: the field holding each feature's last edit
    last_edit_date: dt.datetime | None = None  # editor tracking: the layer's last edit
    layers: tuple[dict, ...] | None = None  # a service root: its layers and tables ({id, name, type, geometry_type})

    @classmethod
    def from_json(cls, data: dict) -> LayerMetadata:
        fields = {f["name"]: f.get("type", "") for f in data.get("fields") or []}
        oid = data.get("objectIdField") or next((n for n, t in fields.items() if t == "esriFieldTypeOID"), None)
        editing = data.get("editingInfo") or {}
        last_edit = esri_date(editing.get("lastEditDate") or editing.get("dataLastEditDate"))
        is_root = "fields" not in data and isinstance(data.get("layers"), list)
        return cls(
            name=data.get("name") or data.get("mapName") or data.get("serviceDescription") or "",
            max_record_count=int(data.get("maxRecordCount") or DEFAULT_MAX_RECORD_COUNT),
            object_id_field=oid,
            supports_pagination=bool((data.get("advancedQueryCapabilities") or {}).get("supportsPagination")),
            fields=fields,
            geometry_type=data.get("geometryType"),
            spatial_reference=data.get("sourceSpatialReference")
            or (data.get("extent") or {}).get("spatialReference")
            or data.get("spatialReference"),
            aliases={f["name"]: f["alias"] for f in data.get("fields") or [] if f.get("alias", f["name"]) != f["name"]},
            edit_date_field=(data.get("editFieldsInfo") or {}).get("editDateField") or None,
            last_edit_date=last_edit if isinstance(last_edit, dt.datetime) else None,
            layers=tuple(_layer_entries(data)) if is_root else None,
        )


def _layer_entries(data: dict):
    for kind, entries in (("layer", data.get("layers") or []), ("table", data.get("tables") or [])):
        for entry in entries:
            if isinstance(entry, dict) and "id" in entry:
                yield {
                    "id": entry["id"],
                    "name": entry.get("name", ""),
                    "type": entry.get("type") or kind,
                    "geometry_type": entry.get("geometryType"),
                }


class ArcGISClient:
    """One ArcGIS layer. `http` is an httpx.Client to share; otherwise the client makes (and closes) its own."""

    def __init__(
        self,
        url: str,
        *,
        where: str = "1=1",
        page_size: int | None = None,
        out_fields: str = "*",
        timeout: float | None = None,
        http: httpx.Client | None = None,
        retry_wait: float = RETRY_WAIT,
    ):
        self.url = arcgis_url(url).rstrip("/")
        self.where = where or "1=1"
        self.page_size = page_size
        self.out_fields = out_fields
        self.timeout = timeout
        self.retry_wait = retry_wait
        self._http = http
        self._owns_http = http is None
        self._metadata: LayerMetadata | None = None
        self._ids_oid_field: str | None = None

    # --- HTTP -----------------------------------------------------------------------
    @property
    def http(self) -> httpx.Client:
        if self._http is None or self._http.is_closed:
            self._http = http_client()
        return self._http

    def close(self) -> None:
        if self._owns_http and self._http is not None:
            self._http.close()

    def _json(self, method: str, url: str, **kwargs) -> dict:
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        response = send(self.http, method, url, retry_wait=self.retry_wait, **kwargs)
        data = json.loads(response.content)
        if not isinstance(data, dict):
            raise ArcGISError(f"unexpected answer from {url}: {type(data).__name__}")
        if "error" in data:
            error = data["error"] or {}
            details = "; ".join(str(d) for d in error.get("details") or [])
            message = f"ArcGIS error {error.get('code')}: {error.get('message')}"
            raise ArcGISError(f"{message} ({details})" if details else message)
        return data

    def _query(self, **params) -> dict:
        return self._json("POST", f"{self.url}/query", data={"f": "json", **params})

    # --- Layer ----------------------------------------------------------------------
    def metadata(self) -> LayerMetadata:
        """The layer's (or a service root's) description (`?f=json`); SourceError when it cannot be read."""
        if self._metadata is None:
            try:
                self._metadata = LayerMetadata.from_json(self._json("GET", self.url, params={"f": "json"}))
            except PAGE_ERRORS as exc:
                raise SourceError(f"cannot read ArcGIS layer metadata at {self.url}: {describe_error(exc)}") from exc
        return self._metadata

    def layer_metadata(self) -> LayerMetadata:
        """metadata(), refusing a service root with the list of its layers to pick from."""
        metadata = self.metadata()
        if metadata.layers is not None:
            choices = "; ".join(f"{self.url}/{e['id']} ({e['name'] or e['type']})" for e in metadata.layers[:30])
            raise SourceError(
                f"{self.url} is an ArcGIS service, not a layer: add the layer's number to the URL"
                + (f": {choices}" if choices else " (the service lists no layers)")
            )
        return metadata

    def schema(self) -> SourceSchema:
        metadata = self.layer_metadata()
        return SourceSchema(
            tuple(SourceField(n, t, metadata.aliases.get(n, "")) for n, t in metadata.fields.items()),
        )

    @property
    def chunk_size(self) -> int:
        limit = self.metadata().max_record_count
        return min(limit, self.page_size) if self.page_size else limit

    @property
    def object_id_field(self) -> str | None:
        return self.metadata().object_id_field or self._ids_oid_field

    def count(self) -> int | None:
        """How many features match `where` (None when the server will not say)."""
        try:
            data = self._query(where=self.where, returnCountOnly="true")
        except PAGE_ERRORS:
            return None
        return data.get("count") if isinstance(data.get("count"), int) else None

    def sample(self, size: int) -> dict:
        """The first `size` features' query answer (by offset when the layer pages, else by object id)."""
        if self.metadata().supports_pagination and self.object_id_field:
            return self.query_offset(0, min(size, self.chunk_size))
        ids = self.object_ids() or []
        return self.query_ids(ids[: min(size, self.chunk_size)]) if ids else {"features": []}

    def object_ids(self) -> list[int] | None:
        """Sorted object ids matching `where`, or None when the server cannot list them."""
        try:
            data = self._query(where=self.where, returnIdsOnly="true")
        except PAGE_ERRORS:
            return None
        if "objectIds" not in data:
            return None
        self._ids_oid_field = data.get("objectIdFieldName")
        return sorted(int(i) for i in data["objectIds"] or [])  # some servers send ids as doubles (6.4579816E7)

    def query_ids(self, ids: list[int]) -> dict:
        return self._query(
            objectIds=",".join(map(str, ids)),
            outFields=self.out_fields,
            outSR=WGS84,
            returnGeometry="true",
        )

    def query_offset(self, offset: int, count: int) -> dict:
        return self._query(
            where=self.where,
            outFields=self.out_fields,
            outSR=WGS84,
            returnGeometry="true",
            orderByFields=f"{self.object_id_field} ASC",
            resultOffset=offset,
            resultRecordCount=count,
        )

    def records(self, data: dict) -> list[RawRecord]:
        """A query answer's features as RawRecords (dates converted, geometry as a 4326 point)."""
        if not isinstance(data.get("features"), list):
            raise ArcGISError("query answer without a features list")
        oid = data.get("objectIdFieldName") or self.object_id_field
        field_types = {**self.metadata().fields, **{f["name"]: f.get("type", "") for f in data.get("fields") or []}}
        date_fields = [name for name, kind in field_types.items() if kind in DATE_TYPES]
        xys = [esri_xy(f.get("geometry")) for f in data["features"]]
        xys = wgs84_xys(xys, coord_transform(page_spatial_reference(data, self.metadata().spatial_reference, xys)))
        records = []
        for feature, xy in zip(data["features"], xys, strict=True):
            attributes = dict(feature.get("attributes") or {})
            if attributes.get(oid) is None:
                raise ArcGISError(f"feature without its object id {oid!r}")
            for name in date_fields:
                if name in attributes:
                    attributes[name] = esri_date(attributes[name])
            records.append(
                RawRecord(
                    external_id=str(int(attributes[oid])),
                    attributes=attributes,
                    geometry=Point(*xy, srid=WGS84) if xy else None,
                    xy=xy,
                )
            )
        return records


class ArcGISReader:
    """Pages of an ArcGIS layer, streamed: by object-id chunks, else by result offset."""

    def __init__(self, client: ArcGISClient):
        self.client = client

    def schema(self) -> SourceSchema:
        return self.client.schema()

    def close(self) -> None:
        self.client.close()

    def __iter__(self) -> Iterator[Page]:
        try:
            metadata = self.client.layer_metadata()
            ids = self.client.object_ids()
            if self.client.object_id_field is None:
                raise SourceError(f"ArcGIS layer {self.client.url} has no object id field")
            if ids is not None:
                yield from self._pages_by_ids(ids)
            elif metadata.supports_pagination:
                yield from offset_pages(self._fetch_offset, page_size=self.client.chunk_size)
            else:
                raise SourceError(f"ArcGIS layer {self.client.url} lists no object ids and does not support pagination")
        finally:
            self.client.close()

    def _fetch_offset(self, offset: int) -> tuple[list[RawRecord], bool]:
        data = self.client.query_offset(offset, self.client.chunk_size)
        return self.client.records(data), bool(data.get("exceededTransferLimit"))

    def _pages_by_ids(self, ids: list[int]) -> Iterator[Page]:
        size, number = self.client.chunk_size, 0
        pending = deque(ids)
        while pending:
            chunk = [pending.popleft() for _ in range(min(size, len(pending)))]
            number += 1
            try:
                data = self.client.query_ids(chunk)
                records = self.client.records(data)
            except PAGE_ERRORS as exc:
                yield Page(number, error=describe_error(exc), failed_ids=[str(i) for i in chunk])
                continue
            if data.get("exceededTransferLimit") and records:
                # The server capped this answer below maxRecordCount: ask again for the rest, in smaller chunks.
                returned = {r.external_id for r in records}
                pending.extendleft(reversed([i for i in chunk if str(i) not in returned]))
                size = len(records)
            yield Page(number, records=records)


# --- Values ---------------------------------------------------------------------------
def esri_date(value: Any) -> Any:
    """Epoch milliseconds (int, double or numeric string) -> aware UTC datetime; anything else unchanged."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return value
    try:
        return EPOCH + dt.timedelta(milliseconds=value) if isinstance(value, int | float) else value
    except (OverflowError, ValueError):  # NaN, or out of datetime's range
        return value


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


def representative_point(geometry: GEOSGeometry) -> Point | None:
    """A point for any geometry: itself for a point, else a point on its surface (lines, multipoints too)."""
    xy = _representative_xy(geometry)
    return Point(*xy, srid=geometry.srid) if xy else None


def _representative_xy(geometry: GEOSGeometry) -> XY | None:
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
