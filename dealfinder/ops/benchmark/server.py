"""The synthetic county as ArcGIS REST layers on a loopback HTTP server (stdlib http.server, one thread).

Answers what properties.ingest.arcgis.ArcGISClient asks a real server:
- `GET  /arcgis/rest/services/<Layer>/FeatureServer/0?f=json`: layer metadata (maxRecordCount, objectIdField,
  fields, pagination support);
- `POST .../query` with `returnIdsOnly=true`: every object id;
- `POST .../query` with `objectIds=1,2,...`: those features (at most maxRecordCount, else
  `exceededTransferLimit`), `spatialReference` 4326;
- `POST .../query` with `resultOffset`/`resultRecordCount`: a page in object-id order.
Anything else gets an ArcGIS error body. Features are rendered on demand from the County, so the server holds
no copy of the data.

The server answers from a process of its own, forked when the block starts (the county generated before it; its
night, `County.day`, is in shared memory and moves on for the server too). A remote county's server spends none
of DealFinder's CPU: in a thread here its rendering and JSON would hold the interpreter lock the ingest needs.
The two still share the machine's cores. The CPU time spent answering is counted (`busy_seconds`).
"""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import re
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .county import EDIT_DATE_FIELD, County, Layer

MAX_RECORD_COUNT = 2000
WGS84 = {"wkid": 4326, "latestWkid": 4326}
PREFIX = "/arcgis/rest/services/"
EDITED_SINCE = re.compile(rf"(?:\(1=1\) AND )?{EDIT_DATE_FIELD} > TIMESTAMP '(?P<stamp>[0-9-]{{10}} [0-9:]{{8}})'")


