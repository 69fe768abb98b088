"""Pacing for GoHighLevel's rate limits: wait before the budget runs out, never after a 429.

GoHighLevel allows 100 requests per 10 seconds (the burst limit) and 200,000 a day per location, and every answer
says where a client stands (https://marketplace.gohighlevel.com/docs/other/rate-limits):

    X-RateLimit-Max                     requests allowed in one interval (X-RateLimit-Limit is read when it is absent)
    X-RateLimit-Remaining               requests left in the current interval
    X-RateLimit-Interval-Milliseconds   the interval's length
    X-RateLimit-Limit-Daily             requests allowed per day
    X-RateLimit-Daily-Remaining         requests left today
    Retry-After                         on a 429 (or 503): seconds, or an HTTP date, before trying again

The daily counter is shared by every token of a location (every Private Integration token, every process), so
the pacer keeps its state in a store shared by every process: `RedisStore` in production, `MemoryStore` in tests
and single-process runs. Before each request `before_request()` reserves a start time: the requests left in the
interval (less `headroom`, kept for callers that do not pace) are spread evenly over what remains of the interval,
so the client slows down as the budget shrinks and waits for a fresh interval when it is spent; a 429 or a
Retry-After holds every process until the time GoHighLevel gave. When today's remaining budget is below
`daily_reserve`, `before_request()` raises `DailyBudgetExhausted` instead (how much is left, the reserve): the run
stops cleanly and the next run, once GoHighLevel reports a fresh day, resumes where it stopped. A wait longer than
`max_wait` raises `PacingWaitTooLong` rather than holding a worker for an hour. Nothing here reads settings:
the caller passes the store, the reserve, and (in tests) the clock and the sleep.

How it is wired
---------------
Settings (README, "GoHighLevel"): `GHL_DAILY_RESERVE` (default 10000: requests kept for webhooks' follow-ups and
brokers' own GoHighLevel use), `GHL_PACING_HEADROOM` (default 2), `GHL_PACING_MAX_WAIT` (seconds, default 120),
`GHL_PACING_REDIS_URL` (default: the cache's Redis, CACHE_URL). `sync.runs.ghl_pacer()` builds the location's pacer
(a `RedisStore` when Redis is configured, else one `MemoryStore` per process) and `sync.runs.ghl_client()` hands it
to `GHLClient(..., pacer=...)`, which calls `before_request()` / `after_response()` around every request it sends,
retries included (a client built without one paces itself alone with a private MemoryStore and no reserve).
`event_hooks()` does the same for a bare `httpx.Client`. `DailyBudgetExhausted` and `PacingWaitTooLong` are not
`GHLError`s, so they pass through the client's retries: push, pull and reconcile catch `PacingStop` and record their
sync log "partial" with the message (`SyncRun.finish`); the push resumes by its payload hashes, the reconcile from
its cursor. The sync health page (/sync/health/) shows `pacer.budget()`.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx
from redis.exceptions import WatchError

from sync.outbound import retry_after_seconds

DEFAULT_INTERVAL_SECONDS = 10.0
DEFAULT_INTERVAL_MAX = 100
STATE_TTL_SECONDS = 2 * 24 * 3600
CLOCK_BACK_TOLERANCE_SECONDS = 60.0  # state written further ahead than this was written by a clock since set back


class PacingStop(Exception):
    """The run should stop now and resume later (a clean stop, not a failure)."""


class DailyBudgetExhausted(PacingStop):
    def __init__(self, *, remaining: int, reserve: int, location_id: str):
        self.remaining = remaining
        self.reserve = reserve
        self.location_id = location_id
        super().__init__(
            f"GoHighLevel daily budget nearly spent for location {location_id}: {remaining} requests left today, "
            f"below the reserve of {reserve} (GHL_DAILY_RESERVE); stopped here, the next run resumes"
        )


class PacingWaitTooLong(PacingStop):
    def __init__(self, *, wait: float, max_wait: float):
        self.wait = wait
        self.max_wait = max_wait
        super().__init__(
            f"GoHighLevel asked to wait {wait:.0f} s before the next request, longer than {max_wait:.0f} s "
            "(GHL_PACING_MAX_WAIT); stopped here, the next run resumes"
        )


@dataclass(frozen=True)
class RateLimitHeaders:
    """What one answer said about the limits (None: the header was absent or unreadable)."""

    interval_max: int | None = None
    interval_remaining: int | None = None
    interval_seconds: float | None = None
    daily_limit: int | None = None
    daily_remaining: int | None = None
    retry_after: float | None = None

    @classmethod
    def parse(cls, headers: Mapping[str, str], *, now: float) -> RateLimitHeaders:
        interval_ms = _number(headers.get("X-RateLimit-Interval-Milliseconds"))
        return cls(
            interval_max=_integer(headers.get("X-RateLimit-Max") or headers.get("X-RateLimit-Limit")),
            interval_remaining=_integer(headers.get("X-RateLimit-Remaining")),
            interval_seconds=interval_ms / 1000 if interval_ms else None,
            daily_limit=_integer(headers.get("X-RateLimit-Limit-Daily")),
            daily_remaining=_integer(headers.get("X-RateLimit-Daily-Remaining")),
            retry_after=retry_after_seconds(headers, now=now),
        )


@dataclass(frozen=True)
class Budget:
    """Where a location stands, for the sync health page."""

    daily_limit: int | None
    daily_remaining: int | None
    daily_read_at: float | None  # epoch seconds
    interval_remaining: int | None
    resume_at: float | None  # epoch seconds, when GoHighLevel asked to hold

    @property
    def used_today(self) -> int | None:
        if self.daily_limit is None or self.daily_remaining is None:
            return None
        return max(0, self.daily_limit - self.daily_remaining)


# --- stores ----------------------------------------------------------------------------------------


class PacingStore(Protocol):
    def update(self, key: str, change: Callable[[dict], dict]) -> dict:
        """Atomically: read the state under `key` ({} when none), apply `change`, save and return its result.
        An exception raised by `change` leaves the state as it was."""

    def read(self, key: str) -> dict: ...


class MemoryStore:
    """One process's state (tests, a single worker)."""

    def __init__(self):
        self._data: dict[str, dict] = {}
        self._lock = threading.Lock()

    def update(self, key: str, change: Callable[[dict], dict]) -> dict:
        with self._lock:
            new = change(dict(self._data.get(key, {})))
            self._data[key] = new
            return dict(new)

    def read(self, key: str) -> dict:
        with self._lock:
            return dict(self._data.get(key, {}))


