"""The benchmark's figures against their targets, and the table `manage.py benchmark` prints."""

from __future__ import annotations

import os
from typing import Any

from django.db import connection
from django.utils import timezone

from .load_report import LOAD_TARGETS, LOAD_UNITS
from .probes import uptime

# figure -> (target, "min" when the value must be at least the target, "max" when at most)
TARGETS: dict[str, tuple[float, str]] = {
    "ingest_vs_copy": (0.35, "min"),
    "reingest_speedup": (4, "min"),  # layers without editor tracking: every record read again
    "rescore_vs_update": (2, "max"),
    "match_seconds": (8, "max"),
    "comps_seconds": (60, "max"),  # issue 21: every lead's comps and ARV refreshed (the nightly "comps" step)
    "pipeline_seconds": (25, "max"),
    "map_p95_ms": (100, "max"),
    "map_filter_p95_ms": (150, "max"),
    "map_max_kb": (500, "max"),
    "api_p95_ms": (60, "max"),
    "api_queries": (None, "constant"),
    "peak_rss_mb": (1024, "max"),
    "fanout_speedup": (1.5, "min"),  # the nightly chain over two counties, one worker process against two
    **LOAD_TARGETS,
}
UNITS = {"ingest_vs_copy": "x", "reingest_speedup": "x", "rescore_vs_update": "x", "match_seconds": "s",
         "comps_seconds": "s", "pipeline_seconds": "s", "map_p95_ms": "ms", "map_filter_p95_ms": "ms",
         "map_max_kb": "KB", "api_p95_ms": "ms", "api_queries": "", "peak_rss_mb": "MB", "fanout_speedup": "x",
         **LOAD_UNITS}  # fmt: skip

# Figures reported without a target of their own (issue 24: the API's p95 through gunicorn without and with the
# connection pool, load_pool). Missing ones are listed under not_measured too.
REPORTED = {"api_nopool_p95_ms": "ms", "api_pool_p95_ms": "ms"}

# Why a target has no figure (its "met" is null), when the run does not say (bench.not_measured).
NOT_MEASURED: dict[str, str] = {}


def met(name: str, value, figures: dict) -> bool | None:
    target, kind = TARGETS[name]
    if value is None:
        return None
    if kind == "constant":
        return bool(figures.get("api_queries_constant"))
    return value >= target if kind == "min" else value <= target


def table(result: dict) -> str:
    """The figures as a fixed-width table: figure, value, target, met."""
    rows = [("figure", "value", "target", "met?")]
    for name, (target, kind) in TARGETS.items():
        value = result["figures"].get(name)
        shown = "-" if value is None else f"{value:g} {UNITS[name]}".strip()
        goal = "constant" if kind == "constant" else f"{'>=' if kind == 'min' else '<='} {target:g} {UNITS[name]}"
        ok = result["met"][name]
        rows.append((name, shown, goal.strip(), "-" if ok is None else "yes" if ok else "NO"))
    for name, unit in REPORTED.items():
        value = result["figures"].get(name)
        rows.append((name, "-" if value is None else f"{value:g} {unit}", "(reported)", "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def result(bench, *, complete: bool) -> dict[str, Any]:
    """Everything measured so far: figures, targets, counts, steps, machine (load average now)."""
    if bench.steps:
        bench.figures["peak_rss_mb"] = max(s.peak_rss_mb for s in bench.steps)
    reasons = {**NOT_MEASURED, **getattr(bench, "not_measured", {})}
    machine = {**bench.machine, "load_average_end": [round(x, 2) for x in os.getloadavg()], "uptime": uptime()}
    return {
        "complete": complete,
        "date": timezone.now().isoformat(timespec="seconds"),
        "parameters": {
            "parcels": bench.parcels,
            "counties": getattr(bench, "counties", 1),
            "buyers": bench.buyers,
            "database": connection.settings_dict["NAME"],
        },
        "figures": bench.figures,
        **bench.figures,
        "targets": {k: {"target": t, "kind": kind} for k, (t, kind) in TARGETS.items()},
        "met": {k: met(k, bench.figures.get(k), bench.figures) for k in TARGETS},
        # A target the run did not measure: met is null (never true), and why it is missing.
        "not_measured": {
            k: reasons.get(k, "not measured in this run") for k in (*TARGETS, *REPORTED) if bench.figures.get(k) is None
        },
        "counts": bench.counts,
        "steps": {s.name: s.as_dict() for s in bench.steps},
        "arcgis_server": bench.server_info,
        "load": bench.load_detail,
        "machine": machine,
        "notes": [
            "peak_rss_mb is the benchmark's Python process (ingest, scoring, matching, the ArcGIS server "
            "thread and the Django test client); PostgreSQL's memory is in its own processes.",
            "ingest_vs_copy compares the parcels layer's end-to-end ingest (HTTP fetch, map, normalize, "
            "upsert) with COPY of the rows that ingest wrote (property, valuation, provenance) into empty "
            "copies of those tables with the same indexes.",
            "rescore_vs_update: a rescore after a scoring-profile change that rewrites every lead, against "
            "one bare UPDATE of the same lead rows.",
            "Planner statistics (ANALYZE) are refreshed between steps, untimed, as autovacuum would.",
            "map_p95_ms, map_filter_p95_ms and api_p95_ms are measured by the Django test client in this process, "
            "with what the run built before kept out of the garbage collector's sight (gc.freeze), as a web "
            "worker's heap would not hold it.",
            "reingest_speedup is over the layers without editor tracking (parcels, tax sales: every record read "
            "again); reingest_tracked_speedup over those with it (only features edited since the last run are "
            "asked for); reingest_all_speedup over every layer.",
            "fanout_speedup: the nightly chain over two small counties (steps.fanout: parcels per county) queued "
            "to real Celery worker processes (--pool solo) on the bench Redis, one process against two, each in a "
            "fresh scratch database; timed from the run row; two workers must give identical results.",
            "api_nopool_p95_ms / api_pool_p95_ms: the lead list API through gunicorn (production settings), one "
            "client, with DATABASE_POOL_MAX unset and set (steps.api_pool); no target, reported beside api_p95_ms.",
        ],
    }


def pipeline_info() -> dict:
    """The latest nightly run's status and its steps' durations (also of a run that was stopped)."""
    from dealfinder.ops.models import PipelineRun

    run = PipelineRun.objects.filter(job="nightly").order_by("-pk").first()
    if run is None:
        return {"status": None}
    now = timezone.now()
    return {
        "status": run.status,
        "error": run.message,
        "steps": {
            s.name: {
                "status": s.status,
                "seconds": round(((s.finished_at or now) - s.started_at).total_seconds(), 2) if s.started_at else None,
                "counts": s.counts,
            }
            for s in run.steps.order_by("order")
        },
    }
