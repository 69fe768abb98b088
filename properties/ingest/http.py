"""Shared HTTP plumbing for the outside-system clients: httpx client, retry policy, offset paging.

Retries (tenacity, exponential backoff, honouring `Retry-After`) cover network errors, HTTP 5xx
and 429 only; any other 4xx is final. Every request carries a timeout (settings.HTTP_TIMEOUT_SECONDS).
Every request, redirects included, first passes the SSRF guard (dealfinder.common.outbound.url_check_public):
http(s) only and, unless settings.INGEST_ALLOW_PRIVATE_URLS, a host resolving to public addresses only.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator

import httpx
from django.conf import settings
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from dealfinder.common.outbound import UnsafeURLError, url_check_public
from properties.ingest.base import Page, RawRecord

USER_AGENT = "DealFinder/1.0"
RETRY_ATTEMPTS = 4  # the first try plus three retries
RETRY_WAIT = 1.0  # seconds before the first retry; doubles each time, capped at RETRY_WAIT_MAX
RETRY_WAIT_MAX = 30.0
# What makes a single page fail (the page becomes an error page, paging goes on).
PAGE_ERRORS = (httpx.HTTPError, ValueError)
MAX_FAILED_PAGES_IN_A_ROW = 3  # offset paging cannot know where the data ends once pages fail


def guard_request(request: httpx.Request) -> None:
    """httpx request hook: refuse a URL (or a redirect target) that is not http(s) or not public.

    The host is resolved here, just before the request; httpx resolves it again to connect, so a
    rebinding DNS server with a zero TTL could still race it, but not a name that simply points inside.
    """
    url_check_public(str(request.url))


def http_client() -> httpx.Client:
    """An httpx client with DealFinder's User-Agent, the configured timeout and the SSRF guard."""
    return httpx.Client(
        headers={"User-Agent": USER_AGENT},
        timeout=settings.HTTP_TIMEOUT_SECONDS,
        follow_redirects=True,
        max_redirects=5,
        event_hooks={"request": [guard_request]},
    )


class ClientHolder:
    """A reader's httpx client: the one it was given (`http`), else its own, made on first use and closed by close()."""

    http: httpx.Client | None = None
    _own_client: httpx.Client | None = None

    @property
    def client(self) -> httpx.Client:
        if self.http is not None:
            return self.http
        if self._own_client is None or self._own_client.is_closed:
            self._own_client = http_client()
        return self._own_client

    def close(self) -> None:
        if self._own_client is not None:
            self._own_client.close()


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code == 429 or exc.response.status_code >= 500
    return isinstance(exc, httpx.TransportError)


def send(
    client: httpx.Client,
    method: str,
    url: str,
    *,
    retry_wait: float = RETRY_WAIT,
    attempts: int = RETRY_ATTEMPTS,
    **kwargs,
) -> httpx.Response:
    """One request with the retry policy; raises httpx.HTTPStatusError for a final non-2xx answer."""
    kwargs.setdefault("timeout", settings.HTTP_TIMEOUT_SECONDS)
    retrying = Retrying(
        retry=retry_if_exception(is_retryable),
        stop=stop_after_attempt(attempts),
        wait=_backoff(retry_wait),
        reraise=True,
    )
    for attempt in retrying:
        with attempt:
            response = client.request(method, url, **kwargs)
            response.raise_for_status()
    return response


def _backoff(retry_wait: float) -> Callable[[RetryCallState], float]:
    """Exponential backoff, or longer when a 429/503 asks for it in `Retry-After` (seconds), capped."""
    exponential = wait_exponential(multiplier=retry_wait, max=RETRY_WAIT_MAX)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = exc.response.headers.get("Retry-After", "") if isinstance(exc, httpx.HTTPStatusError) else ""
        try:
            return max(exponential(state), min(float(asked), RETRY_WAIT_MAX))
        except ValueError:  # absent, or an HTTP date
            return exponential(state)

    return wait


def describe_error(exc: BaseException) -> str:
    """A short, human-readable reason for a failed request or page, with the server's own words when it sent any."""
    if isinstance(exc, httpx.HTTPStatusError):
        reason = f"HTTP {exc.response.status_code} from {exc.request.method} {exc.request.url.copy_with(query=None)}"
        said = server_error_text(exc.response)
        return f"{reason}: {said}" if said else reason
    if isinstance(exc, json.JSONDecodeError):
        return f"invalid JSON in response: {exc}"
    if isinstance(exc, httpx.TransportError):
        return f"{type(exc).__name__}: {exc}"
    if isinstance(exc, UnsafeURLError):
        return f"refused URL: {exc}"
    return str(exc)


SERVER_TEXT_LIMIT = 300
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAGS = re.compile(r"<[^>]+>")


def server_error_text(response: httpx.Response) -> str:
    """What the server said about an error, in its own words: an ArcGIS `{"error": {...}}`, a Socrata
    `{"message": ...}`, a CKAN `{"success": false, "error": {...}}`, a plain-text body or an HTML page's title."""
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return ""
    try:
        body = json.loads(text)
    except ValueError:
        title = _TITLE.search(text)
        plain = title.group(1) if title else _TAGS.sub(" ", text) if "<" in text else text
        return _short(plain)
    return _short(json_error_text(body)) if isinstance(body, dict) else ""


def json_error_text(body: dict) -> str:
    """The message of an error body from ArcGIS, Socrata or CKAN ("" when the body is not one)."""
    error = body.get("error")
    if isinstance(error, dict):  # ArcGIS {"code", "message", "details"}; CKAN {"__type", "message", field: [...]}
        message = error.get("message") or error.get("__type") or ""
        extra = [str(d) for d in error.get("details") or [] if d]
        extra += [f"{k}: {'; '.join(map(str, v))}" for k, v in error.items() if isinstance(v, list) and k != "details"]
        code = f"{error['code']}: " if error.get("code") not in (None, "") else ""
        return code + "; ".join(p for p in (str(message), *extra) if p)
    if body.get("message"):  # Socrata {"code", "error": true, "message"} or {"errorCode", "message"}
        return str(body["message"])
    return ""


def _short(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= SERVER_TEXT_LIMIT else text[: SERVER_TEXT_LIMIT - 1] + "…"


def offset_pages(fetch: Callable[[int], tuple[list[RawRecord], bool]], *, page_size: int) -> Iterator[Page]:
    """Page through `fetch(offset) -> (records, more)` until an empty or short page without `more`.

    A failing page is yielded as an error page and paging continues with the next offset,
    until MAX_FAILED_PAGES_IN_A_ROW pages in a row have failed.
    """
    offset, number, failures = 0, 0, 0
    while failures < MAX_FAILED_PAGES_IN_A_ROW:
        number += 1
        try:
            records, more = fetch(offset)
        except PAGE_ERRORS as exc:
            yield Page(number, error=f"records {offset}-{offset + page_size - 1}: {describe_error(exc)}")
            failures += 1
            offset += page_size
            continue
        failures = 0
        if not records:
            return
        yield Page(number, records=records)
        offset += len(records)
        if not (more or len(records) >= page_size):
            return
