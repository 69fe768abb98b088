"""The load test's figures and detail, from hand-made results (pure)."""

import pytest

from dealfinder.ops.benchmark.load_report import LOAD_TARGETS, load_figures, load_report, phase_detail, rss_growth_mb
from dealfinder.ops.benchmark.load_runner import DURING, IDLE, LoadResult, PhaseResult
from dealfinder.ops.benchmark.load_stats import KindStats

ISSUE_26_KEYS = {
    "dashboard_p95_ms", "admin_p95_ms", "load_rps", "load_p95_ms", "load_errors",
    "load_during_pipeline_p95_ms", "load_during_pipeline_errors",
}  # fmt: skip


def stats(*samples, errors: dict[str, int] | None = None) -> KindStats:
    kind = KindStats()
    for ms in samples:
        kind.record(ms, None)
    for outcome, n in (errors or {}).items():
        for _ in range(n):
            kind.record(100.0, outcome)
    return kind


def memory(peak_kb_by_worker: dict[str, list[float]]) -> dict:
    workers = {
        pid: {
            "first_mb": s[0],
            "last_mb": s[-1],
            "peak_mb": max(s),
            "series_mb": [[float(t), v] for t, v in enumerate(s)],
        }
        for pid, s in peak_kb_by_worker.items()
    }
    return {
        "samples": 8,
        "interval_seconds": 1.0,
        "worker_peak_mb": max(w["peak_mb"] for w in workers.values()),
        "total_peak_mb": sum(w["peak_mb"] for w in workers.values()),
        "workers": workers,
    }


def result(phase: str, seconds: float, kinds: dict[str, KindStats], clients: int = 4, mem=None) -> LoadResult:
    variants = {f"{k}|default": s for k, s in kinds.items()}
    return LoadResult(
        clients=clients,
        phases={phase: PhaseResult(phase, seconds, kinds, variants)},
        memory=mem,
        generator={"cpu_seconds": 0.5, "wall_seconds": seconds, "cpu_share_of_one_core": 0.05},
        logins={"count": clients},
        discovered={"admin_leads": 12},
    )


def test_figures_from_the_three_runs():
    single = result(
        IDLE,
        10,
        {
            "dashboard": stats(*[100.0] * 19, 400.0),
            "admin_leads": stats(50.0),
            "admin_runs": stats(250.0),
            "map": stats(5000.0),
        },
        clients=1,
        mem=memory({"1": [150, 160, 170, 171]}),
    )
    api = stats(*[900.0] * 10, errors={"500": 2, "ReadTimeout": 1})
    crowd = result(
        IDLE, 20, {"map": stats(*[200.0] * 90), "api": api}, mem=memory({"1": [160, 180, 181, 182], "2": [150] * 4})
    )
    during = result(DURING, 5, {"map": stats(*[300.0] * 9, 1200.0)}, mem=memory({"1": [190, 190, 190, 191]}))

    figures = load_figures(single=single, crowd=crowd, during=during)

    assert set(figures) >= ISSUE_26_KEYS
    assert figures["dashboard_p95_ms"] == pytest.approx(100.0, rel=0.01)  # the 19th of 20 samples
    assert figures["admin_p95_ms"] == pytest.approx(250.0, rel=0.01)  # both changelists together, not the map
    assert figures["load_rps"] == 5.15  # 103 answers in 20 s, errors included
    assert figures["load_p95_ms"] == pytest.approx(900.0, rel=0.01)
    assert figures["load_errors"] == 3
    assert figures["load_during_pipeline_p95_ms"] == pytest.approx(1200.0, rel=0.01)
    assert figures["load_during_pipeline_errors"] == 0 and figures["load_during_pipeline_rps"] == 2.0
    assert figures["web_peak_rss_mb"] == 191 and figures["web_total_peak_rss_mb"] == 332
    assert set(LOAD_TARGETS) <= ISSUE_26_KEYS


def test_figures_leave_out_what_was_not_run():
    crowd = result(IDLE, 10, {"map": stats(10.0)})
    assert load_figures(crowd=crowd) == {"load_rps": 0.1, "load_p95_ms": 10.0, "load_errors": 0}


def test_memory_growth_compares_the_last_quarter_with_the_second():
    flat = memory({"1": [120, 150, 151, 151, 150, 151, 151, 151]})  # warm-up growth in the first quarter only
    climbing = memory({"1": [120, 150, 151, 160, 170, 180, 190, 200], "2": [100] * 8})
    assert rss_growth_mb(flat) == 0.0
    assert rss_growth_mb(climbing) == 40.0  # worker 1: last quarter (t 6-7) 200 - second quarter (t 2-3) 160
    assert rss_growth_mb(memory({"1": [100, 200]})) == 0.0  # too short to say


def test_phase_detail_lists_kinds_and_variants_slowest_first():
    phase = PhaseResult(
        IDLE, 10, {"map": stats(10.0, 20.0), "api": stats(500.0, errors={"502": 1})},
        {"map|none@city": stats(10.0), "map|tier@county": stats(20.0), "api|plain": stats(500.0)},
    )  # fmt: skip
    detail = phase_detail(phase)
    assert list(detail["variants"]) == ["api|plain", "map|tier@county", "map|none@city"]
    assert detail["kinds"]["api"]["errors_by_outcome"] == {"502": 1} and detail["kinds"]["api"]["rps"] == 0.2
    assert detail["all"]["count"] == 4 and detail["rps"] == 0.4
    assert list(phase_detail(phase, slowest=1)["variants"]) == ["api|plain"]


def test_the_report_keeps_figures_and_each_run_s_detail():
    during = result(DURING, 5, {"map": stats(300.0)})
    during.work = {"seconds": 4.9, "error": None}

    report = load_report(crowd=result(IDLE, 10, {"map": stats(10.0)}), during=during, server={"workers": 3})

    assert set(report) == {"figures", "detail"}
    assert set(report["detail"]) == {"server", "crowd", "during_pipeline"}
    assert report["detail"]["during_pipeline"]["pipeline"] == {"seconds": 4.9, "error": None}
    assert report["detail"]["crowd"]["generator"]["cpu_share_of_one_core"] == 0.05
    assert report["detail"]["server"] == {"workers": 3}
