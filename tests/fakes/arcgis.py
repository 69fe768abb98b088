"""A fake ArcGIS REST layer served by pytest-httpserver (a real local HTTP server).

    layer = FakeArcGISLayer(httpserver, features, max_record_count=100, fail_pages={3: "500"})
    reader = ArcGISReader(ArcGISClient(layer.url, retry_wait=0))

It answers `?f=json` metadata and `/query` (GET or POST) with `returnIdsOnly`, `returnCountOnly`,
`objectIds` chunks and `resultOffset`/`resultRecordCount` pages like a real server: answers are
capped at maxRecordCount with `exceededTransferLimit`, errors are `{"error": ...}` bodies.
Feature pages are numbered 1, 2, ... in the order their chunk or offset is first asked for;
`fail_pages` makes a page fail:

- "500", "503", "400", "404": that HTTP status, every time (retries are exhausted);
- "500_once", "503_once", "429_once": that status on the first try only, then the page;
- "error_body": HTTP 200 with an ArcGIS error body; "truncated": HTTP 200 with half the JSON.

Every request is logged in `layer.requests` (method, kind, params, page number).
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "arcgis"
WGS84 = {"wkid": 4326, "latestWkid": 4326}
ERROR_BODY = {"error": {"code": 400, "message": "Unable to complete operation.", "details": []}}
_layer_numbers = itertools.count()
EDITED_SINCE = re.compile(r"(?:\(1=1\) AND )?(?P<field>\w+) > TIMESTAMP '(?P<stamp>[0-9-]{10} [0-9:]{8})'")


def load_arcgis_fixture(name: str) -> dict:
    """A JSON file from tests/fixtures/arcgis/ (without the .json)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


@dataclass
class FakeRequest:
    method: str
    kind: str  # metadata, ids, count, page
    params: dict[str, str]
    headers: dict[str, str]
    page: int | None = None


