"""Socrata (SODA) dataset reader: `$limit`/`$offset` paging ordered by `:id`, columns typed by the dataset's metadata.

The record id is the row's `:id` (asked for with `$select=:*, *`). The dataset's metadata
(`/api/views/<id>.json`) names its columns and their types, so the point comes from whichever column is a
point, location or (multi)polygon, whatever it is called (`shape`, `geocoded_column`, ...); without the
metadata, any column holding a GeoJSON geometry or a legacy location, then latitude/longitude columns.

Incremental pulls: given `since` and an `updated_field` (`:updated_at`, or a date column), only rows changed
after `since` are asked for (`$where`); a server that refuses that query is read in full instead.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
from django.conf import settings
from django.contrib.gis.geos import Point

from properties.ingest.base import Page, RawRecord, SourceError
from properties.ingest.esri_geometry import geojson_point
from properties.ingest.http import PAGE_ERRORS, RETRY_WAIT, ClientHolder, describe_error, offset_pages, send
from properties.ingest.schema import SourceField, SourceSchema
from properties.ingest.urls import socrata_metadata_url, socrata_resource_url

logger = logging.getLogger(__name__)

GEOMETRY_COLUMNS = ("location", "the_geom", "geocoded_column")  # looked for when the metadata cannot be read
GEOMETRY_TYPES = {"point", "location", "multipoint", "polygon", "multipolygon", "line", "multiline"}
LAT_LON_COLUMNS = (("latitude", "longitude"), ("lat", "lon"), ("lat", "lng"))
SYSTEM_FIELDS = frozenset({":id", ":created_at", ":updated_at", ":version"})


class SocrataReader(ClientHolder):
    """Pages of a Socrata dataset (`https://host/resource/abcd-1234.json`, or any form of its URL), streamed."""

    def __init__(
        self,
        url: str,
        *,
        where: str | None = None,
        page_size: int = 1000,
        app_token: str | None = None,
        http: httpx.Client | None = None,
        timeout: float | None = None,
        retry_wait: float = RETRY_WAIT,
        since: dt.datetime | None = None,
        updated_field: str = "",
    ):
        self.url = socrata_resource_url(url)
        self.where = where
        self.page_size = page_size
        self.app_token = settings.SOCRATA_APP_TOKEN if app_token is None else app_token
        self.http = http
        self.timeout = timeout
        self.retry_wait = retry_wait
        self.since = since if updated_field else None
        self.updated_field = updated_field
        self.fallback: str = ""  # why an incremental pull became a full one
        self.metadata: dict | None = None
        self._geometry_columns: tuple[str, ...] | None = None  # from the metadata; None: guess from the values

    # --- HTTP ---------------------------------------------------------------------------
    def _get(self, url: str, params: dict | None = None) -> Any:
        kwargs: dict[str, Any] = {"params": params or {}}
        if self.app_token:
            kwargs["headers"] = {"X-App-Token": self.app_token}
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        return json.loads(send(self.client, "GET", url, retry_wait=self.retry_wait, **kwargs).content)

    # --- Metadata -----------------------------------------------------------------------
    def read_metadata(self) -> dict | None:
        """The dataset's view metadata (name, columns with types), or None when the portal does not serve it."""
        if self.metadata is None:
            url = socrata_metadata_url(self.url)
            try:
                data = self._get(url) if url else None
            except PAGE_ERRORS as exc:
                logger.warning("Socrata metadata for %s unavailable: %s", self.url, describe_error(exc))
                data = None
            self.metadata = data if isinstance(data, dict) and isinstance(data.get("columns"), list) else {}
            columns = self.metadata.get("columns") or []
            if columns:
                self._geometry_columns = tuple(
                    c["fieldName"] for c in columns if column_type(c) in GEOMETRY_TYPES and c.get("fieldName")
                )
        return self.metadata or None

    def schema(self) -> SourceSchema | None:
        """Columns and their Socrata types (None when the metadata cannot be read: nothing to check against)."""
        metadata = self.read_metadata()
        if metadata is None:
            return None
        fields = tuple(
            SourceField(c["fieldName"], column_type(c), c.get("name", ""))
            for c in metadata["columns"]
            if c.get("fieldName") and not c["fieldName"].startswith(":")
        )
        return SourceSchema(fields, system=SYSTEM_FIELDS)

    # --- Rows ---------------------------------------------------------------------------
    def __iter__(self) -> Iterator[Page]:
        try:
            self.read_metadata()
            if self.since is not None:
                try:
                    first = self._fetch(0)
                except httpx.HTTPStatusError as exc:
                    if exc.response.status_code != 400:
                        raise
                    self.fallback = f"the incremental query was refused ({describe_error(exc)}); read in full"
                    logger.warning("Socrata %s: %s", self.url, self.fallback)
                    self.since = None
                else:
                    yield from self._pages_after(first)
                    return
            yield from offset_pages(lambda offset: (self._fetch(offset), False), page_size=self.page_size)
        finally:
            self.close()

    def _pages_after(self, first: list[RawRecord]) -> Iterator[Page]:
        """Page 1 already read; the rest by offset, numbered from 2."""
        if not first:
            return
        yield Page(1, records=first)
        if len(first) < self.page_size:
            return
        offset = len(first)
        for page in offset_pages(lambda o: (self._fetch(offset + o), False), page_size=self.page_size):
            page.number += 1
            yield page

    def query_where(self) -> str | None:
        if self.since is None:
            return self.where or None
        stamp = self.since.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="milliseconds")
        changed = f"{self.updated_field} > '{stamp}'"
        return f"({self.where}) AND {changed}" if self.where else changed

    def _fetch(self, offset: int, limit: int | None = None) -> list[RawRecord]:
        params: dict[str, Any] = {"$select": ":*, *", "$order": ":id", "$limit": limit or self.page_size}
        params["$offset"] = offset
        where = self.query_where()
        if where:
            params["$where"] = where
        rows = self._get(self.url, params)
        if not isinstance(rows, list):
            raise ValueError(f"Socrata answered {str(rows)[:200]} instead of a list of rows")
        return [socrata_record(row, self._geometry_columns) for row in rows]

    def sample(self, size: int) -> list[RawRecord]:
        """The first `size` rows (for the probe); SourceError when they cannot be read."""
        try:
            self.read_metadata()
            return self._fetch(0, size)
        except PAGE_ERRORS as exc:
            raise SourceError(f"cannot read Socrata dataset {self.url}: {describe_error(exc)}") from None


