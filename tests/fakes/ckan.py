"""A fake CKAN DataStore on pytest-httpserver: `datastore_search` (limit/offset/sort, `limit=0` for the fields only)
and `datastore_search_sql`, answered in CKAN's envelope (`{"help", "success", "result": {...}}`).

It lives under a site root (`/data`, as data.gov.au does) and, like CKAN, writes `_links` relative to that root,
not to the host, so a client that followed them blindly would leave the site. Errors are CKAN's: HTTP 404/409
with `{"success": false, "error": {"__type", "message"}}`. Requests are kept in `requests` (action, params).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import urlencode

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ckan"
ROOT = "/data"
_SQL = re.compile(
    r'^SELECT \* FROM "(?P<rid>[^"]+)" WHERE (?P<where>.+) ORDER BY _id LIMIT (?P<limit>\d+) OFFSET (?P<offset>\d+)$'
)


def load_ckan_fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


class FakeCKANResource:
    def __init__(self, httpserver: HTTPServer, answer: dict, *, fail_offsets: dict[int, int] | None = None):
        result = answer["result"]
        self.resource_id = result["resource_id"]
        self.fields = result["fields"]
        self.records = sorted(result["records"], key=lambda r: r["_id"])
        self.fail_offsets = dict(fail_offsets or {})
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.search_url = (
            httpserver.url_for(f"{ROOT}/api/3/action/datastore_search")
            + "?"
            + urlencode({"resource_id": self.resource_id})
        )
        self.resource_page = httpserver.url_for(f"{ROOT}/dataset/property-assessments/resource/{self.resource_id}")
        for action in ("datastore_search", "datastore_search_sql"):
            httpserver.expect_request(f"{ROOT}/api/3/action/{action}").respond_with_handler(self._handler(action))

    def _handler(self, action: str):
        def handle(request: Request) -> Response:
            params = dict(request.args)
            self.requests.append((action, params))
            return self._search(params) if action == "datastore_search" else self._sql(params)

        return handle

    def _envelope(self, action: str, result: dict) -> Response:
        body = {
            "help": f"http://localhost{ROOT}/api/3/action/help_show?name={action}",
            "success": True,
            "result": result,
        }
        return Response(json.dumps(body), content_type="application/json")

    def _error(self, status: int, kind: str, message: str) -> Response:
        body = {"help": "", "success": False, "error": {"__type": kind, "message": message}}
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _search(self, params: dict) -> Response:
        if params.get("resource_id") != self.resource_id:
            return self._error(
                404, "Not Found Error", f'Not found: Resource "{params.get("resource_id")}" was not found.'
            )
        try:
            limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
        except ValueError:
            return self._error(409, "Validation Error", "limit: Invalid integer")
        if offset in self.fail_offsets:
            return self._error(self.fail_offsets[offset], "Internal Server Error", "Datastore is busy")
        query = {"resource_id": self.resource_id}
        result = {
            "include_total": True,
            "limit": limit,
            "records_format": "objects",
            "resource_id": self.resource_id,
            "total_estimation_threshold": None,
            "records": self.records[offset : offset + limit],
            "fields": self.fields,
            "_links": {
                "start": f"/api/3/action/datastore_search?{urlencode(query)}",
                "next": f"/api/3/action/datastore_search?{urlencode({**query, 'offset': offset + limit})}",
            },
            "total": len(self.records),
            "total_was_estimated": False,
        }
        if "offset" in params:
            result["offset"] = offset
        return self._envelope("datastore_search", result)

    def _sql(self, params: dict) -> Response:
        match = _SQL.match(params.get("sql", ""))
        if not match or match.group("rid") != self.resource_id:
            return self._error(409, "Validation Error", "query: Query is not a single statement.")
        field, _, value = match.group("where").partition(" = ")
        records = [r for r in self.records if str(r.get(field.strip('"'))) == value.strip("'")]
        limit, offset = int(match.group("limit")), int(match.group("offset"))
        result = {"records": records[offset : offset + limit], "fields": self.fields, "sql": params["sql"]}
        return self._envelope("datastore_search_sql", result)
