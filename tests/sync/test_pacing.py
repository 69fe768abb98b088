"""The GoHighLevel pacer: exact waits with a fake clock, shared state, the daily reserve, the httpx hooks."""

import email.utils
import threading
import uuid

import httpx
import pytest
import redis
import respx
from django.conf import settings as django_settings

from sync.pacing import (
    DailyBudgetExhausted,
    GHLPacer,
    MemoryStore,
    PacingWaitTooLong,
    RateLimitHeaders,
    RedisStore,
)
from tests.sync.fake_ghl_state import ManualClock

T0 = 1_767_225_600.0  # 2026-01-01 00:00:00 UTC


def limits(remaining: int, *, daily: int | None = None, interval_ms: int = 10_000, maximum: int = 100) -> dict:
    headers = {
        "X-RateLimit-Max": str(maximum),
        "X-RateLimit-Remaining": str(remaining),
        "X-RateLimit-Interval-Milliseconds": str(interval_ms),
    }
    if daily is not None:
        headers |= {"X-RateLimit-Limit-Daily": "200000", "X-RateLimit-Daily-Remaining": str(daily)}
    return headers


@pytest.fixture
def clock():
    return ManualClock(T0)


def make_pacer(clock, store=None, **options) -> GHLPacer:
    options.setdefault("daily_reserve", 1000)
    return GHLPacer(store or MemoryStore(), location_id="loc1", clock=clock, sleep=clock.sleep, **options)


# --- headers ---------------------------------------------------------------------------------------------


def test_every_header_is_read():
    headers = limits(42, daily=150_000) | {"Retry-After": "7"}
    assert RateLimitHeaders.parse(headers, now=T0) == RateLimitHeaders(
        interval_max=100,
        interval_remaining=42,
        interval_seconds=10.0,
        daily_limit=200_000,
        daily_remaining=150_000,
        retry_after=7.0,
    )


def test_limit_stands_in_for_max_and_bad_values_are_unknown():
    headers = {"X-RateLimit-Limit": "50", "X-RateLimit-Remaining": "many", "X-RateLimit-Interval-Milliseconds": "-5"}
    assert RateLimitHeaders.parse(headers, now=T0) == RateLimitHeaders(interval_max=50)


def test_retry_after_as_an_http_date():
    when = email.utils.formatdate(T0 + 30, usegmt=True)
    assert RateLimitHeaders.parse({"Retry-After": when}, now=T0).retry_after == 30.0


# --- pacing within the interval ---------------------------------------------------------------------------


def test_a_fresh_location_starts_at_once_and_spreads_the_interval(clock):
    pacer = make_pacer(clock, headroom=0)
    assert pacer.before_request() == 0
    assert pacer.before_request() == pytest.approx(0.1)  # 100 requests over 10 s
    assert pacer.before_request() == pytest.approx(0.1)


def test_a_low_remaining_budget_slows_down_before_it_runs_out(clock):
    pacer = make_pacer(clock, headroom=2)
    pacer.before_request()
    pacer.after_response(200, limits(5))  # 5 left in this interval, which ends by T0 + 10 at the latest
    waits = [pacer.before_request() for _ in range(4)]
    # the slot reserved before the answer (100 left: 98 usable over 10 s), then 3 usable (2 kept as headroom)
    # spread over what is left of the interval, then a fresh interval
    first = 10 / 98
    assert waits == pytest.approx([first, (10 - first) / 3, (10 - first) / 3, (10 - first) / 3])
    assert clock.now == pytest.approx(T0 + 10)


def test_server_numbers_replace_the_estimate_and_a_new_interval_is_noticed(clock):
    pacer = make_pacer(clock, headroom=0)
    pacer.before_request()
    pacer.after_response(200, limits(1))
    clock.now += 2
    pacer.after_response(200, limits(99))  # more left than expected: a new interval began
    assert pacer.budget().interval_remaining == 99
    assert pacer.before_request() == 0
    assert pacer.before_request() == pytest.approx(10 / 99)


def test_a_spent_interval_waits_for_the_next(clock):
    pacer = make_pacer(clock, headroom=0)
    pacer.before_request()  # the interval this request counts in began by T0
    clock.now += 4
    pacer.after_response(200, limits(0))
    assert pacer.before_request() == pytest.approx(6.0)  # so it ends by T0 + 10


