"""Brokers under load (issue 26): N simulated brokers over real HTTP against gunicorn with the production settings.

`load_benchmark(clients=16, seconds=30, pipeline=run_the_nightly_chain)` creates N broker accounts, starts
gunicorn (3 sync workers, production settings) on a loopback port, and runs three loads against it:

1. one client for `single_seconds` (default min(S, 120)), after a sweep that requests every variant once:
   `dashboard_p95_ms`, `admin_p95_ms`, and a per-filter table (detail.single.phases.sweep.variants);
2. N clients for S seconds on the idle database: `load_rps`, `load_p95_ms`, `load_errors`;
3. N clients for as long as `pipeline()` runs in this process: `load_during_pipeline_p95_ms`,
   `load_during_pipeline_errors`;

and samples the workers' VmRSS every second throughout (`web_peak_rss_mb`, per-worker series). It returns
load_report's {"figures": ..., "detail": ...}. Each broker is a closed loop with no think time by default (the
next request when the last answered): the figures are the capacity of the box, as issue 26 measured it.

The parts, each small and movable: load_mix (kinds, weights, variants; pure), load_stats (bounded histograms;
pure), load_memory (VmRSS sampler), load_process (the load child: broker threads, httpx, login), load_runner
(plan, phases, results; no Django), load_web (the gunicorn launcher), load_setup (accounts and the mix from the
database), load_report (figures and detail; pure).

How to integrate (into `manage.py benchmark`, after the issue 17 restructure)
-------------------------------------------------------------------------------
- Options: `--load-clients N` (default 16; 0 skips the load test), `--load-seconds S` (default 20, which keeps a
  100k run short; `--load-seconds 1800` is the soak), and if wanted `--load-workers W` (default 3, as the
  Dockerfile). Pass them to `load_benchmark(clients=N, seconds=S, workers=W, pipeline=..., progress=...)`.
- Where: after the map index is refreshed and matching has run (the map step reads the fresh index; the
  matches changelist needs matches), i.e. after `_api()`, and in place of the plain pipeline step: pass the
  next night's chain as `pipeline` (set `county.day = 2` first, then a callable doing what `_pipeline()` does:
  `pipeline_run_inline(job="nightly", trigger="manual")` with Celery eager), so `pipeline_seconds` is measured
  under load. If the pipeline step must stay unloaded, run it once bare and once more under load.
- Merge `report["figures"]` into `figures` (and LOAD_TARGETS / LOAD_UNITS into TARGETS / UNITS, so the table
  shows them) and store `report["detail"]` under the JSON's "load" key.
- What it needs from the county: a PostGIS database (the scratch or --in-place one: gunicorn is pointed at
  whichever database this process is connected to), Redis (`CELERY_BROKER_URL`; production settings refuse to
  start without a Redis cache), scored leads with located properties (map viewports and filter values come
  from them), matches, buyers and ingestion runs (the changelists' search terms come from them; a kind without
  data still loads, without search terms), and the role groups (created if missing). The broker accounts
  (`load-broker-NNN`, Admin role) are deleted at the end.
- Progress: `progress(event)` gets {"phase", "requests", "errors", "rps", "web_worker_peak_mb",
  "generator_rss_mb"} every 5 s from
  the load process (a reader thread): update a tqdm bar or print it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .load_report import load_report
from .load_runner import LoadPlan, load_run
from .load_setup import load_brokers_delete, load_brokers_ensure, load_mix_build
from .load_web import GunicornServer

SINGLE_SECONDS_MAX = 120.0  # the one-client run of a soak need not last half an hour


def load_benchmark(
    *,
    clients: int,
    seconds: float,
    workers: int = 3,
    pipeline: Callable[[], Any] | None = None,
    single_seconds: float | None = None,
    weights: dict[str, float] | None = None,
    think_seconds: float = 0.0,
    sweep: bool = True,
    progress: Callable[[dict], None] | None = None,
    out: Callable[[str], None] = print,
) -> dict[str, Any]:
    """Run the three loads described above against a fresh gunicorn; returns {"figures", "detail"}."""
    if clients < 1 or seconds <= 0:
        raise ValueError("clients must be at least 1 and seconds positive")
    single_seconds = single_seconds or min(seconds, SINGLE_SECONDS_MAX)
    brokers = load_brokers_ensure(count=clients)
    try:
        with GunicornServer(workers=workers) as web:
            plan = LoadPlan(
                base_url=web.base_url,
                brokers=brokers,
                mix=load_mix_build(weights=weights),
                web_master_pid=web.master_pid,
                think_seconds=think_seconds,
            )
            out(f"  load: gunicorn ({workers} workers, production settings) at {web.base_url}")
            out(f"  load: 1 client for {single_seconds:g} s{' after a sweep of every variant' if sweep else ''}")
            single = load_run(plan.with_clients(1, sweep=sweep), seconds=single_seconds, progress=progress)
            out(f"  load: {clients} clients for {seconds:g} s")
            crowd = load_run(plan.with_clients(clients), seconds=seconds, progress=progress)
            during = None
            if pipeline is not None:
                out(f"  load: {clients} clients while the nightly chain runs")
                during = load_run(plan.with_clients(clients), during=pipeline, progress=progress)
            server = {"workers": workers, "worker_class": "sync", "timeout_seconds": web.timeout,
                      "settings": "production", "think_seconds": think_seconds}  # fmt: skip
    finally:
        load_brokers_delete()
    return load_report(single=single, crowd=crowd, during=during, server=server)
