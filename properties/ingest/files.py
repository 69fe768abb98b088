"""File sources, local or http(s): CSV (any common dialect, streamed) and JSON (a list of objects, ArcGIS feature JSON
or GeoJSON: points, lines and polygons become a point on the surface, properties the attributes). ArcGIS Hub downloads
(`.../datasets/<id>_0.csv`, `.../downloads/data?format=geojson`) are files like any other.

Whether the location is a URL or a local path is decided by `dealfinder.common.source_location` (one parser for
the whole product). Messages name a file by its name only, never by the server's directories.
"""

from __future__ import annotations

import csv
import io
import json
import re
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
from django.conf import settings

from dealfinder.common.outbound import UnsafeURLError
from dealfinder.common.source_location import LocationError, SourceLocation, location_parse

from .base import Page, RawRecord, SourceError
from .esri_geometry import ArcGISError, coord_transform, esri_point, geojson_xy, wgs84_xys
from .http import http_client
from .mapping import ROW_ERROR
from .schema import SourceField, SourceSchema
from .urls import file_format

OBJECT_ID_FIELDS = ("OBJECTID", "ObjectID", "FID", "objectid", "OBJECTID_1", "fid")
SNIFF_BYTES = 64 * 1024
DELIMITERS = ",;\t|"
CSV_TYPE = "text"  # a CSV has no types: every column is text
_EPSG_NAME = re.compile(r"EPSG:+(\d+)$", re.I)


def resolve_path(location: SourceLocation) -> Path:
    """A local file: absolute, or relative to the project directory."""
    path = Path(location.path or "")
    return path if path.is_absolute() else Path(settings.BASE_DIR) / path


class FileReader:
    """Pages of at most `page_size` records from a CSV or JSON file (path or http(s) URL).

    Files larger than settings.INGEST_UPLOAD_MAX_BYTES or with more than INGEST_UPLOAD_MAX_ROWS
    records are refused before the first page is yielded, so a refused file writes nothing.
    A download is spooled to a temporary file (memory, then disk) so it can be counted first.
    `schema()` reads the file (once) and names its columns; iterating reads the same copy.
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
        self.format: str | None = None  # "csv" or "json", once read
        self.dialect: type[csv.Dialect] | None = None
        self.header: list[str] = []
        self.record_count: int | None = None
        self._stack: ExitStack | None = None
        self._handle = None
        self._json = None
        try:
            self.where = location_parse(location)
        except LocationError as exc:
            raise SourceError(f"not a file location: {exc}") from None

    @property
    def name(self) -> str:
        return self.where.name

    # --- Reading ----------------------------------------------------------------------
    def _read(self) -> None:
        """Open (or download) the file once, decide its format and read its header or its JSON."""
        if self.format is not None:
            return
        self._stack = ExitStack()
        try:
            handle, content_type = self._open(self._stack)
            head = handle.read(SNIFF_BYTES)
            handle.seek(0)
            self.format = file_format(self.where.url or self.where.path or "") or (
                "json" if "json" in content_type or head.lstrip()[:1] in ("{", "[") else "csv"
            )
            if self.format == "json":
                self._json = self._load_json(handle)
                self.record_count = json_count(self._json)
            else:
                self.dialect = sniff_dialect(head)
                self.record_count = csv_count(handle, self.dialect)
            self._check_rows(self.record_count)
            if self.format == "csv":
                handle.seek(0)
                self.header = [h.strip() for h in next(csv.reader(handle, self.dialect), [])]
                handle.seek(0)
            self._handle = handle
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._stack is not None:
            self._stack.close()
        self._stack, self._handle, self._json, self.format = None, None, None, None

    def schema(self) -> SourceSchema:
        """The file's columns (a CSV's header; the attribute names of a JSON file's records with their JSON types)."""
        self._read()
        if self.format == "csv":
            return SourceSchema(tuple(SourceField(name, CSV_TYPE) for name in self.header if name))
        types: dict[str, str] = {}
        for record in json_records(self._json):
            for name, value in record.attributes.items():
                if value is not None or name not in types:
                    types[name] = json_type(value) if value is not None else types.get(name, "null")
        return SourceSchema(tuple(SourceField(n, t) for n, t in types.items()))

    def __iter__(self) -> Iterator[Page]:
        try:
            self._read()
            if self.format == "json":
                yield from self._pages(json_records(self._json))
            else:
                yield from self._pages(csv_records(self._handle, self.dialect))
        finally:
            self.close()

    def sample(self, size: int) -> list[RawRecord]:
        """The first `size` records (for the probe); the file stays open for schema() and iteration."""
        self._read()
        records = json_records(self._json) if self.format == "json" else csv_records(self._handle, self.dialect)
        try:
            out = [record for _, record in zip(range(size), records, strict=False)]
        except csv.Error as exc:
            raise SourceError(f"{self.name} is not a readable CSV: {exc}") from None
        finally:
            if self._handle is not None:
                self._handle.seek(0)
        return out

    # --- Opening ----------------------------------------------------------------------
    def _too_big(self, size: int) -> SourceError:
        return SourceError(
            f"{self.name} is larger than the {self.max_bytes:,}-byte limit"
            f" ({size:,} bytes or more; INGEST_UPLOAD_MAX_BYTES); nothing was loaded"
        )

    def _check_rows(self, rows: int) -> None:
        if rows > self.max_rows:
            raise SourceError(
                f"{self.name} has {rows:,} records, more than the {self.max_rows:,}-record limit"
                " (INGEST_UPLOAD_MAX_ROWS); nothing was loaded"
            )

    def _open(self, stack: ExitStack):
        """A seekable text handle on the whole file and the response's content type ("" for a path)."""
        if not self.where.is_url:
            path = resolve_path(self.where)
            try:
                size = path.stat().st_size
                if size > self.max_bytes:
                    raise self._too_big(size)
                handle = stack.enter_context(path.open(newline="", encoding="utf-8-sig"))
            except FileNotFoundError:
                raise SourceError(f"file not found: {self.name}") from None
            except OSError as exc:
                raise SourceError(f"cannot read {self.name}: {exc.strerror or type(exc).__name__}") from None
            return _checked_text(handle, self.name), ""
        spool = stack.enter_context(tempfile.SpooledTemporaryFile(max_size=self.SPOOL_MEMORY_BYTES))  # noqa: SIM115
        content_type = self._download(spool)
        spool.seek(0)
        handle = stack.enter_context(io.TextIOWrapper(spool, encoding="utf-8-sig", newline=""))
        return _checked_text(handle, self.name), content_type

    def _download(self, spool) -> str:
        try:
            with http_client() as client, client.stream("GET", self.where.url, timeout=self.timeout) as response:
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
        except httpx.HTTPStatusError as exc:
            raise SourceError(f"cannot download {self.name}: HTTP {exc.response.status_code}") from None
        except httpx.HTTPError as exc:
            raise SourceError(f"cannot download {self.name}: {exc}") from exc
        except UnsafeURLError as exc:
            raise SourceError(f"refused to download {self.name}: {exc}") from None

    def _load_json(self, handle) -> object:
        try:
            return json.loads(handle.read())
        except ValueError as exc:
            raise SourceError(f"{self.name} is not valid JSON: {exc}") from None

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


