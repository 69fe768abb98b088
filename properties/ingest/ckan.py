"""CKAN DataStore reader: `datastore_search` paged by `limit`/`offset` in `_id` order.

A source's URL is the resource's `.../api/3/action/datastore_search?resource_id=<id>` (a resource page
`.../dataset/<name>/resource/<id>` is turned into that). Each answer is `{"success": true, "result": {"fields",
"records", "total", "_links": {"start", "next"}}}`; `_links.next` is relative to the CKAN root, which need not
be the host's root, so the next offset is computed here instead of following it. With a `where` clause the
rows come from `datastore_search_sql` (`SELECT * FROM "<id>" WHERE ... ORDER BY _id LIMIT .. OFFSET ..`).
Errors (`{"success": false, "error": {...}}`, any HTTP status) carry the server's message.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from properties.ingest.base import Page, RawRecord, SourceError
from properties.ingest.http import (
    PAGE_ERRORS,
    RETRY_WAIT,
    ClientHolder,
    describe_error,
    json_error_text,
    offset_pages,
    send,
)
from properties.ingest.schema import SourceField, SourceSchema
from properties.ingest.urls import ckan_resource_id, ckan_search_url

ROW_ID = "_id"


class CKANError(ValueError):
    """A CKAN answer with `success: false`, or one that is not a datastore result."""


class CKANReader(ClientHolder):
    def __init__(
        self,
        url: str,
        *,
        where: str | None = None,
        page_size: int = 1000,
        http: httpx.Client | None = None,
        timeout: float | None = None,
        retry_wait: float = RETRY_WAIT,
    ):
        self.url = ckan_search_url(url)
        self.resource_id = ckan_resource_id(self.url)
        parts = urlsplit(self.url)
        self.endpoint = urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self.where = where if where and where.strip() not in ("", "1=1") else None
        self.page_size = page_size
        self.http = http
        self.timeout = timeout
        self.retry_wait = retry_wait
        self.total: int | None = None

    def _action(self, name: str, params: dict[str, Any]) -> dict:
        url = self.endpoint.rsplit("/", 1)[0] + f"/{name}"
        kwargs: dict[str, Any] = {"params": params}
        if self.timeout is not None:
            kwargs["timeout"] = self.timeout
        data = json.loads(send(self.client, "GET", url, retry_wait=self.retry_wait, **kwargs).content)
        if not isinstance(data, dict) or data.get("success") is False:
            said = json_error_text(data) if isinstance(data, dict) else str(data)[:200]
            raise CKANError(f"CKAN error: {said or 'the request failed'}")
        result = data.get("result")
        if not isinstance(result, dict) or not isinstance(result.get("records", []), list):
            raise CKANError("CKAN answered without a datastore result")
        return result

    def _search(self, offset: int, limit: int) -> dict:
        if self.where:
            sql = (
                f'SELECT * FROM "{self.resource_id}" WHERE {self.where} '  # noqa: S608 - the server checks it
                f"ORDER BY {ROW_ID} LIMIT {int(limit)} OFFSET {int(offset)}"
            )
            return self._action("datastore_search_sql", {"sql": sql})
        params = {"resource_id": self.resource_id, "limit": limit, "offset": offset, "sort": f"{ROW_ID} asc"}
        return self._action("datastore_search", params)

    def _check(self) -> None:
        if not self.resource_id:
            raise SourceError(f"{self.url} names no CKAN resource: add ?resource_id=<id>")

    def schema(self) -> SourceSchema:
        """The resource's fields and CKAN types (one request for no rows)."""
        self._check()
        try:
            result = self._action("datastore_search", {"resource_id": self.resource_id, "limit": 0})
        except PAGE_ERRORS as exc:
            raise SourceError(f"cannot read CKAN resource {self.resource_id}: {describe_error(exc)}") from None
        self.total = result.get("total") if isinstance(result.get("total"), int) else None
        fields = tuple(
            SourceField(f["id"], str(f.get("type", "")), str((f.get("info") or {}).get("label") or ""))
            for f in result.get("fields") or []
            if isinstance(f, dict) and f.get("id") and f["id"] != ROW_ID
        )
        return SourceSchema(fields, system=frozenset({ROW_ID}))

    def sample(self, size: int) -> list[RawRecord]:
        self._check()
        try:
            return [ckan_record(r) for r in self._search(0, size).get("records") or []]
        except PAGE_ERRORS as exc:
            raise SourceError(f"cannot read CKAN resource {self.resource_id}: {describe_error(exc)}") from None

    def __iter__(self) -> Iterator[Page]:
        self._check()
        try:
            yield from offset_pages(self._fetch, page_size=self.page_size)
        finally:
            self.close()

    def _fetch(self, offset: int) -> tuple[list[RawRecord], bool]:
        result = self._search(offset, self.page_size)
        records = [ckan_record(r) for r in result.get("records") or []]
        total = result.get("total")
        more = isinstance(total, int) and not result.get("total_was_estimated") and offset + len(records) < total
        return records, more


def ckan_record(row: dict) -> RawRecord:
    if not isinstance(row, dict) or row.get(ROW_ID) is None:
        raise CKANError("CKAN record without its _id")
    return RawRecord(external_id=str(row[ROW_ID]), attributes=row)