def column_type(column: dict) -> str:
    return str(column.get("dataTypeName") or column.get("renderTypeName") or "").lower()


def socrata_record(row: dict, geometry_columns: tuple[str, ...] | None = None) -> RawRecord:
    if not row.get(":id"):
        raise ValueError("Socrata row without :id (was $select=:*, * ignored?)")
    return RawRecord(external_id=str(row[":id"]), attributes=row, geometry=socrata_point(row, geometry_columns))


def socrata_point(row: dict, geometry_columns: tuple[str, ...] | None = None) -> Point | None:
    """The row's point (SRID 4326): from the columns the metadata types as geometry, else from any column
    holding a GeoJSON geometry or a legacy location (the usual names first), else latitude/longitude columns."""
    if geometry_columns is None:
        names = [*GEOMETRY_COLUMNS, *(k for k in row if k not in GEOMETRY_COLUMNS)]
    else:
        names = list(geometry_columns)
    for column in names:
        point = _geometry_value(row.get(column))
        if point is not None:
            return point
    for lat, lon in LAT_LON_COLUMNS:
        if lat in row and lon in row:
            return _lat_lon(row[lat], row[lon])
    return None


def _geometry_value(value: Any) -> Point | None:
    if isinstance(value, dict) and "coordinates" in value and "type" in value:
        return geojson_point(value)
    if isinstance(value, dict) and "latitude" in value and "longitude" in value:
        return _lat_lon(value.get("latitude"), value.get("longitude"))
    return None


def _lat_lon(lat: Any, lon: Any) -> Point | None:
    try:
        return Point(float(lon), float(lat), srid=4326)
    except (TypeError, ValueError):
        return None
