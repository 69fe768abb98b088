"""A fake Socrata (SODA) resource on pytest-httpserver: `$limit`/`$offset` paging in `:id` order, `$where`
on the system field `:updated_at` (`:updated_at > '<ISO time>'`), and the dataset's metadata at
`/api/views/<id>.json` (its columns: given, or derived from the rows; `columns=False` answers 404 as a portal
without that API does).

Pages are numbered by `$offset // $limit + 1`; `fail_pages={2: 500}` answers that page with that
HTTP status every time. Every row request's query parameters and headers are kept in `requests`;
metadata requests are counted in `metadata_requests`. A `$where` the fake cannot read answers 400
with Socrata's error body, unless `where_ok` says so.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "socrata"


def load_socrata_fixture(name: str) -> list[dict]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class FakeSocrataDataset:
    def __init__(
        self,
        httpserver: HTTPServer,
        rows: list[dict],
        *,
        dataset_id: str = "k6e8-nw6w",
        fail_pages: dict[int, int] | None = None,
        columns: list[dict] | bool | None = None,
        name: str = "Code Enforcement Cases",
        where_ok: bool = True,
    ):
        self.rows = sorted(rows, key=lambda r: r[":id"])
        self.fail_pages = dict(fail_pages or {})
        self.columns = derive_columns(self.rows) if columns is None or columns is True else columns
        self.name = name
        self.where_ok = where_ok
        self.requests: list[tuple[dict[str, str], dict[str, str]]] = []  # (query params, headers)
        self.metadata_requests = 0
        path = f"/resource/{dataset_id}.json"
        self.url = httpserver.url_for(path)
        self.dataset_id = dataset_id
        httpserver.expect_request(path, method="GET").respond_with_handler(self._handle)
        httpserver.expect_request(f"/api/views/{dataset_id}.json", method="GET").respond_with_handler(self._metadata)

    def _metadata(self, request: Request) -> Response:
        self.metadata_requests += 1
        if self.columns is False:
            body = {"code": "not_found", "error": True, "message": "Cannot find view with id " + self.dataset_id}
            return Response(json.dumps(body), status=404, content_type="application/json")
        body = {
            "id": self.dataset_id,
            "name": self.name,
            "assetType": "dataset",
            "displayType": "table",
            "rowsUpdatedAt": 1733097600,
            "viewType": "tabular",
            "columns": self.columns,
        }
        return Response(json.dumps(body), content_type="application/json")

    def _handle(self, request: Request) -> Response:
        params = dict(request.args)
        self.requests.append((params, dict(request.headers)))
        limit, offset = int(params.get("$limit", 1000)), int(params.get("$offset", 0))
        status = self.fail_pages.get(offset // limit + 1)
        if status:
            body = {"code": "internal.error", "error": True, "message": "Internal error"}
            return Response(json.dumps(body), status=status, content_type="application/json")
        rows = (
            self.rows
            if params.get("$select") == ":*, *"
            else [{k: v for k, v in row.items() if not k.startswith(":")} for row in self.rows]
        )
        since = UPDATED_AFTER.search(params.get("$where", ""))
        if since:
            if not self.where_ok:
                body = {
                    "code": "query.soql.no-such-column",
                    "error": True,
                    "message": "No such column: :updated_at; position: Map(row -> 1, column -> 1)",
                }
                return Response(json.dumps(body), status=400, content_type="application/json")
            rows = [row for row in rows if row.get(":updated_at", "") > since.group(1)]
        return Response(json.dumps(rows[offset : offset + limit]), content_type="application/json")


UPDATED_AFTER = re.compile(r":updated_at > '([^']+)'")


def derive_columns(rows: list[dict]) -> list[dict]:
    """Socrata column metadata for the rows' fields (points and legacy locations typed as such)."""
    columns: dict[str, str] = {}
    for row in rows:
        for key, value in row.items():
            if key.startswith(":") or (key in columns and columns[key] != "text"):
                continue
            if isinstance(value, dict) and "coordinates" in value:
                columns[key] = "point"
            elif isinstance(value, dict) and "latitude" in value:
                columns[key] = "location"
            else:
                columns.setdefault(key, "text")
    return [
        {"id": 1000 + n, "name": key.replace("_", " ").title(), "fieldName": key, "position": n + 1,
         "dataTypeName": kind, "renderTypeName": kind}
        for n, (key, kind) in enumerate(columns.items())
    ]  # fmt: skip
