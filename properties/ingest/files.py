"""File sources: CSV (streamed) and JSON (a list of objects, ArcGIS feature JSON or GeoJSON), local or http(s)."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
from django.conf import settings
from django.contrib.gis.geos import GEOSException, GEOSGeometry

from dealfinder.security import UnsafeURLError

from .arcgis import coord_transform, esri_point, representative_point
from .base import Page, RawRecord, SourceError
from .http import http_client
from .mapping import ROW_ERROR

OBJECT_ID_FIELDS = ("OBJECTID", "ObjectID", "FID", "objectid")


def resolve_path(location: str) -> Path:
    """A local file: absolute, or relative to the project directory."""
    path = Path(location.removeprefix("file://"))
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


class FileReader:
    """Pages of at most `page_size` records from a CSV or JSON file (path or http(s) URL).

    Files larger than settings.INGEST_UPLOAD_MAX_BYTES or with more than INGEST_UPLOAD_MAX_ROWS
    records are refused before the first page is yielded, so a refused file writes nothing.
    A download is spooled to a temporary file (memory, then disk) so it can be counted first.
    """

    SPOOL_MEMORY_BYTES = 8 * 1024 * 1024

    def __init__(
        self,
        location: str,
        *,
        page_size: int = 1000,
        timeout: float | None = None,
        max_bytes: int | None = None,
        max_rows: int | None = None,
    ):
        self.location = location
        self.page_size = page_size
        self.timeout = timeout or settings.HTTP_TIMEOUT_SECONDS
        self.max_bytes = max_bytes if max_bytes is not None else settings.INGEST_UPLOAD_MAX_BYTES
        self.max_rows = max_rows if max_rows is not None else settings.INGEST_UPLOAD_MAX_ROWS

    def __iter__(self) -> Iterator[Page]:
        with self._open() as (handle, content_type):
            suffix = Path(self.location.split("?")[0]).suffix.lower()
            if suffix in (".json", ".geojson") or (suffix != ".csv" and "json" in content_type):
                data = self._load_json(handle)
                self._check_rows(json_count(data))
                yield from self._pages(json_records(data))
            else:
                self._check_rows(csv_count(handle))
                handle.seek(0)
                yield from self._pages(csv_records(handle))

    def _too_big(self, size: int) -> SourceError:
        return SourceError(
            f"{self.location} is larger than the {self.max_bytes:,}-byte limit"
            f" ({size:,} bytes or more; INGEST_UPLOAD_MAX_BYTES); nothing was loaded"
        )

    def _check_rows(self, rows: int) -> None:
        if rows > self.max_rows:
            raise SourceError(
                f"{self.location} has {rows:,} records, more than the {self.max_rows:,}-record limit"
                " (INGEST_UPLOAD_MAX_ROWS); nothing was loaded"
            )

    @contextmanager
    def _open(self):
        """A seekable text handle on the whole file and the response's content type ("" for a path)."""
        if not is_url(self.location):
            path = resolve_path(self.location)
            try:
                size = path.stat().st_size
                if size > self.max_bytes:
                    raise self._too_big(size)
                with path.open(newline="", encoding="utf-8-sig") as handle:
                    yield handle, ""
            except FileNotFoundError:
                raise SourceError(f"file not found: {path}") from None
            return
        with tempfile.SpooledTemporaryFile(max_size=self.SPOOL_MEMORY_BYTES) as spool:
            content_type = self._download(spool)
            spool.seek(0)
            with io.TextIOWrapper(spool, encoding="utf-8-sig", newline="") as handle:
                yield handle, content_type

    def _download(self, spool) -> str:
        try:
            with http_client() as client, client.stream("GET", self.location, timeout=self.timeout) as response:
                response.raise_for_status()
                declared = response.headers.get("content-length", "")
                if declared.isdigit() and int(declared) > self.max_bytes:
                    raise self._too_big(int(declared))
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise self._too_big(size)
                    spool.write(chunk)
                return response.headers.get("content-type", "")
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot download {self.location}: {exc}") from exc
        except UnsafeURLError as exc:
            raise SourceError(f"refused to download {self.location}: {exc}") from None

    def _load_json(self, handle) -> object:
        try:
            return json.loads(handle.read())
        except ValueError as exc:
            raise SourceError(f"{self.location} is not valid JSON: {exc}") from None

    def _pages(self, records: Iterator[RawRecord]) -> Iterator[Page]:
        page, number = [], 0
        try:
            for record in records:
                page.append(record)
                if len(page) == self.page_size:
                    number += 1
                    yield Page(number, page)
                    page = []
        except csv.Error as exc:
            number += 1
            yield Page(number, error=f"unreadable CSV after {len(page)} rows of this page: {exc}")
            return
        if page or not number:
            yield Page(number + 1, page)


def csv_count(lines) -> int:
    """How many records csv_records would yield (a CSV error ends the count; the read reports it)."""
    reader = csv.reader(lines)
    next(reader, None)
    count = 0
    try:
        for values in reader:
            if any(v.strip() for v in values):
                count += 1
    except csv.Error:
        pass
    return count


def json_count(data) -> int:
    """How many records json_records would yield from the parsed document (0 for a shape it refuses)."""
    if isinstance(data, list):
        return len(data)
    if isinstance(data, dict) and isinstance(data.get("features"), list):
        return len(data["features"])
    return 0


def csv_records(lines) -> Iterator[RawRecord]:
    """One record per CSV row; the external id is the row's line number (the header is line 1)."""
    reader = csv.reader(lines)
    header = [h.strip() for h in next(reader, [])]
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        attributes = dict(zip(header, values, strict=False))
        if len(values) != len(header):
            attributes[ROW_ERROR] = f"row has {len(values)} columns, the header has {len(header)}"
        yield RawRecord(str(reader.line_num), attributes)


def json_records(data) -> Iterator[RawRecord]:
    if isinstance(data, list):
        for n, obj in enumerate(data, 1):
            if not isinstance(obj, dict):
                raise SourceError(f"JSON list item {n} is not an object")
            yield RawRecord(str(n), obj)
    elif isinstance(data, dict) and data.get("type") == "FeatureCollection":
        for n, feature in enumerate(data.get("features") or [], 1):
            yield RawRecord(str(feature.get("id") or n), feature.get("properties") or {}, _geojson_point(feature))
    elif isinstance(data, dict) and isinstance(data.get("features"), list):
        transform = coord_transform(data.get("spatialReference"))
        oid = data.get("objectIdFieldName")
        for n, feature in enumerate(data["features"], 1):
            attributes = feature.get("attributes") or {}
            key = oid or next((f for f in OBJECT_ID_FIELDS if f in attributes), None)
            ext = attributes.get(key) if key else None
            yield RawRecord(
                str(ext if ext is not None else n), attributes, esri_point(feature.get("geometry"), transform)
            )
    else:
        raise SourceError("JSON must be a list of objects, ArcGIS feature JSON or a GeoJSON FeatureCollection")


def _geojson_point(feature: dict):
    if not feature.get("geometry"):
        return None
    try:
        geometry = GEOSGeometry(json.dumps(feature["geometry"]), srid=4326)
    except (GEOSException, ValueError):
        return None
    return representative_point(geometry)
