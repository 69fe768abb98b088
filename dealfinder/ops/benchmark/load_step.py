"""The benchmark's load step (issue 26): brokers over real HTTP, idle and while the next night's chain runs.

`load_step(bench, county)` runs after the bare pipeline step, inside the ArcGIS server's block (the chain it
runs under load ingests from it): the county moves on a night (`county.day += 1`), `load.load_benchmark` runs
its three loads against gunicorn (production settings, the benchmark's database) with that chain as the
"during" work, and its figures (`dashboard_p95_ms`, `admin_p95_ms`, `load_rps`, `load_p95_ms`, `load_errors`,
`load_during_pipeline_p95_ms`, `load_during_pipeline_errors`, web memory) join the benchmark's; the detail is
the JSON's "load" key. The pipeline step before it stays unloaded, so `pipeline_seconds` keeps its meaning.
"""

from __future__ import annotations

from typing import Any

from .load import load_benchmark


def nightly_chain() -> None:
    """The nightly chain inline, its tasks eager (as the benchmark's pipeline step runs it)."""
    from dealfinder.celery import app as celery_app
    from dealfinder.ops.tasks import pipeline_run_inline

    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        pipeline_run_inline(job="nightly", trigger="manual")
    finally:
        celery_app.conf.task_always_eager = eager


def load_step(bench, county) -> dict[str, Any]:
    """Run the load test as the benchmark step "load"; returns its figures (also merged into bench.figures)."""
    county.day += 1  # the chain under load has a new night's changes to ingest, score and match
    with bench.step("load") as step, bench.bar(None, "load", " req") as bar:
        seen = [0]

        def progress(event: dict) -> None:
            bar.update(event["requests"] - seen[0] if event["requests"] >= seen[0] else event["requests"])
            seen[0] = event["requests"]
            bar.set_postfix(phase=event["phase"], errors=event["errors"], rps=event["rps"],
                            web_mb=event["web_worker_peak_mb"])  # fmt: skip

        report = load_benchmark(
            clients=bench.load_clients,
            seconds=bench.load_seconds,
            workers=bench.load_workers,
            pipeline=nightly_chain,
            progress=progress,
            out=bench.out,
        )
        bench.load_detail = report["detail"]
        step.info = {k: v for k, v in report["figures"].items() if not isinstance(v, dict | list)}
    bench.figures.update(report["figures"])
    return report["figures"]
