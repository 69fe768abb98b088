"""The benchmark's targets (issue 18 item 8, issue 26) and how a figure the run did not measure is reported."""

from types import SimpleNamespace

from django.db import connection

from dealfinder.ops.benchmark.load_pool import NOT_POSTGRESQL, SKIPPED, pool_step
from dealfinder.ops.benchmark.report import REPORTED, TARGETS, met, result, table


def test_targets_are_exactly_the_issues():
    assert TARGETS == {
        "ingest_vs_copy": (0.35, "min"),
        "reingest_speedup": (4, "min"),
        "rescore_vs_update": (2, "max"),
        "match_seconds": (8, "max"),
        "comps_seconds": (60, "max"),
        "pipeline_seconds": (25, "max"),
        "map_p95_ms": (100, "max"),
        "map_filter_p95_ms": (150, "max"),
        "map_max_kb": (500, "max"),
        "api_p95_ms": (60, "max"),
        "api_queries": (None, "constant"),
        "peak_rss_mb": (1024, "max"),
        "fanout_speedup": (1.5, "min"),
        "dashboard_p95_ms": (150, "max"),
        "admin_p95_ms": (300, "max"),
        "load_p95_ms": (800, "max"),
        "load_errors": (0, "max"),
        "load_during_pipeline_errors": (0, "max"),
    }


def test_met_at_the_boundaries():
    assert met("ingest_vs_copy", 0.35, {}) is True and met("ingest_vs_copy", 0.34, {}) is False
    assert met("fanout_speedup", 1.5, {}) is True and met("fanout_speedup", 1.49, {}) is False
    assert met("api_p95_ms", 60, {}) is True and met("api_p95_ms", 60.1, {}) is False
    assert met("peak_rss_mb", 1024, {}) is True and met("peak_rss_mb", 1025, {}) is False


def test_an_unmeasured_figure_is_never_met(db):
    figures = {"ingest_vs_copy": 0.5, "reingest_speedup": 3.0, "api_queries": 9, "api_queries_constant": True}
    bench = SimpleNamespace(
        steps=[], machine={}, parcels=10, buyers=1, figures=figures, counts={}, server_info={}, load_detail={}
    )
    out = result(bench, complete=True)

    assert out["targets"]["fanout_speedup"] == {"target": 1.5, "kind": "min"}
    assert out["met"]["fanout_speedup"] is None and "fanout_speedup" not in out["figures"]
    assert out["not_measured"]["fanout_speedup"] == "not measured in this run"
    assert out["not_measured"]["map_p95_ms"] == "not measured in this run"
    assert "ingest_vs_copy" not in out["not_measured"] and "api_queries" not in out["not_measured"]
    assert (out["met"]["ingest_vs_copy"], out["met"]["reingest_speedup"], out["met"]["api_queries"]) == (
        True,
        False,
        True,
    )
    rows = {line.split()[0]: line.split() for line in table(out).splitlines()[2:]}
    assert rows["fanout_speedup"] == ["fanout_speedup", "-", ">=", "1.5", "x", "-"]
    assert rows["reingest_speedup"] == ["reingest_speedup", "3", "x", ">=", "4", "x", "NO"]


def bench_of(figures: dict, **kwargs) -> SimpleNamespace:
    return SimpleNamespace(
        steps=[], machine={}, parcels=10, buyers=1, figures=figures, counts={}, server_info={}, load_detail={},
        counties=1, not_measured={}, **kwargs,
    )  # fmt: skip


def test_pool_figures_unmeasured_say_why(db):
    """On SpatiaLite there is no pool to measure; on PostgreSQL `--pool-requests 0` skips it (gunicorn never runs)."""
    postgresql = connection.vendor == "postgresql"
    bench = bench_of({}, pool_requests=0 if postgresql else 40, load_workers=1)
    assert pool_step(bench) == {}
    out = result(bench, complete=True)
    reason = SKIPPED if postgresql else NOT_POSTGRESQL
    assert {k: out["not_measured"][k] for k in REPORTED} == {"api_nopool_p95_ms": reason, "api_pool_p95_ms": reason}
    assert "api_pool_p95_ms" not in out["met"] and "api_pool_p95_ms" not in out["figures"]
    rows = {line.split()[0]: line.split() for line in table(out).splitlines()[2:]}
    assert rows["api_pool_p95_ms"] == ["api_pool_p95_ms", "-", "(reported)", "-"]


def test_pool_figures_measured_are_reported(db):
    out = result(bench_of({"api_nopool_p95_ms": 80.5, "api_pool_p95_ms": 41.2}), complete=True)
    assert (out["api_nopool_p95_ms"], out["api_pool_p95_ms"]) == (80.5, 41.2)
    assert not set(REPORTED) & set(out["not_measured"])
    rows = {line.split()[0]: line.split() for line in table(out).splitlines()[2:]}
    assert rows["api_nopool_p95_ms"] == ["api_nopool_p95_ms", "80.5", "ms", "(reported)", "-"]


def test_a_figure_the_run_could_not_measure_says_why(db):
    """Issue 18 item 6: fanout_speedup is measured in every run; without Redis the run says so."""
    reason = "needs Redis for the Celery workers: CELERY_BROKER_URL is unset"
    bench = SimpleNamespace(
        steps=[], machine={}, parcels=100, counties=2, buyers=1, figures={"match_seconds": 1.0}, counts={},
        server_info={}, load_detail={}, not_measured={"fanout_speedup": reason},
    )  # fmt: skip
    out = result(bench, complete=True)

    assert out["not_measured"]["fanout_speedup"] == reason
    assert out["met"]["fanout_speedup"] is None
    assert out["parameters"]["counties"] == 2


def test_fanout_speedup_is_reported_with_its_target(db):
    bench = SimpleNamespace(
        steps=[], machine={}, parcels=100, buyers=1, figures={"fanout_speedup": 1.62}, counts={}, server_info={},
        load_detail={},
    )  # fmt: skip
    out = result(bench, complete=True)

    assert (out["fanout_speedup"], out["met"]["fanout_speedup"]) == (1.62, True)
    assert "fanout_speedup" not in out["not_measured"]
    assert out["parameters"]["counties"] == 1
    rows = {line.split()[0]: line.split() for line in table(out).splitlines()[2:]}
    assert rows["fanout_speedup"] == ["fanout_speedup", "1.62", "x", ">=", "1.5", "x", "yes"]


def test_without_redis_the_fanout_step_records_why(settings):
    from dealfinder.ops.benchmark.run import Benchmark

    settings.CELERY_BROKER_URL = ""
    bench = Benchmark(parcels=100, buyers=1, out=lambda line: None, progress=False)

    bench._fanout()

    assert bench.not_measured == {"fanout_speedup": "needs Redis for the Celery workers: CELERY_BROKER_URL is unset"}
    assert (bench.steps, bench.figures) == ([], {})
