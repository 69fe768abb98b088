"""API p95 through gunicorn with and without the connection pool (issue 24 item 4).

`pool_step(bench)` serves the benchmark's database with gunicorn (production settings, sync workers, as the load
test does; load_web.GunicornServer) twice in turn: once with `DATABASE_POOL_MAX` unset (every request opens and
closes its PostgreSQL connection, `CONN_MAX_AGE=0`) and once with `DATABASE_POOL_MAX=POOL_MAX`
(`DATABASE_POOL_MIN` at its default). The rounds alternate (no pool, pool, no pool, pool) so a shared box's
drift falls on both alike. In each, one broker (Admin role, API token) asks for the lead list API's variants one
request after another; a few warm-up requests per worker are not counted. The figures are `api_nopool_p95_ms`
and `api_pool_p95_ms`; the step's detail has the medians and request counts.

PostgreSQL only (the pool is psycopg's): on SpatiaLite, or with `--pool-requests 0`, both figures are reported
as not measured with the reason (report.result's `not_measured`).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

import httpx
from django.db import connection

from .load_setup import API_VARIANTS, load_brokers_delete, load_brokers_ensure
from .load_web import GunicornServer

POOL_MAX = 4
ROUNDS = 2  # each mode this many times, alternating
MODES = {"nopool": {"DATABASE_POOL_MAX": None, "DATABASE_POOL_MIN": None}, "pool": {"DATABASE_POOL_MAX": str(POOL_MAX)}}
FIGURES = {"nopool": "api_nopool_p95_ms", "pool": "api_pool_p95_ms"}
URL = "/api/v1/leads/"
NOT_POSTGRESQL = "PostgreSQL only: the pool is psycopg's (DATABASE_POOL_MAX); SpatiaLite has no connection pool"
SKIPPED = "skipped (--pool-requests 0)"


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20, method="inclusive")[18]


def _timed_requests(base_url: str, token: str, *, count: int, warmup: int) -> list[float]:
    """`count` lead list requests one after another (the API variants in turn), in milliseconds."""
    headers = {"Authorization": f"Token {token}", "X-Forwarded-Proto": "https"}
    latencies = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=60) as client:
        for n in range(warmup + count):
            params = dict(API_VARIANTS[n % len(API_VARIANTS)][1])
            began = time.perf_counter()
            response = client.get(URL, params=params)
            elapsed = (time.perf_counter() - began) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"API answered {response.status_code}: {response.text[:200]!r}")
            if n >= warmup:
                latencies.append(elapsed)
    return latencies


def api_pool_measure(*, requests: int, workers: int = 3) -> dict[str, Any]:
    """Both modes' latencies through gunicorn; returns {"figures": {...}, "detail": {...}}."""
    per_round = [requests // ROUNDS + (r < requests % ROUNDS) for r in range(ROUNDS)]
    samples: dict[str, list[float]] = {mode: [] for mode in MODES}
    broker = load_brokers_ensure(count=1)[0]
    try:
        with tempfile.TemporaryDirectory(prefix="dealfinder-static-") as static:
            GunicornServer(workers=workers, static_root=static).collectstatic()
            for count in filter(None, per_round):
                for mode, env in MODES.items():
                    with GunicornServer(workers=workers, static_root=static, env={"CONN_MAX_AGE": "0", **env}) as web:
                        samples[mode] += _timed_requests(web.base_url, broker.token, count=count, warmup=workers)
    finally:
        load_brokers_delete()
    figures = {FIGURES[mode]: round(p95(values), 1) for mode, values in samples.items()}
    detail: dict[str, Any] = {
        mode: {"requests": len(values), "median_ms": round(statistics.median(values), 1)}
        for mode, values in samples.items()
    }
    detail["server"] = {"workers": workers, "worker_class": "sync", "settings": "production", "pool_max": POOL_MAX,
                        "rounds": ROUNDS, "url": URL}  # fmt: skip
    return {"figures": figures, "detail": detail}


def pool_step(bench) -> dict[str, Any]:
    """The benchmark step "api_pool"; its figures join bench.figures, or bench.not_measured says why not."""
    if connection.vendor != "postgresql" or bench.pool_requests < 1:
        reason = NOT_POSTGRESQL if connection.vendor != "postgresql" else SKIPPED
        bench.not_measured.update(dict.fromkeys(FIGURES.values(), reason))
        return {}
    with bench.step("api_pool") as step:
        measured = api_pool_measure(requests=bench.pool_requests, workers=bench.load_workers)
        step.info = measured["detail"]
    bench.figures.update(measured["figures"])
    return measured["figures"]
