"""The measured run: each figure beside its physical baseline, on the synthetic county.

Steps, in order (each timed, with its CPU seconds and the Python process's peak resident memory):
generate -> ingest (every layer through the real DataSource ingest service, over HTTP) -> COPY baseline ->
unchanged re-ingest -> score (leads created) -> rescore unchanged -> rescore after a profile change (every
lead rewritten) -> bare UPDATE baseline -> match -> map bbox endpoint -> lead list API -> nightly pipeline on
the next day's data (eager). The JSON file is rewritten after every step.

Memory is this Python process's (VmHWM from /proc/self/status, reset per step through /proc/self/clear_refs
where the kernel allows, else ru_maxrss); PostgreSQL's backends are other processes and are not counted.
"""

from __future__ import annotations

import io
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from tqdm import tqdm

from .county import MAPPINGS, County, buyers, viewports
from .scratch import BENCHMARK_TAG, SOURCE_PREFIX
from .server import ArcGISCountyServer

# figure -> (target, "min" when the value must be at least the target, "max" when at most)
TARGETS: dict[str, tuple[float, str]] = {
    "ingest_vs_copy": (0.25, "min"),
    "reingest_speedup": (3, "min"),
    "rescore_vs_update": (3, "max"),
    "match_seconds": (60, "max"),
    "pipeline_seconds": (300, "max"),
    "map_p95_ms": (200, "max"),
    "map_max_kb": (500, "max"),
    "api_p95_ms": (100, "max"),
    "api_queries": (None, "constant"),
    "peak_rss_mb": (2048, "max"),
}
UNITS = {"ingest_vs_copy": "x", "reingest_speedup": "x", "rescore_vs_update": "x", "match_seconds": "s",
         "pipeline_seconds": "s", "map_p95_ms": "ms", "map_max_kb": "KB", "api_p95_ms": "ms", "api_queries": "",
         "peak_rss_mb": "MB"}  # fmt: skip
PARCEL_TABLES = ("properties_property", "properties_valuation", "properties_propertysource")


# --- memory and machine -------------------------------------------------------------------------
def _status_kb(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False when not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    kb = _status_kb("VmHWM")
    if kb is None:
        kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kb / 1024, 1)


def _meminfo_mb() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except OSError:
        return None
    return None


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _git(*args: str) -> str:
    try:
        command = ["git", *args]
        out = subprocess.run(command, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=10, check=True)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return ""
    return out.stdout.strip()


def machine_info() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        pg = cursor.fetchone()[0]
        cursor.execute("SELECT postgis_lib_version()")
        postgis = cursor.fetchone()[0]
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    import django

    return {
        "cores": os.cpu_count(),
        "cpu": _cpu_model(),
        "ram_mb": _meminfo_mb(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "django": django.get_version(),
        "postgresql": pg,
        "postgis": postgis,
        "shared_buffers": shared_buffers,
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": bool(_git("status", "--porcelain", "--untracked-files=no")),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
    }


# --- steps --------------------------------------------------------------------------------------
@dataclass
class Step:
    name: str
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu_seconds, "peak_rss_mb": self.peak_rss_mb, **self.info}


def p95(values: list[float]) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=20, method="inclusive")[18]


