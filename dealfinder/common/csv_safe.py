"""The one CSV writer for every file DealFinder hands out, and the cell rule its XLSX exports share.

A spreadsheet runs a cell that starts with =, +, -, @, a tab or a carriage return as a formula
(CSV/formula injection): an owner name such as `=HYPERLINK("https://evil", "click")` from a public
record would become a live link or command in the broker's Excel. OWASP's remedy, applied to every
text cell: prefix such a cell with a single quote (the spreadsheet shows the text as typed) and quote
fields (the csv module does). Numbers stay numbers: `-12.5` and a phone `+14075550001` are left alone.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

from django.http import HttpResponse, StreamingHttpResponse

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value):
    """The value as it may go into a CSV/XLSX cell: text a spreadsheet would evaluate gets a leading quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable) -> list:
    return [safe_cell(value) for value in row]


class _Echo:
    """A file-like whose write() hands the line back, so csv.writer can feed a streaming response."""

    def write(self, value: str) -> str:
        return value


def csv_lines(rows: Iterable[Iterable]) -> Iterator[str]:
    """Each row as one CSV line (every field through safe_cell), lazily."""
    writer = csv.writer(_Echo())
    for row in rows:
        yield writer.writerow(safe_row(row))


def csv_response(rows: Iterable[Iterable], *, filename: str, streaming: bool = False) -> HttpResponse:
    """An attachment of the rows (header first) as CSV; `streaming` for exports that may run to many rows."""
    if streaming:
        response = StreamingHttpResponse(csv_lines(rows), content_type="text/csv")
    else:
        response = HttpResponse("".join(csv_lines(rows)), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
