"""A fake Socrata (SODA) resource on pytest-httpserver: `$limit`/`$offset` paging in `:id` order.

Pages are numbered by `$offset // $limit + 1`; `fail_pages={2: 500}` answers that page with that
HTTP status every time. Every request's query parameters and headers are kept in `requests`.
"""

from __future__ import annotations

import json
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
    ):
        self.rows = sorted(rows, key=lambda r: r[":id"])
        self.fail_pages = dict(fail_pages or {})
        self.requests: list[tuple[dict[str, str], dict[str, str]]] = []  # (query params, headers)
        path = f"/resource/{dataset_id}.json"
        self.url = httpserver.url_for(path)
        httpserver.expect_request(path, method="GET").respond_with_handler(self._handle)

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
        return Response(json.dumps(rows[offset : offset + limit]), content_type="application/json")
