"""The load test's figures and detail, as the benchmark JSON carries them (pure: plain data in and out).

Figures (issue 26), from three runs against the same gunicorn:
- `dashboard_p95_ms`, `admin_p95_ms` (every changelist together): one client, idle database;
- `load_rps`, `load_p95_ms` (every kind together), `load_errors`: N clients, idle database;
- `load_during_pipeline_p95_ms`, `load_during_pipeline_errors` (and `load_during_pipeline_rps`): N clients
  while the nightly chain runs;
- `web_peak_rss_mb`: the most any one gunicorn worker held (VmRSS) in any run; `web_total_peak_rss_mb` all
  workers together; `web_rss_growth_mb`: the most any worker grew from the second quarter of a run to its last
  quarter (flat memory in a soak: close to 0).
Errors are non-2xx answers and exceptions (timeouts, refused connections). p95s are within 1% of the exact
nearest-rank value (load_stats). The detail keeps per kind and per variant p50/p95/max, rps and errors by
outcome, error samples, the generator's CPU, per-worker memory series and, for the one-client run, the
sweep: every map filter, API variant, changelist filter and search once.
"""

from __future__ import annotations

from typing import Any

from .load_runner import DURING, IDLE, LoadResult, PhaseResult
from .load_stats import KindStats

# figure -> (target, "max": the value must be at most the target), as in run.TARGETS.
LOAD_TARGETS: dict[str, tuple[float, str]] = {
    "dashboard_p95_ms": (150, "max"),
    "admin_p95_ms": (300, "max"),
    "load_p95_ms": (800, "max"),
    "load_errors": (0, "max"),
    "load_during_pipeline_errors": (0, "max"),
}
LOAD_UNITS = {"dashboard_p95_ms": "ms", "admin_p95_ms": "ms", "load_p95_ms": "ms", "load_errors": "",
              "load_during_pipeline_errors": "", "load_rps": "/s", "load_during_pipeline_p95_ms": "ms",
              "web_peak_rss_mb": "MB"}  # fmt: skip


def _p95(stats: KindStats | None) -> float | None:
    return stats.summary()["p95_ms"] if stats is not None else None


def load_figures(
    *, single: LoadResult | None = None, crowd: LoadResult | None = None, during: LoadResult | None = None
) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    if single is not None and IDLE in single.phases:
        idle = single.phases[IDLE]
        figures["dashboard_p95_ms"] = _p95(idle.kinds.get("dashboard"))
        figures["admin_p95_ms"] = _p95(idle.group("admin_"))
    if crowd is not None and IDLE in crowd.phases:
        idle = crowd.phases[IDLE]
        total = idle.total
        figures.update(load_rps=idle.rps, load_p95_ms=_p95(total), load_errors=total.error_count)
    if during is not None and DURING in during.phases:
        phase = during.phases[DURING]
        total = phase.total
        figures.update(
            load_during_pipeline_p95_ms=_p95(total),
            load_during_pipeline_errors=total.error_count,
            load_during_pipeline_rps=phase.rps,
        )
    memories = [r.memory for r in (single, crowd, during) if r is not None and r.memory]
    if memories:
        figures["web_peak_rss_mb"] = max(m["worker_peak_mb"] for m in memories)
        figures["web_total_peak_rss_mb"] = max(m["total_peak_mb"] for m in memories)
        figures["web_rss_growth_mb"] = max(rss_growth_mb(m) for m in memories)
    return figures


def rss_growth_mb(memory: dict[str, Any]) -> float:
    """The largest growth of any worker: its peak in the last quarter of the run minus its peak in the second
    quarter (the first quarter is warm-up: imports, caches, the first big page)."""
    growth = 0.0
    for worker in memory["workers"].values():
        series = worker["series_mb"]
        if len(series) < 4:
            continue
        span = series[-1][0] - series[0][0]
        start = series[0][0]
        settled = [v for t, v in series if start + span / 4 <= t < start + span / 2]
        late = [v for t, v in series if t >= start + 3 * span / 4]
        if settled and late:
            growth = max(growth, max(late) - max(settled))
    return round(growth, 1)


def phase_detail(phase: PhaseResult, *, slowest: int = 0) -> dict[str, Any]:
    """Per kind and per variant: count, rps, p50/p95/p99/max/mean, errors by outcome (variants by p95, slowest
    first; `slowest` > 0 keeps only that many)."""

    def row(stats: KindStats) -> dict[str, Any]:
        summary = stats.summary()
        return {**summary, "rps": round(summary["count"] / phase.seconds, 2) if phase.seconds else None}

    variants = sorted(phase.variants.items(), key=lambda item: -(item[1].summary()["p95_ms"] or 0))
    if slowest:
        variants = variants[:slowest]
    return {
        "seconds": phase.seconds,
        "rps": phase.rps,
        "all": row(phase.total),
        "kinds": {kind: row(stats) for kind, stats in sorted(phase.kinds.items())},
        "variants": {key: row(stats) for key, stats in variants},
    }


def run_detail(result: LoadResult) -> dict[str, Any]:
    return {
        "clients": result.clients,
        "phases": {name: phase_detail(phase) for name, phase in result.phases.items()},
        "error_samples": result.error_samples,
        "generator": result.generator,
        "logins": result.logins,
        "admin_filters_discovered": result.discovered,
        "web_memory": result.memory,
        **({"pipeline": result.work} if result.work is not None else {}),
    }


def load_report(
    *,
    single: LoadResult | None = None,
    crowd: LoadResult | None = None,
    during: LoadResult | None = None,
    server: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """{"figures": the keys above, "detail": per run (single, crowd, during) and the server's set-up}."""
    runs = {"single": single, "crowd": crowd, "during_pipeline": during}
    return {
        "figures": load_figures(single=single, crowd=crowd, during=during),
        "detail": {
            "server": server or {},
            **{name: run_detail(result) for name, result in runs.items() if result is not None},
        },
    }