class RedisStore:
    """State shared by every process, in Redis: an optimistic WATCH/MULTI transaction, retried on a conflict."""

    def __init__(self, client, *, prefix: str = "dealfinder:ghl-pacing:", ttl: int = STATE_TTL_SECONDS):
        self._client = client  # a redis.Redis
        self._prefix = prefix
        self._ttl = ttl

    def update(self, key: str, change: Callable[[dict], dict]) -> dict:
        name = self._prefix + key
        while True:
            with self._client.pipeline() as pipe:
                try:
                    pipe.watch(name)
                    new = change(_loads(pipe.get(name)))
                    pipe.multi()
                    pipe.set(name, json.dumps(new), ex=self._ttl)
                    pipe.execute()
                    return new
                except WatchError:  # another process changed it in between: read again
                    continue

    def read(self, key: str) -> dict:
        return _loads(self._client.get(self._prefix + key))


def _loads(raw: Any) -> dict:
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# --- the pacer -------------------------------------------------------------------------------------


class GHLPacer:
    """Paces every request to one GoHighLevel location; see the module docstring."""

    def __init__(
        self,
        store: PacingStore,
        *,
        location_id: str,
        daily_reserve: int,
        headroom: int = 2,
        max_wait: float = 120.0,
        daily_recheck: float = 3600.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if daily_reserve < 0 or headroom < 0:
            raise ValueError("daily_reserve and headroom are counts of requests, 0 or more")
        self.store = store
        self.location_id = location_id
        self.daily_reserve = daily_reserve
        self.headroom = headroom
        self.max_wait = max_wait
        # A daily count below the reserve is trusted this long; after it one request may go to learn whether
        # GoHighLevel's day has turned (its answer refreshes the count).
        self.daily_recheck = daily_recheck
        self.clock = clock
        self.sleep = sleep

    @property
    def key(self) -> str:
        return self.location_id

    def before_request(self) -> float:
        """Wait until this request may start (returns the seconds waited); raise `PacingStop` instead of waiting
        when today's budget is below the reserve or the wait would exceed `max_wait`."""
        now = self.clock()
        slot: dict[str, float] = {}

        def reserve(state: dict) -> dict:
            _forget_if_clock_went_back(state, now)
            self._check_daily(state, now)
            interval = float(state.get("interval") or DEFAULT_INTERVAL_SECONDS)
            start = max(now, state.get("next_at", 0.0), state.get("resume_at", 0.0))
            window_end = state.get("read_at", 0.0) + interval  # the interval seen last ends by then at the latest
            if start >= window_end:  # a fresh interval: its whole budget is there
                left = int(state.get("max") or DEFAULT_INTERVAL_MAX)
                window_end = start + interval
                state["read_at"] = start
            else:
                left = int(state.get("remaining", state.get("max") or DEFAULT_INTERVAL_MAX))
            usable = left - self.headroom
            if usable <= 0:  # spent (but for the headroom): wait for the next interval
                start = window_end
                usable = int(state.get("max") or DEFAULT_INTERVAL_MAX) - self.headroom
                left = int(state.get("max") or DEFAULT_INTERVAL_MAX)
                window_end = start + interval
                state["read_at"] = start
            wait = start - now
            if wait > self.max_wait:
                raise PacingWaitTooLong(wait=wait, max_wait=self.max_wait)
            state["next_at"] = start + (window_end - start) / max(usable, 1)
            state["remaining"] = left - 1
            if state.get("daily_remaining") is not None:
                state["daily_remaining"] = state["daily_remaining"] - 1
            slot["wait"] = wait
            state["written_at"] = now
            return state

        self.store.update(self.key, reserve)
        if slot["wait"] > 0:
            self.sleep(slot["wait"])
        return slot["wait"]

    def after_response(self, status_code: int, headers: Mapping[str, str]) -> RateLimitHeaders:
        """Record what GoHighLevel said (its numbers are authoritative: they replace the pacer's estimates)."""
        now = self.clock()
        seen = RateLimitHeaders.parse(headers, now=now)

        def record(state: dict) -> dict:
            _forget_if_clock_went_back(state, now)
            state["written_at"] = now
            if seen.interval_seconds:
                state["interval"] = seen.interval_seconds
            if seen.interval_max is not None:
                state["max"] = seen.interval_max
            if seen.interval_remaining is not None:
                # The interval seen first ends by read_at + interval at the latest; only more requests left than
                # expected show a new interval (from now on, at the latest).
                if "read_at" not in state or seen.interval_remaining > state.get("remaining", 0):
                    state["read_at"] = now
                state["remaining"] = seen.interval_remaining
            if seen.daily_limit is not None:
                state["daily_limit"] = seen.daily_limit
            if seen.daily_remaining is not None:
                state["daily_remaining"] = seen.daily_remaining
                state["daily_read_at"] = now
            hold = seen.retry_after
            if status_code == 429:  # the interval is spent and ends when GoHighLevel said (else a whole interval)
                interval = float(state.get("interval") or DEFAULT_INTERVAL_SECONDS)
                hold = interval if hold is None else hold
                state["remaining"] = 0
                state["read_at"] = now + hold - interval
            if hold is not None and status_code in (429, 503):
                state["resume_at"] = max(state.get("resume_at", 0.0), now + hold)
            return state

        self.store.update(self.key, record)
        return seen

    def budget(self) -> Budget:
        state = self.store.read(self.key)
        resume_at = state.get("resume_at")
        return Budget(
            daily_limit=state.get("daily_limit"),
            daily_remaining=state.get("daily_remaining"),
            daily_read_at=state.get("daily_read_at"),
            interval_remaining=state.get("remaining"),
            resume_at=resume_at if resume_at and resume_at > self.clock() else None,
        )

    def event_hooks(self) -> dict[str, list[Callable]]:
        """httpx event hooks that pace every request of a client: `httpx.Client(event_hooks=pacer.event_hooks())`."""

        def on_request(request: httpx.Request) -> None:
            self.before_request()

        def on_response(response: httpx.Response) -> None:
            self.after_response(response.status_code, response.headers)

        return {"request": [on_request], "response": [on_response]}

    def _check_daily(self, state: dict, now: float) -> None:
        remaining = state.get("daily_remaining")
        if remaining is None or remaining >= self.daily_reserve:
            return
        if now - state.get("daily_read_at", 0.0) >= self.daily_recheck:
            state["daily_read_at"] = now  # an old count: this one request learns the current one, the others wait
            return
        raise DailyBudgetExhausted(remaining=remaining, reserve=self.daily_reserve, location_id=self.location_id)


def _forget_if_clock_went_back(state: dict, now: float) -> None:
    """A clock set back (NTP, a restored VM) would leave every window and wait in the far future: start afresh,
    and let GoHighLevel's next headers say where the budget stands."""
    if state.get("written_at", 0.0) > now + CLOCK_BACK_TOLERANCE_SECONDS:
        state.clear()


def _number(value: str | None) -> float | None:
    try:
        number = float(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def _integer(value: str | None) -> int | None:
    number = _number(value)
    return int(number) if number is not None else None
