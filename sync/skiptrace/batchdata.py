"""BatchData's property skip trace (API v3) as a SkipTraceProvider.

`POST {BATCHDATA_API_BASE_URL}/api/v3/property/skip-trace` with `Authorization: Bearer <token>` and up to 100
requests a call, each by property address or by parcel number:

    {"requests": [{"requestId": "owner-17", "propertyAddress": {"street", "city", "state", "zip"},
                   "name": {"first", "last"}},                       # name optional
                  {"requestId": "owner-18", "apn": "...", "county": "...", "state": "FL"}]}

The answer lists one item per request, echoing its input (`requestId` included) with up to three persons, each
with `name`, `propertyOwner`, `phones` (`number`, `type` "Mobile" | "Land Line" | ..., `carrier`, `dnc`, `tcpa`,
`reachable`, `rank`, `score`), `emails` (`email`, `rank`, `tested`), `litigator`, `deceased`, and `meta.matched` /
`meta.error`; `result.meta.results` counts requests, matches, no-matches and errors. Errors are
`{"status": {"code", "text", "message"}}`. Per BatchData, only matched properties are billed (a no-match and a
non-US address are free), which is what `TraceResult.billable` says. Test data: tests/fixtures/batchdata/.

How to integrate: see sync/skiptrace/base.py. `BatchDataProvider(settings.BATCHDATA_API_BASE_URL,
settings.BATCHDATA_API_TOKEN, cost_per_hit=settings.SKIPTRACE_COST_PER_HIT, timeout=settings.HTTP_TIMEOUT_SECONDS)`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import httpx

from sync.outbound import OutboundClient, OutboundError, retry_after_seconds
from sync.skiptrace.base import (
    Email,
    Person,
    Phone,
    PhoneType,
    SkipTraceError,
    TraceRequest,
    TraceResult,
    TraceStatus,
    phone_digits,
)

DEFAULT_BASE_URL = "https://api.batchdata.com"
PATH = "/api/v3/property/skip-trace"
MAX_ATTEMPTS = 4
_PHONE_TYPES = {
    "mobile": PhoneType.MOBILE,
    "wireless": PhoneType.MOBILE,
    "cell": PhoneType.MOBILE,
    "landline": PhoneType.LANDLINE,
    "fixed": PhoneType.LANDLINE,
    "voip": PhoneType.VOIP,
}
_HINTS = {
    400: "the request was refused",
    401: "the token was refused - check BATCHDATA_API_TOKEN",
    403: "the call was refused: the account's balance, or the token lacks skip-trace permission",
    404: "no such endpoint - check BATCHDATA_API_BASE_URL",
}


class BatchDataError(OutboundError):
    service = "BatchData"


class BatchDataProvider(OutboundClient):
    name = "batchdata"
    batch_size = 100
    error = BatchDataError

    def __init__(
        self,
        base_url: str,
        api_token: str,
        *,
        cost_per_hit: Decimal,
        timeout: float,
        http: httpx.Client | None = None,
        attempts: int = MAX_ATTEMPTS,
        first_wait: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if not api_token:
            raise SkipTraceError("BATCHDATA_API_TOKEN is not set")
        super().__init__(timeout=timeout, http=http, attempts=attempts, first_wait=first_wait, sleep=sleep)
        self.cost_per_hit = Decimal(cost_per_hit)
        self._url = (base_url or DEFAULT_BASE_URL).rstrip("/") + PATH
        self._headers = {"Authorization": f"Bearer {api_token}", "Accept": "application/json"}

    def trace(self, requests: Sequence[TraceRequest]) -> list[TraceResult]:
        if not requests:
            return []
        if len(requests) > self.batch_size:
            raise ValueError(f"BatchData takes at most {self.batch_size} properties a call, not {len(requests)}")
        keys = [r.key for r in requests]
        if len(set(keys)) != len(keys):
            raise ValueError("each request in a call needs its own key")
        body = {"requests": [_request_body(r) for r in requests]}
        try:
            data = self._with_retries(lambda: self._send(body))
        except BatchDataError as exc:
            raise SkipTraceError(str(exc)) from exc
        return _results(data, requests)

    def _send(self, body: dict) -> dict:
        response = self._exchange("POST", self._url, json=body, headers=self._headers)
        if response.status_code >= 400:
            raise _error_from(response)
        return self._json_object(response)


def _request_body(request: TraceRequest) -> dict[str, Any]:
    body: dict[str, Any] = {"requestId": request.key}
    if request.address is not None:
        address = {
            "street": request.address.street.strip(),
            "city": request.address.city.strip(),
            "state": request.address.state.strip(),
            "zip": request.address.zip_code.strip(),
        }
        body["propertyAddress"] = {k: v for k, v in address.items() if v}
    else:
        body |= {"apn": request.apn.strip(), "county": request.county.strip(), "state": request.state.strip()}
    name = {"first": request.owner_first.strip(), "last": request.owner_last.strip()}
    if any(name.values()):
        body["name"] = {k: v for k, v in name.items() if v}
    return body


def _error_from(response: httpx.Response) -> BatchDataError:
    """`{"status": {"code", "text", "message"}}`, with a hint for the statuses a user can fix."""
    try:
        data = response.json()
    except ValueError:
        data = {}
    status = data.get("status") if isinstance(data, dict) else None
    status = status if isinstance(status, dict) else {}
    said = str(status.get("message") or status.get("text") or response.reason_phrase or "error")
    code = response.status_code
    hint = _HINTS.get(code)
    message = f"{hint} ({said})" if hint else said
    retry_after = retry_after_seconds(response.headers) if code in (429, 503) else None
    return BatchDataError(code, message, retry_after=retry_after)


def _results(data: dict, requests: Sequence[TraceRequest]) -> list[TraceResult]:
    """One TraceResult per request, matched on the echoed requestId (by position when none is echoed)."""
    result = data.get("result")
    items = result.get("data") if isinstance(result, dict) else None
    if not isinstance(items, list):
        raise SkipTraceError("BatchData answered without result.data; the API may have changed")
    by_key: dict[str, dict] = {}
    for item in items:
        echoed = (item.get("input") or {}).get("requestId") if isinstance(item, dict) else None
        if echoed is not None:
            by_key[str(echoed)] = item
    if not by_key and len(items) == len(requests):
        by_key = {r.key: item for r, item in zip(requests, items, strict=True) if isinstance(item, dict)}
    return [_result(r.key, by_key.get(r.key)) for r in requests]


def _result(key: str, item: dict | None) -> TraceResult:
    if item is None:
        return TraceResult(key, TraceStatus.ERROR, message="BatchData returned no result for this property")
    meta = item.get("meta") or {}
    if meta.get("error"):
        message = str(meta.get("errorMessage") or meta.get("message") or "BatchData could not process this property")
        return TraceResult(key, TraceStatus.ERROR, message=message)
    if not meta.get("matched"):
        return TraceResult(key, TraceStatus.NO_HIT)
    persons = tuple(_person(p) for p in item.get("persons") or [] if isinstance(p, dict))
    return TraceResult(key, TraceStatus.HIT, persons=persons)


def _person(data: dict) -> Person:
    name = data.get("name") or {}
    first, last = (name.get("first") or "").strip(), (name.get("last") or "").strip()
    full = (name.get("full") or "").strip() or " ".join(
        p for p in (first, (name.get("middle") or "").strip(), last) if p
    )
    phones = [_phone(p) for p in data.get("phones") or data.get("phoneNumbers") or [] if isinstance(p, dict)]
    emails = [
        Email(address=str(e.get("email") or "").strip(), rank=_int(e.get("rank")), tested=_flag(e.get("tested")))
        for e in data.get("emails") or []
        if isinstance(e, dict) and str(e.get("email") or "").strip()
    ]
    return Person(
        full_name=full,
        first_name=first,
        last_name=last,
        is_owner=_flag(data.get("propertyOwner")),
        deceased=_flag(data.get("deceased")),
        litigator=_flag(data.get("litigator")),
        phones=tuple(p for p in phones if p.number),
        emails=tuple(emails),
    )


def _phone(data: dict) -> Phone:
    kind = re.sub(r"[^a-z]", "", str(data.get("type") or "").lower())
    return Phone(
        number=phone_digits(str(data.get("number") or "")),
        type=_PHONE_TYPES.get(kind, PhoneType.UNKNOWN),
        dnc=_flag(data.get("dnc")),
        tcpa=_flag(data.get("tcpa")),
        reachable=_flag(data.get("reachable")),
        rank=_int(data.get("rank")),
        score=_int(data.get("score")),
        carrier=str(data.get("carrier") or ""),
    )


def _flag(value: Any) -> bool | None:
    """A provider's yes/no: a boolean, or "true"/"false"/"Y"/"N"; None when absent or anything else."""
    if isinstance(value, bool):
        return value
    return {"true": True, "y": True, "yes": True, "false": False, "n": False, "no": False}.get(
        str(value).strip().lower() if value is not None else ""
    )


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except (TypeError, ValueError):
        return None