class ArcGISCountyServer:
    """`with ArcGISCountyServer(county) as server: server.url(layer)`; serves until the block ends."""

    def __init__(self, county: County, *, max_record_count: int = MAX_RECORD_COUNT):
        self.county = county
        self.max_record_count = max_record_count
        self._counters = multiprocessing.get_context("fork").Array("d", 2)  # requests, busy seconds; shared
        self._address: tuple[str, int] | None = None
        self._process: multiprocessing.process.BaseProcess | None = None

    # --- lifecycle ------------------------------------------------------------------------------
    def __enter__(self) -> ArcGISCountyServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                server._handle(self, "GET")

            def do_POST(self):
                server._handle(self, "POST")

            def log_message(self, *args):  # quiet
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)  # listening before the fork: no race to connect
        httpd.daemon_threads = True
        self._address = httpd.server_address[:2]
        # The child only serves HTTP: it never touches the database connections it inherits, and it ends by a
        # signal, so nothing of theirs is closed or sent from it.
        self._process = multiprocessing.get_context("fork").Process(
            target=httpd.serve_forever, name="arcgis-county", daemon=True
        )
        self._process.start()
        httpd.server_close()  # this process's copy of the listening socket
        return self

    def __exit__(self, *exc) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.join(timeout=10)

    @property
    def requests(self) -> int:
        return int(self._counters[0])

    @property
    def busy_seconds(self) -> float:
        return self._counters[1]

    @property
    def base_url(self) -> str:
        host, port = self._address
        return f"http://{host}:{port}"

    def url(self, layer: Layer) -> str:
        return f"{self.base_url}{PREFIX}{layer.name}/FeatureServer/0"

    # --- requests -------------------------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler, method: str) -> None:
        began = time.thread_time()
        split = urlsplit(request.path)
        params = {k: v[-1] for k, v in parse_qs(split.query).items()}
        if method == "POST":
            length = int(request.headers.get("Content-Length") or 0)
            body = request.rfile.read(length).decode()
            params.update({k: v[-1] for k, v in parse_qs(body, keep_blank_values=True).items()})
        status, answer = self._answer(split.path, params)
        data = json.dumps(answer, separators=(",", ":")).encode()
        request.send_response(status)
        request.send_header("Content-Type", "application/json; charset=utf-8")
        request.send_header("Content-Length", str(len(data)))
        request.end_headers()
        request.wfile.write(data)
        with self._counters.get_lock():
            self._counters[0] += 1
            self._counters[1] += time.thread_time() - began

    def _layer(self, path: str) -> tuple[Layer | None, str]:
        if not path.startswith(PREFIX):
            return None, ""
        parts = path[len(PREFIX) :].split("/")  # <Layer>/FeatureServer/0[/query]
        if len(parts) < 3 or parts[1] != "FeatureServer" or parts[2] != "0":
            return None, ""
        layer = next((lyr for lyr in self.county.layers if lyr.name == parts[0]), None)
        return layer, "/".join(parts[3:])

    def _answer(self, path: str, params: dict[str, str]) -> tuple[int, dict]:
        layer, rest = self._layer(path)
        if layer is None:
            return 404, {"error": {"code": 404, "message": "Service not found", "details": []}}
        if rest == "":
            return 200, self._metadata(layer)
        if rest != "query":
            return 200, {"error": {"code": 400, "message": "Invalid URL", "details": []}}
        if params.get("returnIdsOnly") == "true":
            return 200, {"objectIdFieldName": "OBJECTID", "objectIds": self._ids(layer, params.get("where"))}
        if params.get("returnCountOnly") == "true":
            return 200, {"count": layer.count}
        if params.get("objectIds"):
            try:
                ids = [int(i) for i in params["objectIds"].split(",")]
            except ValueError:
                return 200, {"error": {"code": 400, "message": "Invalid objectIds", "details": []}}
        else:
            offset = int(params.get("resultOffset") or 0)
            count = min(int(params.get("resultRecordCount") or self.max_record_count), self.max_record_count)
            ids = list(range(offset + 1, min(offset + count, layer.count) + 1))
        exceeded = len(ids) > self.max_record_count
        features = layer.features(ids[: self.max_record_count])
        if "objectIds" not in params:
            exceeded = bool(ids) and ids[-1] < layer.count
        answer = {
            "objectIdFieldName": "OBJECTID",
            "geometryType": layer.geometry_type or "",
            "spatialReference": WGS84,
            "fields": _fields(layer),
            "features": features,
        }
        if exceeded:
            answer["exceededTransferLimit"] = True
        return 200, answer

    @staticmethod
    def _ids(layer: Layer, where: str | None) -> list[int]:
        """Every object id, or with editor tracking those edited after `EditDate > TIMESTAMP '...'` (UTC)."""
        match = EDITED_SINCE.fullmatch((where or "").strip()) if layer.edit_date else None
        if match is None:
            return list(range(1, layer.count + 1))
        since = dt.datetime.strptime(match["stamp"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=dt.UTC)
        return layer.edited_after(int(since.timestamp() * 1000))

    @staticmethod
    def _editor_tracking(layer: Layer) -> dict:
        if layer.edit_date is None:
            return {"editFieldsInfo": None}
        return {
            "editFieldsInfo": {"creationDateField": "", "creatorField": "", "editDateField": EDIT_DATE_FIELD,
                               "editorField": ""},
            "editingInfo": {"lastEditDate": layer.last_edit(), "dataLastEditDate": layer.last_edit()},
            "dateFieldsTimeReference": {"timeZone": "UTC", "respectsDaylightSaving": False},
        }  # fmt: skip

    def _metadata(self, layer: Layer) -> dict:
        return {
            **self._editor_tracking(layer),
            "currentVersion": 11.1,
            "id": 0,
            "name": layer.name,
            "type": "Feature Layer",
            "geometryType": layer.geometry_type,
            "extent": {"xmin": -81.66, "ymin": 28.35, "xmax": -81.05, "ymax": 28.79, "spatialReference": WGS84},
            "objectIdField": "OBJECTID",
            "fields": _fields(layer),
            "maxRecordCount": self.max_record_count,
            "advancedQueryCapabilities": {"supportsPagination": True, "supportsOrderBy": True},
            "capabilities": "Query",
        }


def _fields(layer: Layer) -> list[dict]:
    return [{"name": name, "type": kind, "alias": name} for name, kind in layer.all_fields()]
