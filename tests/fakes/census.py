"""A fake US Census batch geocoder (`/geocoder/locations/addressbatch`) on pytest-httpserver.

Answers come from tests/fixtures/census/addressbatch-answers.csv, looked up by the uploaded
address and sent back in reverse order under the uploaded ids; unknown addresses are No_Match.
`fail_statuses` answers the next requests with those HTTP statuses first.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

ANSWERS = Path(__file__).resolve().parent.parent / "fixtures" / "census" / "addressbatch-answers.csv"
PATH = "/geocoder/locations/addressbatch"


class FakeCensusGeocoder:
    def __init__(self, httpserver: HTTPServer, *, fail_statuses: list[int] | None = None):
        with ANSWERS.open(newline="") as f:
            self.answers = {row[1].upper(): row[2:] for row in csv.reader(f)}
        self.fail_statuses = list(fail_statuses or [])
        self.uploads: list[list[list[str]]] = []  # rows of every accepted upload
        self.benchmarks: list[str] = []
        self.url = httpserver.url_for(PATH)
        httpserver.expect_request(PATH, method="POST").respond_with_handler(self._handle)

    @property
    def requests(self) -> int:
        return len(self.uploads)

    def _handle(self, request: Request) -> Response:
        if self.fail_statuses:
            return Response("Service Unavailable", status=self.fail_statuses.pop(0))
        rows = list(csv.reader(io.StringIO(request.files["addressFile"].read().decode())))
        self.uploads.append(rows)
        self.benchmarks.append(request.form["benchmark"])
        out = io.StringIO()
        writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n")
        for row_id, street, city, state, zip_code in reversed(rows):
            address = f"{street}, {city}, {state}, {zip_code}"
            writer.writerow([row_id, address, *self.answers.get(address.upper(), ["No_Match"])])
        return Response(out.getvalue(), content_type="text/csv")
