"""GoHighLevel API v2 client: typed results, paced by sync.pacing (rate-limit headers, Retry-After, the daily
reserve), retries on 429/5xx only.

Requests follow the official OpenAPI files (tests/fixtures/gohighlevel/apps/*.json), including
their known defects: `POST /conversations/messages` requires `subType` (an object) and `status`.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from sync.pacing import GHLPacer, MemoryStore

API_VERSION = "2021-07-28"
CONVERSATIONS_API_VERSION = "2021-04-15"
MAX_ATTEMPTS = 5
# After this many requests in a row failed with a retryable error (each after MAX_ATTEMPTS tries), the client
# stops calling GoHighLevel: every further request fails at once with GHLUnavailable, so an outage during a
# push of thousands of leads costs a few requests and minutes, not hours of timeouts. A success resets it.
BREAK_AFTER_FAILURES = 3


class GHLError(Exception):
    """An error answer from GoHighLevel (or a network failure: status_code 0)."""

    def __init__(self, status_code: int, message: str, trace_id: str = ""):
        self.status_code = status_code
        self.message = message
        self.trace_id = trace_id
        super().__init__(f"GoHighLevel {status_code}: {message}" + (f" (traceId {trace_id})" if trace_id else ""))

    @property
    def retryable(self) -> bool:
        return self.status_code == 0 or self.status_code == 429 or self.status_code >= 500


class GHLUnavailable(GHLError):
    """GoHighLevel kept failing (network, 5xx, 429) for BREAK_AFTER_FAILURES requests in a row; not called again."""

    def __init__(self, failures: int, last: GHLError):
        super().__init__(
            0, f"unavailable: {failures} requests in a row failed (last: {last.message}); not retried in this run"
        )


class GHLAuthError(GHLError):
    """401: the token is missing, expired or lacks the scope (check GHL_API_TOKEN)."""

    def __init__(self, message: str, trace_id: str = ""):
        super().__init__(
            401, f"{message} - check GHL_API_TOKEN (a Private Integration token of the location)", trace_id
        )


def parse_datetime(value: Any) -> datetime.datetime | None:
    """GoHighLevel ISO-8601 strings ("2021-07-02T05:18:26.704Z") or epoch milliseconds."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.datetime.fromtimestamp(value / 1000, tz=datetime.UTC)
    try:
        parsed = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class Contact:
    id: str
    first_name: str = ""
    last_name: str = ""
    company_name: str = ""
    email: str = ""
    phone: str = ""
    tags: list[str] = field(default_factory=list)
    dnd: bool = False
    custom_fields: dict[str, Any] = field(default_factory=dict)  # custom field id -> value
    date_updated: datetime.datetime | None = None
    raw: dict = field(default_factory=dict, compare=False, repr=False)  # the object as GoHighLevel answered it

    @classmethod
    def from_api(cls, data: dict) -> Contact:
        """From a contact object (API answers and Contact* webhook payloads share this shape)."""
        custom = {}
        for item in data.get("customFields") or []:
            if isinstance(item, dict) and item.get("id"):
                custom[item["id"]] = item.get("value", item.get("fieldValue"))
        return cls(
            id=data["id"],
            first_name=data.get("firstName") or "",
            last_name=data.get("lastName") or "",
            company_name=data.get("companyName") or "",
            email=data.get("email") or "",
            phone=data.get("phone") or "",
            tags=[str(t) for t in data.get("tags") or []],
            dnd=bool(data.get("dnd")),
            custom_fields=custom,
            date_updated=parse_datetime(data.get("dateUpdated")),
            raw=data,
        )


@dataclass(frozen=True)
class UpsertResult:
    contact: Contact
    new: bool


@dataclass(frozen=True)
class ContactPage:
    contacts: list[Contact]
    total: int | None
    search_after: list | None = None  # the last contact's cursor, when the API gives one


