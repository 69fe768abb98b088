"""Bounded latency statistics for the load test: one log-bucket histogram per request kind and variant.

A 30-minute soak at a hundred requests a second must not keep every sample, yet its p95 must be right. The
histogram keeps a count per bucket; bucket i holds latencies in [FLOOR_MS * RATIO**i, FLOOR_MS * RATIO**(i+1)).
A percentile is the nearest-rank one (the smallest sample with at least q% of the samples at or below it): the
histogram finds the bucket holding that sample and reports the bucket's geometric midpoint, clamped to the
smallest and largest sample seen. With RATIO = 1.02 the reported value is within 1% (sqrt(1.02) - 1) of the
exact nearest-rank percentile of the samples, however long the run. Latencies from 10 microseconds to ten
minutes span about 1,050 buckets; a real run fills a few hundred per kind. Count, sum, min and max are exact.

Pure: no Django, no I/O. The load child records into these and hands them to the parent as JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

RATIO = 1.02
FLOOR_MS = 0.01  # bucket 0 also holds anything faster
_LOG_RATIO = math.log(RATIO)
RELATIVE_ERROR = math.sqrt(RATIO) - 1  # the most a reported percentile is off, relative to the exact one


def _bucket(ms: float) -> int:
    if ms <= FLOOR_MS:
        return 0
    return int(math.log(ms / FLOOR_MS) / _LOG_RATIO)


def _midpoint(index: int) -> float:
    return FLOOR_MS * RATIO ** (index + 0.5)


class Histogram:
    """Latencies in milliseconds: exact count/sum/min/max, percentiles within RELATIVE_ERROR."""

    __slots__ = ("buckets", "count", "max_ms", "min_ms", "total_ms")

    def __init__(self) -> None:
        self.buckets: dict[int, int] = {}
        self.count = 0
        self.total_ms = 0.0
        self.min_ms = math.inf
        self.max_ms = 0.0

    def add(self, ms: float) -> None:
        index = _bucket(ms)
        self.buckets[index] = self.buckets.get(index, 0) + 1
        self.count += 1
        self.total_ms += ms
        self.min_ms = min(self.min_ms, ms)
        self.max_ms = max(self.max_ms, ms)

    def merge(self, other: Histogram) -> Histogram:
        for index, n in other.buckets.items():
            self.buckets[index] = self.buckets.get(index, 0) + n
        self.count += other.count
        self.total_ms += other.total_ms
        self.min_ms = min(self.min_ms, other.min_ms)
        self.max_ms = max(self.max_ms, other.max_ms)
        return self

    def percentile(self, q: float) -> float | None:
        """The nearest-rank q-th percentile (0 < q <= 100), within RELATIVE_ERROR; None without samples."""
        if not self.count:
            return None
        rank = max(1, math.ceil(q / 100 * self.count))
        seen = 0
        for index in sorted(self.buckets):
            seen += self.buckets[index]
            if seen >= rank:
                return min(max(_midpoint(index), self.min_ms), self.max_ms)
        return self.max_ms  # pragma: no cover - rank <= count always lands in a bucket

    def summary(self) -> dict[str, Any]:
        """count, p50/p95/p99/max/mean in ms (rounded to 0.1 ms); None values without samples."""

        def ms(value: float | None) -> float | None:
            return None if value is None else round(value, 1)

        return {
            "count": self.count,
            "p50_ms": ms(self.percentile(50)),
            "p95_ms": ms(self.percentile(95)),
            "p99_ms": ms(self.percentile(99)),
            "max_ms": ms(self.max_ms if self.count else None),
            "mean_ms": ms(self.total_ms / self.count if self.count else None),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "buckets": {str(k): v for k, v in self.buckets.items()},
            "count": self.count,
            "total_ms": self.total_ms,
            "min_ms": None if self.count == 0 else self.min_ms,
            "max_ms": self.max_ms,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Histogram:
        histogram = cls()
        histogram.buckets = {int(k): int(v) for k, v in data["buckets"].items()}
        histogram.count = int(data["count"])
        histogram.total_ms = float(data["total_ms"])
        histogram.min_ms = math.inf if data["min_ms"] is None else float(data["min_ms"])
        histogram.max_ms = float(data["max_ms"])
        return histogram


@dataclass
class KindStats:
    """One request kind (or variant) in one phase: latencies of every answer, and what went wrong.

    `errors` counts by outcome: an HTTP status other than 2xx ("500", "302") or an exception's class name
    ("ReadTimeout"). Latencies include failed requests (a 500 after 2 s is 2 s a broker waited).
    """

    latency: Histogram = field(default_factory=Histogram)
    errors: dict[str, int] = field(default_factory=dict)

    def record(self, ms: float, outcome: str | None) -> None:
        self.latency.add(ms)
        if outcome is not None:
            self.errors[outcome] = self.errors.get(outcome, 0) + 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def merge(self, other: KindStats) -> KindStats:
        self.latency.merge(other.latency)
        for outcome, n in other.errors.items():
            self.errors[outcome] = self.errors.get(outcome, 0) + n
        return self

    def summary(self) -> dict[str, Any]:
        return {**self.latency.summary(), "errors": self.error_count, "errors_by_outcome": dict(self.errors)}

    def to_json(self) -> dict[str, Any]:
        return {"latency": self.latency.to_json(), "errors": dict(self.errors)}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KindStats:
        return cls(latency=Histogram.from_json(data["latency"]), errors={k: int(v) for k, v in data["errors"].items()})


def merged(stats: Iterable[KindStats]) -> KindStats:
    """Several kinds as one (e.g. every admin changelist, or every request of a phase)."""
    total = KindStats()
    for one in stats:
        total.merge(one)
    return total


def outcome_of(status: int) -> str | None:
    """None for a success (2xx); the status as text otherwise (a redirect is a failure: the session or the
    HTTPS set-up is wrong)."""
    return None if 200 <= status < 300 else str(status)
