"""What kind of source a location is, and its canonical URL: ArcGIS layers and services (whatever their case),
Socrata datasets, CKAN datastore resources, ArcGIS Hub downloads, other files.

The forms recognised are the ones brokers copy from a browser: an ArcGIS layer's REST page or its `/query`
link, a service root (`.../FeatureServer`), a Socrata dataset page (`/Category/Name/abcd-1234`, `/d/abcd-1234`)
or API link, a CKAN resource page (`/dataset/x/resource/<id>`) or `datastore_search` link, and ArcGIS Hub
download links (`.../datasets/<id>_0.csv`, `.../downloads/data?format=geojson`).
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from dealfinder.common.source_location import location_parse

ARCGIS, SOCRATA, CKAN, FILE = "arcgis", "socrata", "ckan", "file"

_ARCGIS = re.compile(r"^(?P<service>.*?/(?:featureserver|mapserver))(?:/(?P<layer>\d+))?(?:/query)?/?$", re.I)
_SOCRATA_ID = r"[a-z0-9]{4}-[a-z0-9]{4}"
_SOCRATA = (
    re.compile(rf"/resource/(?P<id>{_SOCRATA_ID})(?:\.(?:json|csv|geojson))?/?$", re.I),
    re.compile(rf"/api/(?:v3/)?views/(?P<id>{_SOCRATA_ID})(?:/query\.json|/rows\.json|\.json)?/?$", re.I),
    re.compile(rf"/d/(?P<id>{_SOCRATA_ID})/?$", re.I),
    re.compile(rf"^/[^/]+/[^/]+/(?P<id>{_SOCRATA_ID})/?$", re.I),  # /Category/Dataset-Name/abcd-1234
)
_CKAN_ACTION = re.compile(r"^(?P<root>.*?)/api(?:/3)?/action/(?:datastore_search(?:_sql)?)/?$", re.I)
_CKAN_RESOURCE = re.compile(r"^(?P<root>.*?)/dataset/[^/]+/resource/(?P<id>[0-9a-f-]{8,})/?$", re.I)
_FILE_FORMATS = {"csv": "csv", "txt": "csv", "tsv": "csv", "json": "json", "geojson": "json"}


def guess_kind(location: str) -> str:
    """arcgis, socrata, ckan or file; a location that is not a URL is a file."""
    parsed = location_parse(location)
    if not parsed.is_url:
        return FILE
    parts = urlsplit(parsed.url)
    if _ARCGIS.match(parts.path):
        return ARCGIS
    if any(p.search(parts.path) for p in _SOCRATA):
        return SOCRATA
    if _CKAN_ACTION.match(parts.path) or _CKAN_RESOURCE.match(parts.path):
        return CKAN
    return FILE


def canonical_url(location: str, kind: str) -> str:
    """The URL DealFinder stores and reads for a source of this kind (a path stays as written)."""
    parsed = location_parse(location)
    if not parsed.is_url:
        return parsed.path or location
    if kind == ARCGIS:
        return arcgis_url(parsed.url)
    if kind == SOCRATA:
        return socrata_resource_url(parsed.url)
    if kind == CKAN:
        return ckan_search_url(parsed.url)
    return parsed.url


def arcgis_url(url: str) -> str:
    """A layer (`.../FeatureServer/3`) or service root (`.../MapServer`), without `/query` or query string."""
    parts = urlsplit(url)
    match = _ARCGIS.match(parts.path)
    if not match:
        return url
    path = match.group("service") + (f"/{match.group('layer')}" if match.group("layer") is not None else "")
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def socrata_dataset_id(url: str) -> str | None:
    path = urlsplit(url).path
    for pattern in _SOCRATA:
        match = pattern.search(path)
        if match:
            return match.group("id").lower()
    return None


def socrata_resource_url(url: str) -> str:
    """`https://host/resource/abcd-1234.json` for any form of a Socrata dataset's URL."""
    dataset = socrata_dataset_id(url)
    if dataset is None:
        return url
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/resource/{dataset}.json", "", ""))


def socrata_metadata_url(url: str) -> str | None:
    """`https://host/api/views/abcd-1234.json`: the dataset's name, columns and their types."""
    dataset = socrata_dataset_id(url)
    if dataset is None:
        return None
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, f"/api/views/{dataset}.json", "", ""))


def ckan_search_url(url: str) -> str:
    """`https://host[/root]/api/3/action/datastore_search?resource_id=<id>` for a CKAN resource page or API link."""
    parts = urlsplit(url)
    resource = ckan_resource_id(url)
    match = _CKAN_ACTION.match(parts.path) or _CKAN_RESOURCE.match(parts.path)
    if match is None or resource is None:
        return url
    path = f"{match.group('root')}/api/3/action/datastore_search"
    return urlunsplit((parts.scheme, parts.netloc, path, urlencode({"resource_id": resource}), ""))


def ckan_resource_id(url: str) -> str | None:
    parts = urlsplit(url)
    match = _CKAN_RESOURCE.match(parts.path)
    if match:
        return match.group("id")
    ids = parse_qs(parts.query).get("resource_id") or parse_qs(parts.query).get("id")
    return ids[0] if ids else None


def file_format(url_or_path: str) -> str | None:
    """csv or json, from a `format=` query parameter (ArcGIS Hub downloads) or the name's suffix; None if neither."""
    parts = urlsplit(url_or_path)
    wanted = (parse_qs(parts.query).get("format") or [""])[0].lower()
    if wanted in _FILE_FORMATS:
        return _FILE_FORMATS[wanted]
    suffix = parts.path.rsplit(".", 1)[-1].lower() if "." in parts.path.rsplit("/", 1)[-1] else ""
    return _FILE_FORMATS.get(suffix)
