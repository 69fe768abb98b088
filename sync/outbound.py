"""What the outreach clients share (Lob, skip-trace providers): the retry policy and the JSON exchange.

Network errors, HTTP 5xx and 429 are retried with exponential backoff; when the answer says how long to wait
(`Retry-After` in seconds or as an HTTP date, or a rate-limit reset the client read), the wait is at least that,
capped at MAX_WAIT_SECONDS. Every other answer is final. Every request has the client's timeout, and `sleep` is
injectable so tests never wait.
"""

from __future__ import annotations

import datetime
import email.utils
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt, wait_exponential

T = TypeVar("T")
MAX_WAIT_SECONDS = 60.0


class OutboundError(Exception):
    """A failed call to an outside service: its HTTP status (0 for a network error), message and error code."""

    service = "outside service"

    def __init__(self, status_code: int, message: str, *, code: str = "", retry_after: float | None = None):
        self.status_code = status_code
        self.message = message
        self.code = code
        self.retry_after = retry_after
        where = "network error" if status_code == 0 else f"HTTP {status_code}"
        super().__init__(f"{self.service} {where}: {message}" + (f" ({code})" if code else ""))

    @property
    def retryable(self) -> bool:
        return self.status_code == 0 or self.status_code == 429 or self.status_code >= 500


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """`Retry-After` as seconds from now (it may be a number of seconds or an HTTP date); None when absent."""
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def call_with_retries(call: Callable[[], T], *, attempts: int, first_wait: float, sleep: Callable[[float], None]) -> T:
    """`call()` until it succeeds, raises a final error, or `attempts` tries have failed (the last error is raised)."""
    exponential = wait_exponential(multiplier=first_wait, max=MAX_WAIT_SECONDS)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        asked = getattr(exc, "retry_after", None)
        if asked is None:
            return exponential(state)
        return max(exponential(state), min(float(asked), MAX_WAIT_SECONDS))

    retrying = Retrying(
        retry=retry_if_exception(lambda exc: isinstance(exc, OutboundError) and exc.retryable),
        wait=wait,
        stop=stop_after_attempt(attempts),
        sleep=sleep,
        reraise=True,
    )
    return retrying(call)


class OutboundClient:
    """Base of a JSON-over-HTTPS client: `error` is the client's OutboundError subclass, raised for every failure."""

    error: type[OutboundError] = OutboundError

    def __init__(
        self,
        *,
        timeout: float,
        http: httpx.Client | None,
        attempts: int,
        first_wait: float,
        sleep: Callable[[float], None],
    ):
        self._http = http or httpx.Client()
        self._timeout = timeout
        self._attempts = attempts
        self._first_wait = first_wait
        self._sleep = sleep

    def _with_retries(self, call: Callable[[], T]) -> T:
        return call_with_retries(call, attempts=self._attempts, first_wait=self._first_wait, sleep=self._sleep)

    def _exchange(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request with the timeout; a network failure becomes `error(0, ...)`."""
        try:
            return self._http.request(method, url, timeout=self._timeout, **kwargs)
        except httpx.TransportError as exc:
            raise self.error(0, f"{type(exc).__name__}: {exc}") from exc

    def _json_object(self, response: httpx.Response) -> dict:
        try:
            data = response.json()
        except ValueError as exc:
            raise self.error(response.status_code, "the answer is not JSON") from exc
        if not isinstance(data, dict):
            raise self.error(response.status_code, "the answer is not a JSON object")
        return data