@dataclass(frozen=True)
class Opportunity:
    id: str
    name: str = ""
    status: str = ""
    pipeline_id: str = ""
    pipeline_stage_id: str = ""
    contact_id: str = ""
    monetary_value: float | None = None
    updated_at: datetime.datetime | None = None

    @classmethod
    def from_api(cls, data: dict) -> Opportunity:
        return cls(
            id=data["id"],
            name=data.get("name") or "",
            status=data.get("status") or "",
            pipeline_id=data.get("pipelineId") or "",
            pipeline_stage_id=data.get("pipelineStageId") or "",
            contact_id=data.get("contactId") or "",
            monetary_value=data.get("monetaryValue"),
            updated_at=parse_datetime(data.get("updatedAt")),
        )


@dataclass(frozen=True)
class OpportunityPage:
    opportunities: list[Opportunity]
    total: int | None
    next_page: int | None


@dataclass(frozen=True)
class Pipeline:
    id: str
    name: str
    stages: list[dict]


@dataclass(frozen=True)
class CustomField:
    id: str
    key: str  # "contact.dealfinder_score"
    name: str
    data_type: str


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    contact_id: str


@dataclass(frozen=True)
class SentMessage:
    conversation_id: str
    message_id: str
    status: str


class GHLClient:
    """One location's GoHighLevel API. Every request, retries included, passes `pacer` (sync.pacing; by default one
    that paces this client alone, with no daily reserve). `clock`/`sleep` are injectable so tests never wait."""

    def __init__(
        self,
        base_url: str,
        token: str,
        location_id: str,
        *,
        timeout: float,
        http: httpx.Client | None = None,
        retry_wait: Callable | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        pacer: GHLPacer | None = None,
    ):
        self.location_id = location_id
        self._http = http or httpx.Client()
        self._base_url = base_url.rstrip("/")
        self._token = token
        self._timeout = timeout
        self._retry_wait = retry_wait or wait_exponential(multiplier=1, min=1, max=30)
        self._sleep = sleep
        self.pacer = pacer or GHLPacer(
            MemoryStore(), location_id=location_id, daily_reserve=0, clock=clock, sleep=sleep
        )
        self._failures_in_a_row = 0
        self._last_failure: GHLError | None = None

    # --- transport -------------------------------------------------------------------
    def _send(self, method: str, path: str, *, json: dict | None, params: dict | None, version: str) -> dict:
        self.pacer.before_request()  # may raise PacingStop (not a GHLError: never retried)
        headers = {
            "Authorization": f"Bearer {self._token}",
            "Version": version,
            "Accept": "application/json",
        }
        if json is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self._http.request(
                method, self._base_url + path, json=json, params=params, headers=headers, timeout=self._timeout
            )
        except httpx.TransportError as exc:
            raise GHLError(0, f"{type(exc).__name__}: {exc}") from exc
        self.pacer.after_response(response.status_code, response.headers)
        if response.status_code >= 400:
            raise _error_from(response)
        if not response.content:
            return {}
        try:
            return response.json()
        except ValueError as exc:
            raise GHLError(response.status_code, "the answer is not JSON") from exc

    def _request(
        self, method: str, path: str, *, json: dict | None = None, params: dict | None = None, version=API_VERSION
    ) -> dict:
        retrying = Retrying(
            retry=retry_if_exception(lambda exc: isinstance(exc, GHLError) and exc.retryable),
            wait=self._retry_wait,
            stop=stop_after_attempt(MAX_ATTEMPTS),
            sleep=self._sleep,
            reraise=True,
        )
        if self._failures_in_a_row >= BREAK_AFTER_FAILURES:
            raise GHLUnavailable(self._failures_in_a_row, self._last_failure)
        try:
            data = retrying(self._send, method, path, json=json, params=params, version=version)
        except GHLError as exc:
            if exc.retryable:
                self._failures_in_a_row += 1
                self._last_failure = exc
            else:  # GoHighLevel answered (a 4xx): it is up
                self._failures_in_a_row = 0
            raise
        self._failures_in_a_row = 0
        return data

    # --- contacts ---------------------------------------------------------------------
    def contact_upsert(self, body: dict) -> UpsertResult:
        data = self._request("POST", "/contacts/upsert", json={**body, "locationId": self.location_id})
        return UpsertResult(contact=Contact.from_api(_object(data, "contact")), new=bool(data.get("new")))

    def contact_update(self, contact_id: str, body: dict) -> Contact:
        data = self._request("PUT", f"/contacts/{contact_id}", json=body)
        return Contact.from_api(data.get("contact") or {"id": contact_id})

    def contact_search(
        self, *, tag: str, page: int = 1, page_limit: int = 100, search_after: list | None = None
    ) -> ContactPage:
        body: dict[str, Any] = {
            "locationId": self.location_id,
            "pageLimit": page_limit,
            "filters": [{"field": "tags", "operator": "contains", "value": tag}],
        }
        if search_after is not None:
            body["searchAfter"] = search_after
        else:
            body["page"] = page
        data = self._request("POST", "/contacts/search", json=body)
        raw = data.get("contacts") or []
        return ContactPage(
            contacts=[Contact.from_api(c) for c in raw],
            total=data.get("total"),
            search_after=raw[-1].get("searchAfter") if raw else None,
        )

    def contact_search_all(self, *, tag: str, page_limit: int = 100) -> Iterator[Contact]:
        """Every contact carrying `tag`: follows `searchAfter` cursors when given (needed past 10,000
        results), else page numbers; stops at a short page or the total."""
        page, seen, cursor = 1, 0, None
        while True:
            result = self.contact_search(tag=tag, page=page, page_limit=page_limit, search_after=cursor)
            yield from result.contacts
            seen += len(result.contacts)
            if len(result.contacts) < page_limit or (result.total is not None and seen >= result.total):
                return
            page, cursor = page + 1, result.search_after

    def contact_get(self, contact_id: str) -> Contact:
        data = self._request("GET", f"/contacts/{contact_id}")
        return Contact.from_api(_object(data, "contact"))

    def contact_search_changed(
        self, *, since: datetime.datetime, page_limit: int = 100, search_after: list | None = None
    ) -> ContactPage:
        """Contacts updated at or after `since`, oldest change first, paged by the `searchAfter` cursor."""
        body: dict[str, Any] = {
            "locationId": self.location_id,
            "pageLimit": page_limit,
            "filters": [{"field": "dateUpdated", "operator": "range", "value": {"gte": _iso(since)}}],
            "sort": [{"field": "dateUpdated", "direction": "asc"}],
        }
        if search_after is not None:
            body["searchAfter"] = search_after
        else:
            body["page"] = 1
        data = self._request("POST", "/contacts/search", json=body)
        raw = [c for c in data.get("contacts") or [] if isinstance(c, dict) and c.get("id")]
        return ContactPage(
            contacts=[Contact.from_api(c) for c in raw],
            total=data.get("total"),
            search_after=raw[-1].get("searchAfter") if raw else None,
        )

    def contact_ids_present(self, contact_ids: list[str]) -> set[str] | None:
        """Which of these contacts (at most 100) still exist: one search on their ids (deleted ones leave search).
        None when the answer holds contacts not asked for: the id filter was not applied, so nothing can be told."""
        body = {
            "locationId": self.location_id,
            "pageLimit": max(1, len(contact_ids)),
            "page": 1,
            "filters": [{"field": "id", "operator": "eq", "value": list(contact_ids)}],
        }
        data = self._request("POST", "/contacts/search", json=body)
        found = {c["id"] for c in data.get("contacts") or [] if isinstance(c, dict) and c.get("id")}
        return found if found <= set(contact_ids) else None

    def contact_add_tags(self, contact_id: str, tags: list[str]) -> list[str]:
        return self._request("POST", f"/contacts/{contact_id}/tags", json={"tags": tags}).get("tags") or []

    def contact_remove_tags(self, contact_id: str, tags: list[str]) -> list[str]:
        return self._request("DELETE", f"/contacts/{contact_id}/tags", json={"tags": tags}).get("tags") or []

    def contact_add_to_workflow(self, contact_id: str, workflow_id: str) -> bool:
        data = self._request("POST", f"/contacts/{contact_id}/workflow/{workflow_id}", json={})
        return bool(data.get("succeded", True))

    def task_create(self, contact_id: str, *, title: str, body: str, due: datetime.datetime) -> Task:
        payload = {
            "title": title,
            "body": body,
            "dueDate": due.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "completed": False,
        }
        task = self._request("POST", f"/contacts/{contact_id}/tasks", json=payload).get("task") or {}
        return Task(id=task.get("id", ""), title=task.get("title", title), contact_id=contact_id)

    def custom_fields(self, *, model: str = "contact") -> list[CustomField]:
        data = self._request("GET", f"/locations/{self.location_id}/customFields", params={"model": model})
        return [
            CustomField(id=f["id"], key=f.get("fieldKey", ""), name=f.get("name", ""), data_type=f.get("dataType", ""))
            for f in data.get("customFields") or []
            if f.get("id")
        ]

    # --- opportunities ----------------------------------------------------------------
    def opportunity_create(self, body: dict) -> Opportunity:
        data = self._request("POST", "/opportunities/", json={**body, "locationId": self.location_id})
        return Opportunity.from_api(_object(data, "opportunity"))

    def opportunity_update(self, opportunity_id: str, body: dict) -> Opportunity:
        data = self._request("PUT", f"/opportunities/{opportunity_id}", json=body)
        return Opportunity.from_api(data.get("opportunity") or {"id": opportunity_id})

    def opportunity_search(
        self, *, pipeline_id: str = "", contact_id: str = "", page: int = 1, limit: int = 100
    ) -> OpportunityPage:
        params: dict[str, Any] = {"location_id": self.location_id, "page": page, "limit": limit}
        if pipeline_id:
            params["pipeline_id"] = pipeline_id
        if contact_id:
            params["contact_id"] = contact_id
        data = self._request("GET", "/opportunities/search", params=params)
        meta = data.get("meta") or {}
        return OpportunityPage(
            opportunities=[Opportunity.from_api(o) for o in data.get("opportunities") or []],
            total=meta.get("total"),
            next_page=meta.get("nextPage"),
        )

    def pipelines(self) -> list[Pipeline]:
        data = self._request("GET", "/opportunities/pipelines", params={"locationId": self.location_id})
        return [
            Pipeline(id=p["id"], name=p.get("name", ""), stages=p.get("stages") or [])
            for p in data.get("pipelines") or []
        ]

    # --- conversations ----------------------------------------------------------------
    def sms_send(self, contact_id: str, message: str) -> SentMessage:
        body = {"type": "SMS", "subType": {}, "status": "pending", "contactId": contact_id, "message": message}
        data = self._request("POST", "/conversations/messages", json=body, version=CONVERSATIONS_API_VERSION)
        return SentMessage(
            conversation_id=data.get("conversationId", ""),
            message_id=data.get("messageId", ""),
            status=data.get("status", ""),
        )


def _iso(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _object(data: dict, key: str) -> dict:
    """The created object in an answer; an answer without its id is an error, not a KeyError."""
    value = data.get(key)
    if not isinstance(value, dict) or not value.get("id"):
        raise GHLError(200, f"the answer has no {key}.id")
    return value


def _error_from(response: httpx.Response) -> GHLError:
    """`{statusCode, message, error?, traceId?}`; message may be a list (422)."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    message = data.get("message") or data.get("error") or response.reason_phrase or "error"
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    trace_id = str(data.get("traceId") or response.headers.get("x-trace-id") or "")
    if response.status_code == 401:
        return GHLAuthError(str(message), trace_id)
    return GHLError(response.status_code, str(message), trace_id)