def test_a_clock_set_back_starts_afresh_instead_of_waiting_for_the_old_future(clock):
    pacer = make_pacer(clock, headroom=0)
    pacer.before_request()
    pacer.after_response(200, limits(0))  # spent: the next request would wait for the interval's end
    clock.now -= 30 * 24 * 3600  # the clock is set back a month
    assert pacer.before_request() == 0
    assert pacer.budget().interval_remaining == 99  # a fresh interval, until GoHighLevel's headers say otherwise


def test_the_interval_length_comes_from_the_headers(clock):
    pacer = make_pacer(clock, headroom=0)
    pacer.before_request()
    pacer.after_response(200, limits(0, interval_ms=60_000))
    assert pacer.before_request() == pytest.approx(60.0)


# --- 429 and Retry-After -------------------------------------------------------------------------------


def test_retry_after_holds_the_next_request(clock):
    pacer = make_pacer(clock)
    pacer.before_request()
    pacer.after_response(429, limits(0) | {"Retry-After": "7"})
    assert pacer.before_request() == pytest.approx(7.0)
    assert clock.sleeps == [pytest.approx(7.0)]


def test_a_429_without_retry_after_waits_an_interval(clock):
    pacer = make_pacer(clock)
    pacer.before_request()
    pacer.after_response(429, {})
    assert pacer.before_request() == pytest.approx(10.0)


def test_retry_after_on_a_success_is_ignored(clock):
    pacer = make_pacer(clock, headroom=0)
    pacer.before_request()
    pacer.after_response(200, limits(99) | {"Retry-After": "30"})
    assert pacer.before_request() == pytest.approx(0.1, abs=0.01)


def test_a_wait_longer_than_max_wait_stops_the_run_and_reserves_nothing(clock):
    pacer = make_pacer(clock, max_wait=60)
    pacer.before_request()
    pacer.after_response(429, {"Retry-After": "3600"})
    before = pacer.store.read("loc1")
    with pytest.raises(PacingWaitTooLong) as caught:
        pacer.before_request()
    assert (caught.value.wait, caught.value.max_wait) == (3600, 60)
    assert "wait 3600 s" in str(caught.value) and "GHL_PACING_MAX_WAIT" in str(caught.value)
    assert pacer.store.read("loc1") == before
    assert clock.sleeps == []


# --- the daily budget ------------------------------------------------------------------------------------


def test_below_the_daily_reserve_the_run_stops_with_the_numbers(clock):
    pacer = make_pacer(clock, daily_reserve=10_000)
    pacer.before_request()
    pacer.after_response(200, limits(90, daily=9_999))
    with pytest.raises(DailyBudgetExhausted) as caught:
        pacer.before_request()
    assert (caught.value.remaining, caught.value.reserve) == (9_999, 10_000)
    assert str(caught.value) == (
        "GoHighLevel daily budget nearly spent for location loc1: 9999 requests left today, below the reserve of "
        "10000 (GHL_DAILY_RESERVE); stopped here, the next run resumes"
    )
    assert clock.sleeps == []


def test_the_reserve_counts_requests_sent_since_the_last_answer(clock):
    pacer = make_pacer(clock, daily_reserve=10_000, headroom=0)
    pacer.before_request()
    pacer.after_response(200, limits(90, daily=10_001))
    pacer.before_request()  # 10,001 -> 10,000 left
    pacer.before_request()  # 10,000 -> 9,999
    with pytest.raises(DailyBudgetExhausted):
        pacer.before_request()


def test_an_old_daily_count_lets_one_request_learn_the_new_day(clock):
    pacer = make_pacer(clock, daily_reserve=10_000, daily_recheck=3600)
    pacer.before_request()
    pacer.after_response(200, limits(90, daily=50))
    clock.now += 3600  # the next run
    assert pacer.before_request() == 0  # the probe
    with pytest.raises(DailyBudgetExhausted):  # the others wait for its answer
        pacer.before_request()
    pacer.after_response(200, limits(99, daily=199_999))  # a new day at GoHighLevel
    pacer.before_request()
    assert pacer.budget().daily_remaining == 199_998


def test_budget_for_the_health_page(clock):
    pacer = make_pacer(clock)
    assert pacer.budget().used_today is None
    pacer.before_request()
    pacer.after_response(429, limits(0, daily=150_000) | {"Retry-After": "5"})
    budget = pacer.budget()
    assert (budget.daily_limit, budget.daily_remaining, budget.used_today) == (200_000, 150_000, 50_000)
    assert (budget.daily_read_at, budget.interval_remaining, budget.resume_at) == (T0, 0, T0 + 5)
    clock.now += 6
    assert pacer.budget().resume_at is None


