"""ArcGIS REST layer client (`.../FeatureServer/N`, `.../MapServer/N`) and its reader.

Pages by object ids (`returnIdsOnly`, then POSTed `objectIds` chunks no larger than the
layer's `maxRecordCount`); falls back to `resultOffset` paging ordered by the object id.
Error bodies (`{"error": {...}}`, often with HTTP 200) are errors. Geometry comes back as a
SRID 4326 point (a point on the surface for polygons), transformed with GDAL when the server
answered in another spatial reference; esri date fields become aware UTC datetimes.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx

from properties.ingest.arcgis_changes import changes_plan
from properties.ingest.base import Page, RawRecord, SourceError
from properties.ingest.esri_geometry import (
    WGS84,
    ArcGISError,
    coord_transform,
    esri_xy,
    page_spatial_reference,
    wgs84_xys,
)
from properties.ingest.http import PAGE_ERRORS, RETRY_WAIT, describe_error, http_client, offset_pages, send
from properties.ingest.schema import SourceField, SourceSchema
from properties.ingest.urls import arcgis_url

logger = logging.getLogger(__name__)

DEFAULT_MAX_RECORD_COUNT = 1000  # ArcGIS Server's default when the layer does not say
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
DATE_TYPES = {"esriFieldTypeDate"}


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
    time_reference: dict | None = None  # dateFieldsTimeReference: the time zone of its date fields (None: UTC)
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
            time_reference=data.get("dateFieldsTimeReference") or None,
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

    def object_ids(self, *, strict: bool = False) -> list[int] | None:
        """Sorted object ids matching `where`, or None when the server cannot list them (`strict`: its error)."""
        try:
            data = self._query(where=self.where, returnIdsOnly="true")
        except PAGE_ERRORS:
            if strict:
                raise
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
            records.append(RawRecord(external_id=str(int(attributes[oid])), attributes=attributes, xy=xy or None))
        return records


class ArcGISReader:
    """Pages of an ArcGIS layer, streamed: by object-id chunks, else by result offset.

    With `since`, only features edited after it are asked for when the layer has editor tracking
    (arcgis_changes); after iterating, `since` is what was asked for (None: the layer was read in full) and
    `fallback` says why a wanted incremental read was a full one.
    """

    def __init__(self, client: ArcGISClient, *, since: dt.datetime | None = None):
        self.client = client
        self.since = since
        self.fallback = ""

    def schema(self) -> SourceSchema:
        return self.client.schema()

    def close(self) -> None:
        self.client.close()

    def __iter__(self) -> Iterator[Page]:
        try:
            metadata = self.client.layer_metadata()
            ids = self._changed_ids(metadata) if self.since is not None else self.client.object_ids()
            if ids == []:
                return
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

    def _changed_ids(self, metadata: LayerMetadata) -> list[int] | None:
        """The ids of the features edited since `since` ([] when the layer says nothing changed); the layer's
        every id when it cannot be asked (no editor tracking, or the server refuses the query)."""
        plan = changes_plan(
            where=self.client.where,
            since=self.since,
            edit_date_field=metadata.edit_date_field if metadata.edit_date_field in metadata.fields else None,
            last_edit_date=metadata.last_edit_date,
            time_reference=metadata.time_reference,
        )
        self.since, self.fallback = plan.since, plan.reason
        if plan.nothing:
            return []
        if plan.where is None:
            return self.client.object_ids()
        full_where, self.client.where = self.client.where, plan.where
        try:
            return self.client.object_ids(strict=True)
        except PAGE_ERRORS as exc:
            self.fallback = f"the server refused the query for edited features ({describe_error(exc)}); read in full"
            logger.warning("ArcGIS %s: %s", self.client.url, self.fallback)
            self.since, self.client.where = None, full_where
            return self.client.object_ids()

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