class FakeArcGISLayer:
    def __init__(
        self,
        httpserver: HTTPServer,
        features: list[dict],
        *,
        fields: list[dict] | None = None,
        date_fields: Iterable[str] = (),
        object_id_field: str = "OBJECTID",
        max_record_count: int = 1000,
        server_limit: int | None = None,
        supports_pagination: bool = True,
        supports_ids: bool = True,
        geometry_type: str = "esriGeometryPoint",
        spatial_reference: dict | None = None,
        fields_in_answers: bool = True,
        fail_pages: dict[int, str] | None = None,
        name: str | None = None,
        answer_spatial_reference: dict | bool | None = True,
        metadata_extra: dict | None = None,
        edited_since_ok: bool = True,
    ):
        self.features = sorted(features, key=lambda f: f["attributes"][object_id_field])
        self.edited_since_ok = edited_since_ok  # False: refuses `<field> > TIMESTAMP '...'`, as older servers do
        self.oid = object_id_field
        self.fields = self._guess_fields(set(date_fields)) if fields is None else fields
        self.max_record_count = max_record_count
        self.server_limit = server_limit or max_record_count  # what it really answers at most
        self.supports_pagination = supports_pagination
        self.supports_ids = supports_ids
        self.geometry_type = geometry_type
        self.spatial_reference = spatial_reference or WGS84
        # What query answers say their coordinates are in: the layer's (True), another, or nothing (None),
        # as a server that ignores outSR and leaves the answer's spatialReference out does.
        self.answer_spatial_reference = (
            self.spatial_reference if answer_spatial_reference is True else answer_spatial_reference
        )
        self.metadata_extra = dict(metadata_extra or {})
        self.fields_in_answers = fields_in_answers
        self.fail_pages = dict(fail_pages or {})
        self.requests: list[FakeRequest] = []
        self._page_keys: list[tuple] = []
        self._failed_once: set[int] = set()
        self.path = f"/arcgis/rest/services/{name or f'Layer{next(_layer_numbers)}'}/FeatureServer/0"
        self.url = httpserver.url_for(self.path)
        httpserver.expect_request(self.path).respond_with_handler(self._metadata)
        httpserver.expect_request(f"{self.path}/query").respond_with_handler(self._query)

    @classmethod
    def from_fixture(cls, httpserver: HTTPServer, name: str, **options) -> FakeArcGISLayer:
        """A layer from `<name>-metadata.json` and `<name>-features.json` in tests/fixtures/arcgis/. An answer
        recorded without a spatialReference is served without one (the layer's is in its metadata)."""
        metadata = load_arcgis_fixture(f"{name}-metadata")
        answer = load_arcgis_fixture(f"{name}-features")
        layer_reference = (metadata.get("extent") or {}).get("spatialReference")
        defaults = {
            "fields": metadata["fields"],
            "object_id_field": metadata["objectIdField"],
            "max_record_count": metadata["maxRecordCount"],
            "geometry_type": metadata["geometryType"],
            "spatial_reference": answer.get("spatialReference") or layer_reference,
            "answer_spatial_reference": answer.get("spatialReference") is not None or None,
            "metadata_extra": {
                k: metadata[k]
                for k in ("name", "editFieldsInfo", "editingInfo", "dateFieldsTimeReference", "description")
                if k in metadata
            },
            "name": name,
        }
        return cls(httpserver, answer["features"], **{**defaults, **options})

    def _matching(self, where: str | None) -> list[dict] | None:
        """The features a `where` selects: every one, except for `[(1=1) AND ]<date field> > TIMESTAMP
        'YYYY-MM-DD HH:MM:SS'` (editor tracking), which is evaluated; None when it is refused (an error answer)."""
        match = EDITED_SINCE.fullmatch((where or "").strip())
        if match is None:
            return self.features
        if not self.edited_since_ok:
            return None
        since = dt.datetime.strptime(match["stamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        since_ms = int(since.timestamp() * 1000)
        return [f for f in self.features if (f["attributes"].get(match["field"]) or 0) > since_ms]

    # --- what the fake saw ---------------------------------------------------------------
    @property
    def page_requests(self) -> list[FakeRequest]:
        return [r for r in self.requests if r.kind == "page"]

    def requests_for_page(self, number: int) -> int:
        return sum(1 for r in self.page_requests if r.page == number)

    # --- handlers ---------------------------------------------------------------------
    def _guess_fields(self, date_fields: set[str]) -> list[dict]:
        sample = self.features[0]["attributes"] if self.features else {self.oid: 1}
        types = {int: "esriFieldTypeInteger", float: "esriFieldTypeDouble"}
        return [
            {
                "name": name,
                "type": "esriFieldTypeOID"
                if name == self.oid
                else "esriFieldTypeDate"
                if name in date_fields
                else types.get(type(value), "esriFieldTypeString"),
                "alias": name,
            }
            for name, value in sample.items()
        ]

    def _log(self, request: Request, kind: str, page: int | None = None) -> None:
        self.requests.append(FakeRequest(request.method, kind, dict(request.values), dict(request.headers), page))

    def _metadata(self, request: Request) -> Response:
        self._log(request, "metadata")
        body = {
            "currentVersion": 10.91,
            "id": 0,
            "name": "Fake layer",
            "type": "Feature Layer",
            "geometryType": self.geometry_type,
            "extent": {"xmin": 0, "ymin": 0, "xmax": 0, "ymax": 0, "spatialReference": self.spatial_reference},
            "objectIdField": self.oid,
            "fields": self.fields,
            "maxRecordCount": self.max_record_count,
            "advancedQueryCapabilities": {"supportsPagination": self.supports_pagination, "supportsOrderBy": True},
            "capabilities": "Query",
            **self.metadata_extra,
        }
        return _json(body)

    def _query(self, request: Request) -> Response:
        params = dict(request.values)
        features = self._matching(params.get("where")) if "objectIds" not in params else self.features
        if features is None:
            self._log(request, "ids" if params.get("returnIdsOnly") == "true" else "page")
            return _json(ERROR_BODY)
        if params.get("returnIdsOnly") == "true":
            self._log(request, "ids")
            if not self.supports_ids:
                return _json(ERROR_BODY)
            return _json({"objectIdFieldName": self.oid, "objectIds": [f["attributes"][self.oid] for f in features]})
        if params.get("returnCountOnly") == "true":
            self._log(request, "count")
            return _json({"count": len(features)})

        if "objectIds" in params:
            wanted = {int(i) for i in params["objectIds"].split(",")}
            key: tuple = ("ids", tuple(sorted(wanted)))
            selected = [f for f in features if f["attributes"][self.oid] in wanted]
            exceeded = len(selected) > self.server_limit
            selected = selected[: self.server_limit]
        else:
            if not self.supports_pagination and "resultOffset" in params:
                self._log(request, "page")
                return _json({"error": {"code": 400, "message": "Pagination is not supported.", "details": []}})
            offset = int(params.get("resultOffset", 0))
            count = min(int(params.get("resultRecordCount", self.server_limit)), self.server_limit)
            key = ("offset", offset)
            selected = features[offset : offset + count]
            exceeded = offset + count < len(features)

        if key not in self._page_keys:
            self._page_keys.append(key)
        number = self._page_keys.index(key) + 1
        self._log(request, "page", number)
        body = {
            "objectIdFieldName": self.oid,
            "geometryType": self.geometry_type,
            **({"spatialReference": self.answer_spatial_reference} if self.answer_spatial_reference else {}),
            **({"fields": self.fields} if self.fields_in_answers else {}),
            "features": selected,
            **({"exceededTransferLimit": True} if exceeded else {}),
        }
        return self._failure(number, body) or _json(body)

    def _failure(self, number: int, body: dict) -> Response | None:
        mode = self.fail_pages.get(number)
        if mode is None:
            return None
        if mode.endswith("_once"):
            if number in self._failed_once:
                return None
            self._failed_once.add(number)
            mode = mode.removesuffix("_once")
        if mode == "error_body":
            return _json(ERROR_BODY)
        if mode == "truncated":
            text = json.dumps(body)
            return Response(text[: len(text) // 2], content_type="application/json")
        return Response(json.dumps({"error": {"code": int(mode), "message": "Error"}}), status=int(mode))


def _json(body: dict) -> Response:
    return Response(json.dumps(body), content_type="application/json")


def point_features(count: int, *, start: int = 1, oid: str = "OBJECTID") -> list[dict]:
    """`count` simple point features (object ids start, start+1, ...) around downtown Orlando."""
    return [
        {
            "attributes": {oid: n, "PARCEL": f"PARCEL-{n:05d}", "SITUS": f"{100 + n} MAIN ST  "},
            "geometry": {"x": -81.3789 + (n % 100) * 0.001, "y": 28.5384 + (n // 100) * 0.001},
        }
        for n in range(start, start + count)
    ]