def test_negative_settings_are_refused(clock):
    with pytest.raises(ValueError):
        make_pacer(clock, daily_reserve=-1)


# --- shared by every process -----------------------------------------------------------------------------


def test_two_processes_share_one_schedule(clock):
    store = MemoryStore()
    worker, web = make_pacer(clock, store, headroom=0), make_pacer(clock, store, headroom=0)
    assert worker.before_request() == 0
    worker.after_response(200, limits(4))
    assert web.before_request() == pytest.approx(10 / 100)  # behind the worker's slot
    assert worker.before_request() == pytest.approx((10 - 10 / 100) / 4)  # 4 left, shared
    web.after_response(429, {"Retry-After": "20"})
    assert worker.before_request() == pytest.approx(20)  # GoHighLevel's hold holds every process


def test_locations_are_paced_apart(clock):
    store = MemoryStore()
    one = make_pacer(clock, store, headroom=0)
    other = GHLPacer(store, location_id="loc2", daily_reserve=0, clock=clock, sleep=clock.sleep)
    one.before_request()
    one.after_response(429, {"Retry-After": "30"})
    assert other.before_request() == 0


@pytest.fixture
def redis_client():
    if not django_settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs the Redis from `make services`")
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    yield client
    client.close()


def test_redis_store_shares_the_schedule_between_clients(clock, redis_client):
    prefix = f"test-pacing-{uuid.uuid4().hex}:"
    other_client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    try:
        worker = make_pacer(clock, RedisStore(redis_client, prefix=prefix), headroom=0)
        web = make_pacer(clock, RedisStore(other_client, prefix=prefix), headroom=0)
        worker.before_request()
        worker.after_response(200, limits(4, daily=150_000))
        assert web.before_request() == pytest.approx(10 / 100)
        assert worker.before_request() == pytest.approx((10 - 10 / 100) / 4)
        assert web.budget().daily_remaining == 149_998
        assert 0 < redis_client.ttl(prefix + "loc1") <= 2 * 24 * 3600
    finally:
        redis_client.delete(prefix + "loc1")
        other_client.close()


def test_redis_store_updates_are_atomic_under_contention(redis_client):
    prefix = f"test-pacing-{uuid.uuid4().hex}:"
    stores = [RedisStore(redis.Redis.from_url(django_settings.CELERY_BROKER_URL), prefix=prefix) for _ in range(4)]

    def count(store):
        for _ in range(25):
            store.update("n", lambda state: {"n": state.get("n", 0) + 1})

    threads = [threading.Thread(target=count, args=(s,)) for s in stores]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert stores[0].read("n") == {"n": 100}
    finally:
        redis_client.delete(prefix + "n")


def test_an_error_in_the_change_leaves_the_state(clock):
    store = MemoryStore()
    store.update("k", lambda state: {"a": 1})

    def boom(state):
        state["a"] = 2
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        store.update("k", boom)
    assert store.read("k") == {"a": 1}


# --- the httpx hooks -------------------------------------------------------------------------------------


@respx.mock
def test_event_hooks_pace_a_client_before_the_interval_runs_out(clock):
    left = iter(range(6, 0, -1))
    respx.get("https://ghl.test/ping").mock(
        side_effect=lambda request: httpx.Response(200, json={}, headers=limits(next(left)))
    )
    pacer = make_pacer(clock, headroom=2)
    with httpx.Client(event_hooks=pacer.event_hooks()) as client:
        statuses = [client.get("https://ghl.test/ping").status_code for _ in range(5)]
        client.get("https://ghl.test/ping")
    assert statuses == [200] * 5
    # 6 left after the first answer, 2 kept as headroom: the 4 usable ones evenly spread over what is left of the
    # interval, and the 6th request waits for the next interval (T0 + 10), never for a 429
    first = 10 / 98  # the slot reserved before the first answer
    gap = (10 - first) / 4
    assert clock.sleeps == pytest.approx([first, gap, gap, gap, gap])
    assert clock.now == pytest.approx(T0 + 10)


@respx.mock
def test_event_hooks_stop_a_client_below_the_daily_reserve(clock):
    route = respx.get("https://ghl.test/ping").respond(200, json={}, headers=limits(90, daily=99))
    pacer = make_pacer(clock, daily_reserve=100)
    with httpx.Client(event_hooks=pacer.event_hooks()) as client:
        client.get("https://ghl.test/ping")
        with pytest.raises(DailyBudgetExhausted):
            client.get("https://ghl.test/ping")
    assert route.call_count == 1
