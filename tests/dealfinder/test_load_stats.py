"""The load test's latency statistics: bounded histograms whose percentiles are within 1% of the exact ones."""

import math
import random

import pytest

from dealfinder.ops.benchmark.load_stats import RELATIVE_ERROR, Histogram, KindStats, merged, outcome_of


def exact_percentile(samples: list[float], q: float) -> float:
    """Nearest rank: the smallest sample with at least q% of the samples at or below it."""
    ordered = sorted(samples)
    return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1]


def histogram_of(samples) -> Histogram:
    histogram = Histogram()
    for ms in samples:
        histogram.add(ms)
    return histogram


DISTRIBUTIONS = {
    "lognormal (a web app)": lambda rng: [rng.lognormvariate(4, 0.8) for _ in range(20_000)],
    "uniform 1-2000 ms": lambda rng: [rng.uniform(1, 2000) for _ in range(5_000)],
    "bimodal (cache hit or miss)": lambda rng: [rng.choice((rng.gauss(8, 1), rng.gauss(900, 50))) for _ in range(3000)],
    "sub-millisecond": lambda rng: [rng.uniform(0.001, 0.9) for _ in range(1000)],
    "a handful": lambda rng: [12.0, 480.0, 33.3, 7.25, 1500.0],
}


@pytest.mark.parametrize("name", DISTRIBUTIONS)
@pytest.mark.parametrize("q", [50, 90, 95, 99, 100])
def test_percentiles_are_within_the_stated_error_of_the_exact_nearest_rank(name, q):
    samples = [max(s, 0.0) for s in DISTRIBUTIONS[name](random.Random(q))]
    exact = exact_percentile(samples, q)

    reported = histogram_of(samples).percentile(q)

    assert abs(reported - exact) <= exact * RELATIVE_ERROR + 0.01  # 0.01 ms: the floor bucket
    assert RELATIVE_ERROR < 0.01


def test_count_sum_min_max_are_exact_and_a_single_sample_is_every_percentile():
    histogram = histogram_of([250.0])
    assert histogram.summary() == {
        "count": 1, "p50_ms": 250.0, "p95_ms": 250.0, "p99_ms": 250.0, "max_ms": 250.0, "mean_ms": 250.0
    }  # fmt: skip
    histogram.add(10.0)
    histogram.add(40.0)
    assert (histogram.count, histogram.total_ms, histogram.min_ms, histogram.max_ms) == (3, 300.0, 10.0, 250.0)
    assert histogram.summary()["max_ms"] == 250.0 and histogram.summary()["mean_ms"] == 100.0


def test_an_empty_histogram_reports_no_values():
    assert Histogram().percentile(95) is None
    assert Histogram().summary() == {
        "count": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "max_ms": None, "mean_ms": None
    }  # fmt: skip


def test_memory_stays_bounded_however_many_samples():
    rng = random.Random(1)
    histogram = Histogram()
    for _ in range(300_000):  # half an hour at 170 requests a second
        histogram.add(rng.lognormvariate(5, 1.2))
    # From 0.01 ms to 10 minutes is ~1,050 buckets at ratio 1.02; a real spread fills far fewer.
    assert histogram.count == 300_000 and len(histogram.buckets) < 1100


def test_merging_equals_recording_everything_in_one():
    rng = random.Random(2)
    a, b = [rng.expovariate(1 / 80) for _ in range(700)], [rng.expovariate(1 / 300) for _ in range(300)]
    one = histogram_of(a + b)

    both = histogram_of(a).merge(histogram_of(b))

    assert both.buckets == one.buckets and both.count == one.count
    assert both.min_ms == one.min_ms and both.max_ms == one.max_ms
    assert both.total_ms == pytest.approx(one.total_ms)
    assert [both.percentile(q) for q in (50, 95, 99)] == [one.percentile(q) for q in (50, 95, 99)]


def test_histograms_and_kind_stats_survive_json():
    stats = KindStats()
    for ms, outcome in [(12.5, None), (30.0, "500"), (900.0, "ReadTimeout"), (14.0, None), (31.0, "500")]:
        stats.record(ms, outcome)

    again = KindStats.from_json(stats.to_json())

    assert again.summary() == stats.summary()
    assert again.errors == {"500": 2, "ReadTimeout": 1} and again.error_count == 3
    empty = Histogram.from_json(Histogram().to_json())
    assert empty.count == 0 and empty.percentile(50) is None and empty.min_ms == math.inf


def test_errors_count_by_outcome_and_failed_requests_still_count_as_latency():
    stats = KindStats()
    stats.record(2000.0, "502")
    stats.record(20.0, None)
    summary = stats.summary()
    assert (summary["count"], summary["errors"], summary["errors_by_outcome"]) == (2, 1, {"502": 1})
    assert summary["max_ms"] == 2000.0


def test_merged_kinds():
    a, b = KindStats(), KindStats()
    a.record(10.0, None)
    b.record(20.0, "404")
    total = merged([a, b])
    assert (total.latency.count, total.errors) == (2, {"404": 1})
    assert (a.latency.count, a.errors) == (1, {})  # the parts are left alone


@pytest.mark.parametrize(
    ("status", "outcome"), [(200, None), (204, None), (301, "301"), (302, "302"), (404, "404"), (500, "500")]
)
def test_only_2xx_is_a_success(status, outcome):
    assert outcome_of(status) == outcome