def _checked_text(handle, name: str):
    """The handle, after checking that the file is UTF-8 text (a clear message instead of a codec error)."""
    try:
        while handle.read(1 << 20):
            pass
    except UnicodeDecodeError:
        raise SourceError(f"{name} is not UTF-8 text (a spreadsheet or zip file?); save it as CSV (UTF-8)") from None
    handle.seek(0)
    return handle


def sniff_dialect(head: str) -> type[csv.Dialect]:
    """The CSV dialect of the file's first lines (comma, semicolon, tab or pipe); plain CSV when unsure."""
    sample = "\n".join(head.splitlines()[:50])
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=DELIMITERS)
    except csv.Error:
        return csv.excel
    if dialect.delimiter not in DELIMITERS:
        return csv.excel
    dialect.doublequote = True  # the sniffer guesses this from quotes it may not have seen
    return dialect


def dialect_label(dialect: type[csv.Dialect] | None) -> str:
    names = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
    return f"{names.get(dialect.delimiter, repr(dialect.delimiter))}-separated" if dialect else ""


def csv_count(lines, dialect=csv.excel) -> int:
    """How many records csv_records would yield (a CSV error ends the count; the read reports it)."""
    reader = csv.reader(lines, dialect)
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


def json_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, dict | list):
        return "object" if isinstance(value, dict) else "array"
    return "string"


def csv_records(lines, dialect=csv.excel) -> Iterator[RawRecord]:
    """One record per CSV row; the external id is the row's line number (the header is line 1)."""
    reader = csv.reader(lines, dialect)
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
        yield from geojson_records(data)
    elif isinstance(data, dict) and isinstance(data.get("features"), list):
        transform = _transform(data.get("spatialReference"))
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


def geojson_records(data: dict) -> Iterator[RawRecord]:
    """A FeatureCollection's features: properties as attributes, the geometry as its representative point
    (points as they are, polygons and lines a point on the surface), in WGS84 unless an old-style `crs`
    member names an EPSG code. The record id is the feature's id, else its OBJECTID/FID property, else its number."""
    transform = _transform(_geojson_crs(data))
    for n, feature in enumerate(data.get("features") or [], 1):
        if not isinstance(feature, dict):
            raise SourceError(f"GeoJSON feature {n} is not an object")
        properties = feature.get("properties") or {}
        geometry = feature.get("geometry")
        xy = geojson_xy(geometry) if isinstance(geometry, dict) else None
        if xy is not None and transform is not None:
            xy = wgs84_xys([xy], transform)[0]
        key = feature.get("id")
        if key is None:
            key = next((properties[f] for f in OBJECT_ID_FIELDS if properties.get(f) is not None), n)
        yield RawRecord(str(key), properties, xy=xy or None)


def _geojson_crs(data: dict) -> dict | None:
    """An old-style GeoJSON `crs` (`{"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::2236"}}`)."""
    name = str(((data.get("crs") or {}).get("properties") or {}).get("name") or "")
    match = _EPSG_NAME.search(name.replace("::", ":"))
    return {"wkid": int(match.group(1))} if match else None


def _transform(spatial_reference: dict | None):
    try:
        return coord_transform(spatial_reference)
    except ArcGISError as exc:
        raise SourceError(str(exc)) from None