@dataclass
class Benchmark:
    parcels: int
    buyers: int
    out: Callable[[str], None] = print
    progress: bool = True
    map_requests: int = 30  # per zoom kind (county, city)
    api_requests: int = 30
    checkpoint: Callable[[dict], None] | None = None  # called with the partial result after each step
    steps: list[Step] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, Any] = field(default_factory=dict)

    # --- helpers ---------------------------------------------------------------------------
    @contextmanager
    def step(self, name: str) -> Iterator[Step]:
        step = Step(name)
        reset_peak_rss()
        began, cpu = time.perf_counter(), time.process_time()
        try:
            yield step
        except BaseException as exc:  # stopped (SIGTERM, Ctrl-C) or failed: keep what this step measured
            step.info["interrupted"] = f"{type(exc).__name__}: {exc}"[:200]
            self._record(step, began, cpu)
            raise
        self._record(step, began, cpu)

    def _record(self, step: Step, began: float, cpu: float) -> None:
        name = step.name
        step.seconds = round(time.perf_counter() - began, 3)
        step.cpu_seconds = round(time.process_time() - cpu, 3)
        step.peak_rss_mb = peak_rss_mb()
        self.steps.append(step)
        extra = " ".join(f"{k}={v}" for k, v in step.info.items() if not isinstance(v, dict | list))
        self.out(f"  {name}: {step.seconds:.2f}s (cpu {step.cpu_seconds:.1f}s, rss {step.peak_rss_mb:.0f} MB) {extra}")
        self._save()

    def _save(self) -> None:
        """Hand the partial result to the checkpoint (after each step, and once a phase's figures are set)."""
        if self.checkpoint is not None:
            self.checkpoint(self.result(complete=False))

    def bar(self, total: int | None, desc: str, unit: str) -> tqdm:
        return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, disable=not self.progress, leave=False)

    def seconds(self, name: str) -> float:
        return next(s.seconds for s in self.steps if s.name == name)

    @staticmethod
    def analyze() -> None:
        """Planner statistics, as autovacuum would have them on a live database (not timed)."""
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

    # --- the run ---------------------------------------------------------------------------
    def run(self) -> dict[str, Any]:
        import logging

        for name in ("httpx", "celery", "dealfinder.pipeline"):  # one line per page / task otherwise
            logging.getLogger(name).setLevel(logging.WARNING)
        self.machine = machine_info()
        self.server_info: dict = {}
        county = County(self.parcels, today=timezone.localdate())
        with self.step("generate") as step:
            with self.bar(self.parcels, "generate county", " parcels") as bar:
                county.generate(progress=bar.update)
            self._create_buyers()
            step.info = {
                "parcels": self.parcels,
                "distress_records": county.distress_records,
                **{name: len(ids) for name, ids in county.members.items()},
                "buyers": self.buyers,
            }
        with ArcGISCountyServer(county) as server:
            sources = self._create_sources(county, server)
            first = self._ingest_all("ingest", sources, county)
            self.analyze()
            self._copy_baseline(first, sources[0])
            self.figures["ingest_vs_copy"] = round(
                first["records_per_second"] / self.counts["copy_records_per_second"], 3
            )
            again = self._ingest_all("reingest", sources, county)
            self.figures["reingest_speedup"] = round(first["seconds"] / again["seconds"], 2)
            self._score()
            self._save()
            self._match()
            self._save()
            self.analyze()
            self._map()
            self._save()
            self._api()
            self._save()
            county.day = 2  # the next night: a few parcels and listings changed
            self._pipeline()
            self.server_info = {"requests": server.requests, "busy_seconds": round(server.busy_seconds, 2)}
        self._final_counts()
        return self.result(complete=True)

    def result(self, *, complete: bool) -> dict[str, Any]:
        """Everything measured so far: figures, targets, counts, steps, machine (load average now)."""
        if self.steps:
            self.figures["peak_rss_mb"] = max(s.peak_rss_mb for s in self.steps)
        machine = {**self.machine, "load_average_end": [round(x, 2) for x in os.getloadavg()], "uptime": _uptime()}
        return {
            "complete": complete,
            "date": timezone.now().isoformat(timespec="seconds"),
            "parameters": {
                "parcels": self.parcels,
                "buyers": self.buyers,
                "database": connection.settings_dict["NAME"],
            },
            "figures": self.figures,
            **self.figures,
            "targets": {k: {"target": t, "kind": kind} for k, (t, kind) in TARGETS.items()},
            "met": {k: met(k, self.figures.get(k), self.figures) for k in TARGETS},
            "counts": self.counts,
            "steps": {s.name: s.as_dict() for s in self.steps},
            "arcgis_server": self.server_info,
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
            ],
        }

    # --- data -----------------------------------------------------------------------------
    def _create_buyers(self) -> None:
        from buyers.models import Buyer

        with self.bar(self.buyers, "generate buyers", " buyers") as bar:
            batch = []
            for data in buyers(self.buyers):
                batch.append(Buyer(**data))
                if len(batch) == 500:
                    Buyer.objects.bulk_create(batch)
                    bar.update(len(batch))
                    batch = []
            Buyer.objects.bulk_create(batch)
            bar.update(len(batch))

    def _create_sources(self, county: County, server: ArcGISCountyServer) -> list:
        from properties.models import DataSource

        sources = []
        for layer in county.layers:
            source, _ = DataSource.objects.update_or_create(
                slug=f"{SOURCE_PREFIX}{layer.dataset.replace('_', '-')}",
                defaults={
                    "name": f"Benchmark county: {layer.name}",
                    "kind": DataSource.Kind.ARCGIS,
                    "dataset": layer.dataset,
                    "url": server.url(layer),
                    "field_mapping": MAPPINGS[layer.dataset],
                    "parcel_format": "orange_fl",
                    "county": "Orange",
                    "enabled": True,
                },
            )
            sources.append(source)
        return sources

    # --- ingest ---------------------------------------------------------------------------
    def _ingest_all(self, name: str, sources: list, county: County) -> dict:
        from properties.services import datasource_ingest

        per_source = {}
        total_records = self.parcels + county.distress_records
        with self.step(name) as step, self.bar(total_records, name, " rec") as bar:
            for source in sources:
                began = time.perf_counter()
                run = datasource_ingest(source_id=source.pk, progress=bar.update)
                seconds = time.perf_counter() - began
                if run.status != "success":
                    raise RuntimeError(f"{name} of {source.slug} ended {run.status}: {run.message} {run.errors[:3]}")
                per_source[source.dataset] = {
                    "seconds": round(seconds, 3),
                    "records": run.processed,
                    "records_per_second": round(run.processed / seconds, 1),
                    "inserted": run.inserted,
                    "updated": run.updated,
                    "unchanged": run.unchanged,
                    "failed": run.failed,
                }
            records = sum(s["records"] for s in per_source.values())
            step.info = {"records": records, "sources": per_source}
        seconds = self.seconds(name)
        step.info["records_per_second"] = round(records / seconds, 1)
        parcels = per_source["parcels"]
        self.counts[f"{name}_records"] = records
        self.counts[f"{name}_records_per_second"] = step.info["records_per_second"]
        return {"seconds": seconds, "records": records, "records_per_second": parcels["records_per_second"],
                "parcels_seconds": parcels["seconds"]}  # fmt: skip

    def _copy_baseline(self, first: dict, parcels_source) -> None:
        """COPY the rows the parcels ingest wrote into fresh copies of their tables (same indexes)."""
        with self.step("copy_baseline") as step:
            timings, rows = {}, {}
            connection.ensure_connection()
            raw = connection.connection  # the psycopg connection, in autocommit mode like Django's
            for table in PARCEL_TABLES:
                where = f" WHERE source_id = {int(parcels_source.pk)}" if table.endswith("propertysource") else ""
                buffer = io.BytesIO()
                with raw.cursor() as cursor:
                    with cursor.copy(f"COPY (SELECT * FROM {table}{where}) TO STDOUT") as copy:  # noqa: S608
                        for data in copy:
                            buffer.write(data)
                    copy_table = f"benchmark_copy_{table}"
                    cursor.execute(f"DROP TABLE IF EXISTS {copy_table}")
                    cursor.execute(f"CREATE TABLE {copy_table} (LIKE {table} INCLUDING ALL)")
                payload = buffer.getvalue()
                began = time.perf_counter()
                with raw.cursor() as cursor:
                    with cursor.copy(f"COPY {copy_table} FROM STDIN") as copy:
                        for start in range(0, len(payload), 1 << 20):
                            copy.write(payload[start : start + (1 << 20)])
                    rows[table] = cursor.rowcount
                timings[table] = time.perf_counter() - began
                with raw.cursor() as cursor:
                    cursor.execute(f"DROP TABLE {copy_table}")
            copy_seconds = sum(timings.values())
            parcels = rows["properties_property"]
            step.info = {
                "rows": rows,
                "copy_seconds": {k: round(v, 3) for k, v in timings.items()},
                "records_per_second": round(parcels / copy_seconds, 1),
            }
        self.counts["copy_records_per_second"] = parcels / copy_seconds
        self.counts["copy_property_only_records_per_second"] = round(parcels / timings["properties_property"], 1)
        self.counts["ingest_parcels_records_per_second"] = first["records_per_second"]
        self.figures["ingest_vs_copy_property_only"] = round(
            first["records_per_second"] / self.counts["copy_property_only_records_per_second"], 3
        )

    # --- score ----------------------------------------------------------------------------
    def _score(self) -> None:
        from dealfinder.ops.scoring import leads_score
        from leads.grid import map_grid_refresh
        from leads.models import Lead
        from leads.services import scoringprofile_get_active

        total = Lead.objects.count() or None
        for name in ("score", "rescore_unchanged"):
            with self.step(name) as step, self.bar(total or self.parcels, name, " leads") as bar:
                summary = leads_score(progress=bar.update)
                step.info = {"scored": summary.scored, "created": summary.created, "changed": summary.changed,
                             "history_written": summary.history_written, "tiers": summary.tiers}  # fmt: skip
        self.analyze()
        profile = scoringprofile_get_active()
        profile.assignment_fee += 1000  # every lead with a positive MAO changes: the rescore rewrites them all
        profile.save()
        with self.step("rescore") as step, self.bar(self.parcels, "rescore", " leads") as bar:
            summary = leads_score(progress=bar.update)
            step.info = {"scored": summary.scored, "changed": summary.changed,
                         "history_written": summary.history_written}  # fmt: skip
        with self.step("update_baseline") as step, connection.cursor() as cursor:
            cursor.execute(f"UPDATE {Lead._meta.db_table} SET updated_at = %s", [timezone.now()])  # noqa: S608
            step.info = {"rows": cursor.rowcount}
        # What follows scoring in the product (the nightly "map" step, `manage.py score`): the map index, which
        # the map step below reads.
        with self.step("map_index") as step:
            grid = map_grid_refresh()
            step.info = {"points": grid.points, "cells": grid.cells}
        self.figures["map_index_seconds"] = round(self.seconds("map_index"), 2)
        self.counts["leads"] = summary.scored
        self.counts["rescore_changed"] = summary.changed
        self.figures["rescore_vs_update"] = round(self.seconds("rescore") / self.seconds("update_baseline"), 2)
        self.figures["rescore_unchanged_vs_update"] = round(
            self.seconds("rescore_unchanged") / self.seconds("update_baseline"), 2
        )

    # --- match ----------------------------------------------------------------------------
    def _match(self) -> None:
        from buyers.services import matches_refresh_all

        with self.step("match") as step, self.bar(self.buyers, "match", " buyers") as bar:
            done = [0]

            def progress(finished, total):
                bar.update(finished - done[0])
                done[0] = finished

            summary = matches_refresh_all(progress=progress)
            step.info = {k: getattr(summary, k) for k in ("buyers", "candidates", "kept", "created")}
        self.figures["match_seconds"] = self.seconds("match")
        self.counts["matches"] = summary.kept

    # --- pipeline -------------------------------------------------------------------------
    def _pipeline(self) -> None:
        from dealfinder.celery import app as celery_app
        from dealfinder.ops.tasks import pipeline_run_inline

        eager = celery_app.conf.task_always_eager
        celery_app.conf.task_always_eager = True
        try:
            with self.step("pipeline") as step:
                try:
                    pipeline_run_inline(job="nightly", trigger="manual")
                finally:
                    try:
                        step.info = self._pipeline_info()
                    except Exception:  # the connection died with the interrupted step: read on a new one
                        connection.close()
                        step.info = self._pipeline_info()
        finally:
            celery_app.conf.task_always_eager = eager
        self.figures["pipeline_seconds"] = self.seconds("pipeline")
        self.counts["pipeline_status"] = step.info["status"]

    @staticmethod
    def _pipeline_info() -> dict:
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
                    "seconds": round(((s.finished_at or now) - s.started_at).total_seconds(), 2)
                    if s.started_at
                    else None,
                    "counts": s.counts,
                }
                for s in run.steps.order_by("order")
            },
        }

    # --- map and API ----------------------------------------------------------------------
    def _client(self) -> Client:
        from django.contrib.auth import get_user_model

        user, _ = get_user_model().objects.update_or_create(
            username=f"{BENCHMARK_TAG}-user", defaults={"is_staff": True, "is_superuser": True, "is_active": True}
        )
        client = Client()
        client.force_login(user)
        return client

    def _map(self) -> None:
        client = self._client()
        url = "/map/leads.geojson"
        samples: dict[str, list[tuple[float, int, int]]] = {"county": [], "city": []}
        with self.step("map") as step, self.bar(2 * self.map_requests, "map", " req") as bar:
            client.get(url, {"in_bbox": "-81.40,28.52,-81.38,28.54", "zoom": 14})  # warm-up, not counted
            for kind in samples:
                for bbox, zoom in viewports(kind, self.map_requests):
                    began = time.perf_counter()
                    response = client.get(url, {"in_bbox": ",".join(map(str, bbox)), "zoom": zoom})
                    elapsed = (time.perf_counter() - began) * 1000
                    if response.status_code != 200:
                        raise RuntimeError(f"map answered {response.status_code}: {response.content[:200]!r}")
                    samples[kind].append((elapsed, len(response.content), response.json()["count"]))
                    bar.update()
            step.info = {
                kind: {
                    "p95_ms": round(p95([s[0] for s in rows]), 1),
                    "median_ms": round(statistics.median(s[0] for s in rows), 1),
                    "max_kb": round(max(s[1] for s in rows) / 1024, 1),
                    "max_leads": max(s[2] for s in rows),
                }
                for kind, rows in samples.items()
            }
        everything = samples["county"] + samples["city"]
        self.figures["map_p95_ms"] = round(p95([s[0] for s in everything]), 1)
        self.figures["map_max_kb"] = round(max(s[1] for s in everything) / 1024, 1)

    def _api(self) -> None:
        client = self._client()
        queries, latencies = [], []
        variants = [{}, {"ordering": "-score"}, {"tier": "A"}, {"ordering": "-updated_at"}]
        with self.step("api") as step, self.bar(self.api_requests, "api", " req") as bar:
            client.get("/api/v1/leads/")  # warm-up, not counted
            next_url: str | None = None
            for n in range(self.api_requests):
                params = variants[n % len(variants)]
                with CaptureQueriesContext(connection) as captured:
                    began = time.perf_counter()
                    response = client.get(next_url) if next_url else client.get("/api/v1/leads/", params)
                    latencies.append((time.perf_counter() - began) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"API answered {response.status_code}: {response.content[:200]!r}")
                queries.append(len(captured.captured_queries))
                body = response.json()
                next_url = body.get("next") if n % 3 != 2 else None  # follow a cursor twice, then a new query
                bar.update()
            step.info = {
                "requests": len(latencies),
                "queries": sorted(set(queries)),
                "median_ms": round(statistics.median(latencies), 1),
                "page_size": len(body["results"]),
            }
        self.figures["api_p95_ms"] = round(p95(latencies), 1)
        self.figures["api_queries"] = max(queries)
        self.figures["api_queries_constant"] = min(queries) == max(queries)

    def _final_counts(self) -> None:
        from buyers.models import Buyer, PropertyMatch
        from leads.models import Lead
        from properties import models as m

        self.counts.update(
            {
                "properties": m.Property.objects.count(),
                "valuations": m.Valuation.objects.count(),
                "tax_sales": m.TaxSale.objects.count(),
                "foreclosures": m.Foreclosure.objects.count(),
                "code_violations": m.CodeViolation.objects.count(),
                "listings": m.Listing.objects.count(),
                "price_changes": m.PriceChange.objects.count(),
                "leads": Lead.objects.count(),
                "leads_by_tier": {
                    row["tier"]: row["n"] for row in Lead.objects.order_by().values("tier").annotate(n=Count("id"))
                },
                "buyers": Buyer.objects.count(),
                "matches": PropertyMatch.objects.count(),
            }
        )


def _uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()  # noqa: S607
    except (OSError, subprocess.SubprocessError):
        return ""


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
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
