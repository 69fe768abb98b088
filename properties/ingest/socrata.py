"""Socrata (SODA) dataset reader: `$limit`/`$offset` paging ordered by `:id`.

The record id is the row's `:id` (asked for with `$select=:*, *`); the geometry comes from
a `location`/`the_geom` column (GeoJSON, or a legacy location with latitude/longitude) or
from latitude/longitude columns.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
from django.conf import settings
from django.contrib.gis.geos import Point

from properties.ingest.arcgis import geojson_point
from properties.ingest.base import Page, RawRecord
from properties.ingest.http import RETRY_WAIT, http_client, offset_pages, send

GEOMETRY_COLUMNS = ("location", "the_geom", "geocoded_column")
LAT_LON_COLUMNS = (("latitude", "longitude"), ("lat", "lon"), ("lat", "lng"))


class SocrataReader:
    """Pages of a Socrata dataset (`https://host/resource/abcd-1234.json`), streamed."""

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
    ):
        self.url = url
        self.where = where
        self.page_size = page_size
        self.app_token = settings.SOCRATA_APP_TOKEN if app_token is None else app_token
        self.http = http
        self.timeout = timeout
        self.retry_wait = retry_wait

    def __iter__(self) -> Iterator[Page]:
        client = self.http or http_client()
        try:
            yield from offset_pages(lambda offset: (self._fetch(client, offset), False), page_size=self.page_size)
        finally:
            if client is not self.http:
                client.close()

    def _fetch(self, client: httpx.Client, offset: int) -> list[RawRecord]:
        params = {"$select": ":*, *", "$order": ":id", "$limit": self.page_size, "$offset": offset}
        if self.where:
            params["$where"] = self.where
        kwargs: dict[str, Any] = {"params": params}
        if self.app_token:
            kwargs["headers"] = {"X-App-Token": self.app_token}
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        rows = json.loads(send(client, "GET", self.url, retry_wait=self.retry_wait, **kwargs).content)
        if not isinstance(rows, list):
            raise ValueError(f"Socrata answered {str(rows)[:200]} instead of a list of rows")
        return [socrata_record(row) for row in rows]


def socrata_record(row: dict) -> RawRecord:
    if not row.get(":id"):
        raise ValueError("Socrata row without :id (was $select=:*, * ignored?)")
    return RawRecord(external_id=str(row[":id"]), attributes=row, geometry=socrata_point(row))


def socrata_point(row: dict) -> Point | None:
    """The row's point (SRID 4326) from a geometry column or latitude/longitude columns, else None."""
    for column in GEOMETRY_COLUMNS:
        value = row.get(column)
        if isinstance(value, dict) and "coordinates" in value:
            return geojson_point(value)
        if isinstance(value, dict) and "latitude" in value:
            return _lat_lon(value.get("latitude"), value.get("longitude"))
    for lat, lon in LAT_LON_COLUMNS:
        if lat in row and lon in row:
            return _lat_lon(row[lat], row[lon])
    return None


def _lat_lon(lat: Any, lon: Any) -> Point | None:
    try:
        return Point(float(lon), float(lat), srid=4326)
    except (TypeError, ValueError):
        return None
